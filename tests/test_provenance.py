"""Weights provenance (lite_tools.provenance) where a user meets it: the zoo's untrained stand-ins say so in `zoo
list`, on the console, in report.json / report.html / parity.html and in the apps generated from them; a trained
entry names its source and shows no notice; a user's own export (no lite-tools-weights.json) claims nothing; a
damaged file reads as unknown, never as trained.

Two real deploys (an untrained PULC model, the trained text-orientation model; Android and Flutter) are shared by
the tests below; the ShiTu pair's projects are conftest's. Independent paths: the trained entries are the two the
issue names (their weights come from lite_tools/pretrained), the notice words are provenance's constants, and the
screens are read as Android and Dart read them (the layout XML, the string resources, the Dart source)."""

from __future__ import annotations

import html
import json
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import run_cli
from javatools import app_sources, assert_dexable, compile_stubs, javac, write_r_class
from lite_tools import provenance, zoo
from lite_tools.deploy import SAMPLES
from lite_tools.pretrained import text_orientation

TRAINED_ENTRIES = {"PULC_text_image_orientation", "picodet_lcnet_x1_0_layout"}  # issue 14's two real models
UNTRAINED, TRAINED = "PULC_person_exists", "PULC_text_image_orientation"
PACKAGE = "com.example.weights"
ANDROID_NS = "{http://schemas.android.com/apk/res/android}"
RES = "app/src/main/res"


@pytest.fixture(scope="module")
def deployed(zoo_dir, tmp_path_factory):
    """"untrained" / "trained" -> (OUT, CompletedProcess) of one real deploy each, Android and Flutter."""
    root = tmp_path_factory.mktemp("provenance")
    runs = {}
    for kind, model, config in (("untrained", UNTRAINED, ["--preset", "pulc-person-exists"]),
                                ("trained", TRAINED, ["--config", zoo_dir(TRAINED) / "inference.yml"])):
        out = root / kind
        proc = run_cli("deploy", zoo_dir(model), *config, "--out", out, "--android", "--flutter", "--name", kind,
                       "--package", PACKAGE, "-q")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        runs[kind] = (out, proc)
    return runs


def _weights_lines(stdout: str) -> list:
    return [ln for ln in stdout.splitlines() if ln.startswith("  weights: ")]


def _strings(android) -> dict:
    return {el.get("name"): el.text for el in ET.parse(android / RES / "values/strings.xml").getroot()}


def _screen(android) -> list:
    """The ids of the main layout's views, top to bottom (nested rows included), with each view's text."""
    root = ET.parse(android / RES / "layout/activity_main.xml").getroot()
    return [(el.get(ANDROID_NS + "id", ""), el.get(ANDROID_NS + "text", ""), el.get(ANDROID_NS + "visibility"))
            for el in root.iter() if el.get(ANDROID_NS + "id")]


def _assert_android_says_untrained(android) -> None:
    strings = _strings(android)
    assert strings["weights_notice"] == provenance.APP_NOTICE
    assert strings["weights_result_prefix"] == provenance.APP_RESULT_PREFIX
    views = _screen(android)
    ids = [v[0] for v in views]
    notice = views[ids.index("@+id/weights_notice")]
    assert notice[1] == "@string/weights_notice" and notice[2] is None  # shown, never hidden
    assert ids.index("@+id/weights_notice") == ids.index("@+id/results") - 1  # right above the results
    activity = next(android.rglob("MainActivity.java")).read_text()
    (shown,) = re.findall(r"results\.setText\((.*)\);", activity)
    assert shown.startswith("getString(R.string.weights_result_prefix) + ")


def _assert_dart_says_untrained(main_dart) -> None:
    source = main_dart.read_text()
    assert f"const String weightsNotice = {json.dumps(provenance.APP_NOTICE)};" in source
    assert f"const String weightsResultPrefix = {json.dumps(provenance.APP_RESULT_PREFIX)};" in source
    assert "child: const Text(weightsNotice," in source and "_lines.insert(0, weightsResultPrefix);" in source


def test_zoo_records_which_weights_are_trained(zoo_dir):
    assert {name for name, entry in zoo.REGISTRY.items() if entry.trained} == TRAINED_ENTRIES
    for name in (UNTRAINED, "PULC_safety_helmet", "SSD_MobileNetV1_300", TRAINED):
        recorded = provenance.read(zoo_dir(name))
        assert recorded.zoo_model == name and recorded.trained is (name in TRAINED_ENTRIES), name
    assert provenance.read(zoo_dir(TRAINED)).source == text_orientation.WEIGHTS_SOURCE
    assert provenance.read(zoo_dir(UNTRAINED)).note == provenance.UNTRAINED_NOTE

    proc = run_cli("zoo", "list")
    assert proc.returncode == 0, proc.stderr
    listed = {ln.split()[0]: ln.split(None, 1)[1] for ln in proc.stdout.splitlines()}
    assert set(listed) == set(zoo.REGISTRY)
    for name, rest in listed.items():
        expected = "trained " if name in TRAINED_ENTRIES else "untrained (deterministic, for tests) "
        assert rest.startswith(expected), (name, rest)


def test_a_user_export_claims_nothing(zoo_dir, tmp_path):
    """No lite-tools-weights.json: nothing said on the console, null in parity.json, no line in parity.html, no
    notice in an app; the zoo's own export, parity-checked the same way, says it once."""
    mine = tmp_path / "mine"
    shutil.copytree(zoo_dir(UNTRAINED), mine)
    (mine / provenance.FILE).unlink()
    assert provenance.read(mine) is None and provenance.record(mine) is None
    assert provenance.app_notice(provenance.record(mine)) == ""
    for model, report in ((mine, tmp_path / "r-mine"), (zoo_dir(UNTRAINED), tmp_path / "r-zoo")):
        proc = run_cli("parity", model, "--preset", "pulc-person-exists", "--images", SAMPLES, "--report", report,
                       "-q")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        weights = json.loads((report / "parity.json").read_text())["weights"]
        page = (report / "parity.html").read_text()
        if model == mine:
            assert weights is None and _weights_lines(proc.stdout) == []
            assert "class=untrained" not in page and "class=weights" not in page
        else:
            assert weights == provenance.read(model).to_json() and weights["trained"] is False
            assert _weights_lines(proc.stdout) == [f"  weights: {provenance.UNTRAINED_NOTE}"]
            assert page.index("class=untrained") > page.index('class="verdict"')
            assert f"reference {provenance.OUTPUTS_LABEL}: top" in page


@pytest.mark.parametrize("content", [b'{"zoo_model": "PULC_text_image_orientation", "trained": tr',
                                     b'{"trained": true, "source": "no zoo_model"}', b"[true]", b"\xff\xfe\x00",
                                     b""])
def test_a_damaged_file_reads_as_unknown_not_trained(tmp_path, content):
    (tmp_path / provenance.FILE).write_bytes(content)
    (tmp_path / "inference.pdmodel").write_bytes(b"")
    for where in (tmp_path, tmp_path / "inference.pdmodel"):  # the folder, or a file in it
        found = provenance.read(where)
        assert found.trained is False and found.readable is False and found.note == provenance.UNREADABLE_NOTE
    record = provenance.record(tmp_path)
    assert provenance.not_predictions(record) and provenance.app_notice(record) == provenance.APP_NOTICE
    assert "class=untrained" in provenance.banner_html(record)


def test_only_a_true_trained_is_trained(tmp_path):
    """"trained": "yes" (or 1) is not the zoo's true: such weights are not presented as predictions."""
    for claimed in ("yes", 1, None):
        (tmp_path / provenance.FILE).write_text(json.dumps({"zoo_model": "x", "trained": claimed}))
        assert provenance.read(tmp_path).trained is False
    provenance.write(tmp_path, "x", True, "a published checkpoint")
    assert provenance.read(tmp_path) == provenance.Provenance("x", True, "a published checkpoint")


def test_untrained_deploy_says_so_everywhere(deployed, zoo_dir):
    out, proc = deployed["untrained"]
    report = json.loads((out / "report.json").read_text())
    assert report["weights"] == provenance.read(zoo_dir(UNTRAINED)).to_json()
    assert report["weights"]["trained"] is False and report["weights"]["zoo_model"] == UNTRAINED
    assert _weights_lines(proc.stdout) == [f"  weights: {provenance.UNTRAINED_NOTE}"]  # once

    page = (out / "report.html").read_text()
    verdict, banner, first_card = (page.index('class="verdict"'), page.index("<p class=untrained"),
                                   page.index('id="img-0"'))
    assert verdict < banner < first_card and html.escape(provenance.UNTRAINED_NOTE) in page
    assert f"<h2>Images: {provenance.OUTPUTS_LABEL} of the reference" in page
    images = len(report["parity"]["images"])
    assert images == 6 and page.count(f"<span class=untrained-tag>{provenance.OUTPUTS_LABEL}</span>") == images
    assert "class=untrained" in (out / "parity/parity.html").read_text()
    assert json.loads((out / "parity/parity.json").read_text())["weights"]["trained"] is False

    _assert_android_says_untrained(out / "android")
    _assert_dart_says_untrained(out / "flutter/lib/main.dart")
    for readme in (out / "android/README.md", out / "flutter/README.md"):
        assert f"**{provenance.APP_NOTICE}.**" in readme.read_text(), readme


def test_trained_deploy_names_its_source_and_shows_no_notice(deployed, zoo_dir):
    out, proc = deployed["trained"]
    report = json.loads((out / "report.json").read_text())
    assert report["weights"]["trained"] is True and report["weights"]["source"] == text_orientation.WEIGHTS_SOURCE
    assert _weights_lines(proc.stdout) == []

    page = (out / "report.html").read_text()
    assert "<p class=untrained" not in page and "<span class=untrained-tag>" not in page
    assert f"<p class=weights>trained weights: {html.escape(text_orientation.WEIGHTS_SOURCE)}.</p>" in page
    assert "<h2>Images: reference, Paddle Lite and the Java core</h2>" in page
    assert "<p class=untrained" not in (out / "parity/parity.html").read_text()

    strings, views = _strings(out / "android"), _screen(out / "android")
    assert "weights_notice" not in strings and "weights_result_prefix" not in strings
    assert "@+id/weights_notice" not in [v[0] for v in views]
    assert "weights_result_prefix" not in next((out / "android").rglob("MainActivity.java")).read_text()
    assert "weightsNotice" not in (out / "flutter/lib/main.dart").read_text()
    for readme in (out / "android/README.md", out / "flutter/README.md"):
        assert provenance.APP_NOTICE not in readme.read_text(), readme


@pytest.mark.parametrize("kind", ["untrained", "trained"])
def test_both_screens_compile_against_api_23_without_lambdas(deployed, android_jar, tmp_path, kind):
    """The activity with and without the notice, against the R class of its own resources (a string or view id
    the layout lacks fails to compile)."""
    android = deployed[kind][0] / "android"
    stubs = compile_stubs(android_jar, tmp_path / "stubs")
    javac(app_sources(android) + [write_r_class(android, PACKAGE, tmp_path / "gen")], tmp_path / "classes",
          android_jar, classpath=[stubs])
    assert_dexable(tmp_path / "classes")


def test_shitu_app_says_its_weights_are_untrained(shitu_projects):
    """The zoo's detector and recogniser are both untrained: the two-model screen and the Dart UI say so."""
    _assert_android_says_untrained(shitu_projects["android"])
    assert "ShituPredictor" in next(shitu_projects["android"].rglob("MainActivity.java")).read_text()
    _assert_dart_says_untrained(shitu_projects["flutter"].parent / "lib/main.dart")


def _shitu_result(weights: dict):
    from lite_tools.shitu.deploy import ShituDeployResult

    image = {"name": "q.jpg", "size": [8, 8], "detector_ok": True, "detections": [], "crops": [], "cosines": [],
             "notes": [], "reference": [{"box": [0, 0, 8, 8], "label": "cup", "score": 0.7}], "lite": []}
    models = {role: {"dir": role, "found_by": "--det", "weights": w,
                     "manifest": {"targets": {"arm": {"bytes": 1, "sha256": "0" * 64}}}} for role, w in weights.items()}
    return ShituDeployResult(ok=True, out="out", reason="", models=models, images=[image],
                             system={"source": "s", "max_det_results": 5, "threshold": 0.2, "rec_nms_threshold": 0.05,
                                     "search": {"return_k": 5, "score_thres": 0.5}},
                             gallery={"dir": "g", "count": 1, "dim": 4, "labels": {"cup": 1}, "params_sha256": "",
                                      "origin": ""},
                             gates={}, projects={"rendered": ["android"], "note": ""}, artifacts={}, stages={})


def test_shitu_report_and_console_say_it_once_per_system(zoo_dir, capsys):
    """report.html: a banner per untrained model by the verdict, results labelled as outputs; the trained
    contrast has neither. The console's note is said once for the two models."""
    from lite_tools import cli
    from lite_tools.shitu import report
    from shared_projects import DET, REC

    untrained = {"detector": provenance.record(zoo_dir(DET)), "recogniser": provenance.record(zoo_dir(REC))}
    page = report.render(_shitu_result(untrained))
    assert page.count("<p class=untrained") == 2 and "detector: " + html.escape(provenance.UNTRAINED_NOTE) in page
    assert page.index("<p class=untrained") < page.index("<h2>System</h2>")
    assert f"result ({provenance.OUTPUTS_LABEL}, Paddle Inference)" in page
    trained = {role: provenance.record(zoo_dir(TRAINED)) for role in untrained}
    page = report.render(_shitu_result(trained))
    assert "<p class=untrained" not in page and "result (Paddle Inference)" in page
    assert page.count("<p class=weights>") == 2

    cli._print_weights(*untrained.values())
    cli._print_weights(*trained.values(), None)
    assert _weights_lines(capsys.readouterr().out) == [f"  weights: {provenance.UNTRAINED_NOTE}"]
