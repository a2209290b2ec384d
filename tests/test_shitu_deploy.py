"""`lite-tools shitu deploy` on the zoo's mainbody detector and PP-LCNetV2 ShiTu recogniser with a generated
gallery (tests/shitu_data.py): READY through the real CLI with the
paths it used printed, every gate passing and the report holding each stage; a perturbed detector and a perturbed
rec model (the Lite side built from copies with one conv filter scaled) caught by their own gates and named; a
gallery from another rec model refused before any engine runs, nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import refused, run_cli, scale_first_conv, tree_digest
from lite_tools.shitu import deploy as shitu_deploy
from lite_tools.shitu import gallery

import shitu_data
from test_shitu_pipeline import DET_MODEL, REC_MODEL


@pytest.fixture(scope="module")
def general(paddleclas_wheel):
    return paddleclas_wheel / "deploy" / "configs" / "inference_general.yaml"


@pytest.fixture(scope="module")
def setup(zoo_dir, general, tmp_path_factory):
    root = tmp_path_factory.mktemp("shitu-deploy")
    data = shitu_data.make(root, queries=1)
    det, rec = zoo_dir(DET_MODEL), zoo_dir(REC_MODEL)
    gallery.build(data.data_file, rec, gallery.rec_config(general), root / "index", image_root=data.image_root)
    # The query for the gates: a perturbed copy of a gallery image (tests/shitu_data.py), so recognition means
    # something even with deterministic weights.
    one = root / "one"
    one.mkdir()
    query = Path(data.queries[0])
    shutil.copy(query, one / query.name)
    return {"root": root, "data": data, "det": det, "rec": rec, "gallery": root / "index", "one": one,
            "query": query.name}


def _scaled_copy(src: Path, dst: Path, factor: float) -> Path:
    """A copy of the export at `src` with its first conv2d filter scaled by `factor` (a re-export gone wrong)."""
    shutil.copytree(src, dst)
    scale_first_conv(dst, factor)
    return dst


def test_shitu_deploy_is_ready_and_reports_every_stage(setup, general, tmp_path):
    out = tmp_path / "app"
    proc = run_cli("shitu", "deploy", "--config", general, "--det", setup["det"], "--rec", setup["rec"],
                   "--gallery", setup["gallery"], "--images", setup["one"], "--out", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"shitu: detector {setup['det']} (--det)" in proc.stderr and "report:" in proc.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] and set(report["gates"]) == {"detector", "recogniser", "search", "end to end", "java core"}
    assert all(g["ok"] for g in report["gates"].values()), report["gates"]
    assert report["gates"]["java core"]["detail"]["compiled_against"] == "android-23.jar"
    assert report["gallery"]["count"] == len(setup["data"].items) and len(report["gallery"]["labels"]) == 4
    assert [im["name"] for im in report["images"]] == [setup["query"]]
    for image in report["images"]:
        assert [r["label"] for r in image["reference"]] == [r["label"] for r in image["lite"]]
        assert image["reference"] and image["crops"][-1]["window"] == [0, 0, *image["size"]]
    assert (out / "opt" / "det.arm.nb").is_file() and (out / "opt" / "rec.arm.nb").is_file()
    # the shipped rec .nb is the one the gallery is bound to (the app's EmbeddingSearcher.requireModel checks it)
    assert hashlib.sha256((out / "opt" / "rec.arm.nb").read_bytes()).hexdigest() == report["gallery"]["nb_sha256"]
    html = (out / "report.html").read_text()
    assert "PP-ShiTu: READY" in html and "Per-stage gates" in html and setup["query"] in html
    assert report["projects"]["rendered"] == ["android"] and (out / "android").is_dir(), report["projects"]


def test_a_perturbed_detector_and_rec_model_are_caught_by_their_own_gates(setup, general, tmp_path):
    """The Lite side of each model built from a copy with its first conv filter scaled by 1.2: the detector gate
    (boxes) and the recogniser gate (embeddings of the reference's crops, independent of the detector) both fail,
    each named; the search gate, which runs on the reference's features, still passes; nothing is rendered."""
    system, det, rec, found = shitu_deploy.resolve_system(general, setup["det"], setup["rec"])
    result = shitu_deploy.deploy(system, det, rec, setup["gallery"], tmp_path / "out", images_dir=setup["one"],
                                 found=found, det_lite_export=_scaled_copy(setup["det"], tmp_path / "det", 1.2),
                                 rec_lite_export=_scaled_copy(setup["rec"], tmp_path / "rec", 1.2))
    assert not result.ok
    assert f"detector gate failed: {setup['query']}: boxes differ" in result.reason, result.reason
    assert f"recogniser gate failed: {setup['query']}: crop" in result.reason and "cosine" in result.reason
    assert result.gates["search"]["ok"] and not result.gates["detector"]["ok"] and not result.gates["recogniser"]["ok"]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["projects"]["rendered"] == [] and not report["ok"]
    assert not (tmp_path / "out" / "android").exists()


def test_a_gallery_from_another_rec_model_is_refused_before_any_engine(setup, general, tmp_path):
    other = _scaled_copy(setup["rec"], tmp_path / "other-rec", 1.01)
    before = tree_digest(setup["gallery"])
    proc = run_cli("shitu", "deploy", "--config", general, "--det", setup["det"], "--rec", other,
                   "--gallery", setup["gallery"], "--out", tmp_path / "out")
    refused(proc, str(setup["gallery"]), "another rec model")
    assert not (tmp_path / "out").exists() and tree_digest(setup["gallery"]) == before
    assert not any(p.name.startswith(".lite-tools-") for p in tmp_path.iterdir())


def test_a_system_config_without_a_detector_is_one_line(zoo_dir, general, tmp_path):
    """PaddleClas runs a config whose Global.det_inference_model_dir is empty (whole image only); shitu deploy
    needs the mainbody detector and says so in one line (exit 2), before printing the paths it found (there is no
    detector path to print: this was a KeyError traceback)."""
    text = general.read_text(encoding="utf-8")
    old = 'det_inference_model_dir: "./models/picodet_PPLCNet_x2_5_mainbody_lite_v1.0_infer"'
    assert old in text
    config = tmp_path / "no_det.yaml"
    config.write_text(text.replace(old, 'det_inference_model_dir: ""'), encoding="utf-8")
    proc = run_cli("shitu", "deploy", "--config", config, "--rec", zoo_dir(REC_MODEL), "--gallery",
                   tmp_path / "gallery", "--out", tmp_path / "out")
    refused(proc, str(config), "has no detector", "needs the mainbody detector")
    assert not (tmp_path / "out").exists() and not any(p.name.startswith(".lite-tools-") for p in tmp_path.iterdir())


def test_the_worst_cosine_reported_includes_nan():
    """A Lite feature of NaNs (or zeros) has a NaN cosine: the recogniser gate fails on it, and the worst cosine the
    report shows must be that NaN (null in report.json), not the 1.0 min() keeps when NaN is its second argument."""
    nan = shitu_deploy._cosine(np.ones(4), np.zeros(4))
    assert nan != nan
    assert np.isnan(shitu_deploy._worst_cosine(1.0, nan)) and np.isnan(shitu_deploy._worst_cosine(nan, 0.5))
    assert shitu_deploy._worst_cosine(0.9995, 0.99) == 0.99 and shitu_deploy._worst_cosine(0.99, 1.0) == 0.99


def test_report_html_escapes_gallery_labels_and_image_names():
    """Labels come from the user's gallery (folder names, list files, an imported "origin unverified" id_map.pkl)
    and names from their files: report.html shows them as text, even when they start with '<' (the shared table
    helper passes a cell that starts with '<' through as markup, for the verdicts)."""
    from lite_tools.shitu import report

    hostile = "<script>alert(1)</script>"
    crop = {"window": [0, 0, 4, 4], "top": hostile, "score": 0.9, "kept": True}
    result = shitu_deploy.ShituDeployResult(
        ok=False, out="out", reason="", forced=False,
        system={"source": hostile, "max_det_results": 5, "threshold": 0.2, "rec_nms_threshold": 0.05,
                "search": {"return_k": 5, "score_thres": 0.5}},
        models={"detector": {"dir": hostile, "found_by": "--det",
                             "manifest": {"targets": {"arm": {"bytes": 10, "sha256": "ab" * 32}}}}},
        gallery={"dir": "g", "count": 1, "dim": 4, "labels": {hostile: 1}, "params_sha256": "cd" * 32,
                 "origin": hostile},
        gates={"search": {"ok": False, "failures": [f"{hostile}: crop [0, 0, 4, 4]"], "detail": {}}},
        images=[{"name": hostile, "size": [4, 4], "detector_ok": True, "detections": [], "crops": [crop],
                 "cosines": [{"window": [0, 0, 4, 4], "cosine": 1.0}], "notes": [hostile],
                 "reference": [{"box": [0, 0, 4, 4], "label": hostile, "score": 0.9, "id": 0}],
                 "lite": [{"box": [0, 0, 4, 4], "label": hostile, "score": 0.9, "id": 0}]}],
        projects={"rendered": [], "note": ""}, artifacts={}, stages={"opt": 1.0})
    page = report.render(result)
    assert "<script>" not in page and page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8, page
    assert "<b class=bad>FAIL</b>" in page  # the verdict markup itself still renders
