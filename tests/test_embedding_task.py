"""The embedding task as a single model: `lite-tools deploy` of the ShiTu rec model (raw features, PaddleClas
inference.yml with NormalizeFeatures) is READY, its Java core's L2-normalised vector equals the reference's, and the
generated app (Predictor's embedding branch) compiles for API 23."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import refused, run_cli
from javatools import app_sources, assert_dexable, compile_stubs, javac, write_r_class
from lite_tools import javacheck
from lite_tools.reference.images import synthetic_images
from lite_tools.reference.postprocess import Embedding
from test_gallery_cli import logits_rec, shitu_rec

PACKAGE = "com.litetools.demo"


@pytest.fixture(scope="module")
def rec(zoo_dir, tmp_path_factory):
    """PPLCNetV2_base_ShiTu with its inference.yml (PPLCNetV2_base's logits until the zoo has it)."""
    return shitu_rec(zoo_dir) or logits_rec(zoo_dir, tmp_path_factory)


@pytest.fixture(scope="module")
def deployed(rec, tmp_path_factory):
    model, cfg, _ = rec
    tmp = tmp_path_factory.mktemp("embedding-deploy")
    images = tmp / "images"
    images.mkdir()
    from PIL import Image
    for i, img in enumerate(synthetic_images(2, seed=21)):
        Image.fromarray(img).save(images / f"{i}.png")
    proc = run_cli("deploy", model, "--config", cfg, "--images", images, "--out", tmp / "out")
    return tmp / "out", images, proc


def test_deploy_embedding_model_is_ready(deployed):
    out, _, proc = deployed
    assert proc.returncode == 0 and "READY" in proc.stdout, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["parity"]["task"] == "embedding" and report["java"]["ok"]
    assert all("embedding cosine" in i["task_detail"] for i in report["parity"]["images"])
    constants = next((out / "android").rglob("DeployConstants.java")).read_text()
    assert 'TASK = "embedding"' in constants


def test_embedding_comparison_catches_a_slip():
    """The comparator deploy's Java check uses (measured: the core and the reference differ by <= 7e-17): a vector
    normalised in float32 (a plausible slip), one value off by 1e-9, or one value short, is a mismatch."""
    rng = np.random.RandomState(0)
    raw = rng.randn(512).astype(np.float32)
    ref = Embedding(tuple((raw.astype(np.float64) / np.linalg.norm(raw.astype(np.float64))).tolist()))
    assert javacheck._compare_embedding([list(ref.vector)], ref) == []
    f32 = (raw / np.sqrt(np.sum(raw * raw))).astype(np.float64)
    assert javacheck._compare_embedding([f32.tolist()], ref)
    off = np.array(ref.vector)
    off[100] += 1e-9
    assert javacheck._compare_embedding([off.tolist()], ref)
    assert javacheck._compare_embedding([list(ref.vector)[:-1]], ref)


def test_embedding_app_compiles_against_api_23(deployed, android_jar, tmp_path):
    out, _, _ = deployed
    project = out / "android"
    stubs = compile_stubs(android_jar, tmp_path / "stubs")
    r_java = write_r_class(project, PACKAGE, tmp_path / "gen")
    javac(app_sources(project) + [r_java, javacheck.HARNESS], tmp_path / "classes", android_jar, classpath=[stubs])
    assert_dexable(tmp_path / "classes")
    assert (project / "app/src/main/java/com/litetools/core/EmbeddingSearcher.java").is_file()


def test_a_classify_config_is_no_gallery_config(rec, tmp_path):
    model, _, _ = rec
    (tmp_path / "imgs" / "a").mkdir(parents=True)
    refused(run_cli("gallery", "build", tmp_path / "imgs", "--rec", model, "--config",
                    write_classify_config(tmp_path), "--out", tmp_path / "G"), "a gallery needs the rec model's")
    assert not (tmp_path / "G").exists()


def write_classify_config(tmp_path):
    from lite_tools.config import resolve, write_json
    path = tmp_path / "cls.json"
    write_json(resolve(preset="imagenet-cls"), path)
    return path
