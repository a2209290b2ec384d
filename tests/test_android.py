"""The generated Android project: its pure-Java core compiled with javac --release 8 and run on the JVM against
the Python reference on the same images and the same real model outputs; the Android-facing sources compiled
against API 23's android.jar; the project's structure; and the generator's bad-input answers."""

from __future__ import annotations

import json
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from lite_tools import zoo
from lite_tools.codegen import android
from lite_tools.config import Task, read_config_file, resolve
from lite_tools.engines import PaddleInferenceEngine
from lite_tools.model import files
from lite_tools.reference import postprocess, preprocess, synthetic_images
from lite_tools.reference.preprocess import Preprocessed
from conftest import REPO, run_cli
from javatools import (HARNESS, STUBS, app_sources, balanced, core_sources, java, javac, write_r_class)

PRESET_MODELS = {"pulc-person-exists": "PULC_person_exists", "pulc-safety-helmet": "PULC_safety_helmet",
                 "imagenet-cls": "PPLCNet_x0_25", "pphgnetv2-cls": "PPHGNetV2_B0",
                 "ssd-mobilenet-300": "SSD_MobileNetV1_300", "custom-bgr-nearest": "PPLCNet_x0_25"}


def config_for(name: str):
    """The presets, plus a config no preset has: BGR, antialiased nearest, short side 250, top-3."""
    if name == "custom-bgr-nearest":
        from lite_tools.config import ChannelOrder, Interp, Resize, ResizeMode
        return resolve(preset="imagenet-cls").replace(
            channel_order=ChannelOrder.BGR, resize=Resize(ResizeMode.SHORT, short=250, interp=Interp.NEAREST,
                                                          antialias=True), topk=3, source="custom BGR nearest")
    return resolve(preset=name)
PACKAGE = "com.example.litetest"
# The Java core repeats the reference's float64 operations in the same order: any difference is a bug. 1e-5 is
# the bound after normalisation (about 1/1000 of a grey level); boxes within 1e-4 source pixels.
PRE_ATOL = 1e-5
BOX_ATOL = 1e-4


@pytest.fixture(scope="session")
def projects(tmp_path_factory, zoo_dir):
    """preset -> (project dir, DeployConfig, model dir), each generated once per session."""
    root = tmp_path_factory.mktemp("android")
    made = {}
    for preset, model in PRESET_MODELS.items():
        out = root / preset
        android.generate(zoo_dir(model), config_for(preset), out, app_name=f"Test {preset}", package=PACKAGE)
        made[preset] = (out, config_for(preset), zoo_dir(model))
    return made


@pytest.fixture(scope="session")
def android_jar():
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_android_jar.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip().splitlines()[-1])


def _write_image(path: Path, rgb: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    argb = (0xFF << 24) | (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    path.write_bytes(struct.pack(">ii", w, h) + argb.astype(">u4").tobytes())


def _write_output(path: Path, source_size, array: np.ndarray) -> None:
    head = struct.pack(">iii", source_size[0], source_size[1], array.ndim) + struct.pack(f">{array.ndim}q", *array.shape)
    path.write_bytes(head + np.ascontiguousarray(array, ">f4").tobytes())


def _read_pre(path: Path):
    data = path.read_bytes()
    geometry = struct.unpack(">6i", data[:24])
    return geometry, np.frombuffer(data[24:], ">f4").astype(np.float32)


def _images():
    imgs = synthetic_images(5, seed=77)
    imgs.append(np.random.RandomState(1).randint(0, 256, (231, 1103, 3)).astype(np.uint8))  # very wide
    imgs.append(np.random.RandomState(2).randint(0, 256, (257, 256, 3)).astype(np.uint8))  # odd crop offsets
    return imgs


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_java_core_matches_python_reference(projects, preset, tmp_path):
    project, config, model = projects[preset]
    classes = tmp_path / "classes"
    javac(core_sources(project) + [HARNESS / "CoreHarness.java"], classes)

    mf = files.locate(model)
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    expected = []
    for i, rgb in enumerate(_images()):
        pre = preprocess(rgb, config)
        outputs = engine.run([pre.tensor])
        _write_image(jobs / f"image-{i:03d}.bin", rgb)
        _write_output(jobs / f"output-{i:03d}.bin", pre.source_size, outputs[0])
        expected.append((pre, postprocess(outputs, config, pre)))
    if config.task == Task.SSD:  # an empty NMS result: a [1, 1] tensor holding -1
        empty = np.array([[-1.0]], np.float32)
        pre = Preprocessed(np.zeros((1, 3, 300, 300), np.float32), (640, 480), (300, 300), (0, 0))
        _write_output(jobs / "output-999.bin", pre.source_size, empty)
    java("CoreHarness", [classes], jobs)

    for i, (pre, results) in enumerate(expected):
        geometry, tensor = _read_pre(jobs / f"pre-{i:03d}.bin")
        _, _, h, w = pre.tensor.shape
        assert geometry == (w, h, *pre.resized_size, *pre.crop_offset)
        assert np.abs(tensor - pre.tensor.ravel()).max() <= PRE_ATOL
        lines = [ln.split("\t") for ln in (jobs / f"post-{i:03d}.txt").read_text().splitlines()]
        assert len(lines) == len(results)
        for line, ref in zip(lines, results):
            assert int(line[0]) == ref.class_id
            assert abs(float(line[1]) - ref.score) <= 1e-9
            if config.task == Task.SSD:
                java_box = np.array([float(v) for v in line[2:]])
                assert np.abs(java_box - [ref.x0, ref.y0, ref.x1, ref.y1]).max() <= BOX_ATOL
    if config.task == Task.SSD:
        assert (jobs / "post-999.txt").read_text() == ""
        assert any(len(r) for _, r in expected), "no image produced a box: the SSD comparison would be vacuous"


def test_ssd_boxes_scale_x_by_width_on_non_square_images(projects, tmp_path):
    """The widely copied demo scales x by the height: one hand-made row on a 640x360 image pins the axes."""
    project, config, _ = projects["ssd-mobilenet-300"]
    classes = tmp_path / "classes"
    javac(core_sources(project) + [HARNESS / "CoreHarness.java"], classes)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    _write_output(jobs / "output-000.bin", (640, 360), np.array([[15, 0.9, 0.25, 0.5, 0.75, 1.0]], np.float32))
    java("CoreHarness", [classes], jobs)
    (line,) = (jobs / "post-000.txt").read_text().splitlines()
    assert [float(v) for v in line.split("\t")[2:]] == [160.0, 180.0, 480.0, 360.0]


@pytest.mark.parametrize("preset", ["pulc-person-exists", "ssd-mobilenet-300"])
def test_android_sources_compile_against_api_23(projects, android_jar, preset, tmp_path):
    project, _, _ = projects[preset]
    stub_classes = tmp_path / "stubs"
    javac(sorted(STUBS.rglob("*.java")), stub_classes)
    r_java = write_r_class(project, PACKAGE, tmp_path / "gen")
    javac(app_sources(project) + [r_java], tmp_path / "classes", classpath=[android_jar, stub_classes])
    # The stubs are for compiling only: they never reach a generated project.
    assert not list(project.rglob("com/baidu"))


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_project_structure(projects, preset):
    project, config, _ = projects[preset]
    for gradle in ("settings.gradle", "build.gradle", "app/build.gradle"):
        text = (project / gradle).read_text()
        assert balanced(text), gradle
    app_gradle = (project / "app/build.gradle").read_text()
    assert f'namespace "{PACKAGE}"' in app_gradle and f'applicationId "{PACKAGE}"' in app_gradle
    assert "minSdk 23" in app_gradle and "'arm64-v8a', 'armeabi-v7a'" in app_gradle
    assert "VERSION_1_8" in app_gradle
    manifest = ET.parse(project / "app/src/main/AndroidManifest.xml").getroot()
    ns = "{http://schemas.android.com/apk/res/android}"
    assert "android.permission.CAMERA" in [p.get(ns + "name") for p in manifest.iter("uses-permission")]
    (activity,) = manifest.iter("activity")
    assert activity.get(ns + "name") == ".MainActivity"
    assert (project / "app/src/main/java" / PACKAGE.replace(".", "/") / "MainActivity.java").is_file()
    for java_file in (project / "app/src/main/java" / PACKAGE.replace(".", "/")).glob("*.java"):
        assert java_file.read_text().startswith(f"package {PACKAGE};")
    ET.parse(project / "app/src/main/res/layout/activity_main.xml")
    ET.parse(project / "app/src/main/res/values/strings.xml")
    assets = project / "app/src/main/assets"
    constants = (project / "app/src/main/java/com/litetools/core/DeployConstants.java").read_text()
    assert 'MODEL_ASSET = "model.nb"' in constants and (assets / "model.nb").is_file()
    assert f'TASK = "{config.task.value}"' in constants
    assert read_config_file(assets / "deploy_config.json") == config
    labels = (assets / "labels.txt").read_text().splitlines()
    assert labels == list(config.labels)
    lite_manifest = json.loads((assets / "lite_manifest.json").read_text())
    assert lite_manifest["targets"]["arm"]["opt_version"] == "v2.13-rc"
    assert "paddleLite.version=v2.13-rc" in (project / "gradle.properties").read_text()
    for path in project.rglob("*"):
        if path.is_file() and path.suffix != ".nb":
            text = path.read_text(encoding="utf-8")
            assert "{{" not in text and "{%" not in text, path
    assert not list(project.rglob("*.jinja"))


def test_bad_inputs_are_one_line_errors(zoo_dir, tmp_path):
    model = zoo_dir("PULC_person_exists")

    def fails(*args, needle):
        proc = run_cli("android", model, *args)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("lite-tools: error:")]
        assert len(errors) == 1 and needle in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr

    fails("--preset", "nope", "--out", tmp_path / "a", needle="unknown preset")
    no_task = tmp_path / "no_task.json"
    cfg = resolve(preset="pulc-person-exists").to_json()
    del cfg["task"]
    no_task.write_text(json.dumps(cfg))
    fails("--config", no_task, "--out", tmp_path / "b", needle="invalid deploy config")
    (tmp_path / "exists").mkdir()
    (tmp_path / "exists" / "mine.txt").write_text("keep")
    fails("--preset", "pulc-person-exists", "--out", tmp_path / "exists", needle="--force")
    assert [p.name for p in (tmp_path / "exists").iterdir()] == ["mine.txt"]
    (tmp_path / "file").write_text("x")
    fails("--preset", "pulc-person-exists", "--out", tmp_path / "file" / "proj", needle="cannot write")
    wrong = resolve(preset="pulc-person-exists").to_json()
    wrong["resize"]["width"] = wrong["resize"]["height"] = 256
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    fails("--config", tmp_path / "wrong.json", "--out", tmp_path / "c", needle="takes 224x224")
    fails("--preset", "pulc-person-exists", "--out", tmp_path / "d", "--package", "Com.bad-name", needle="--package")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists", "file", "no_task.json", "wrong.json"]


def test_force_replaces_an_existing_project(zoo_dir, tmp_path):
    out = tmp_path / "proj"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    proc = run_cli("android", zoo_dir("PULC_person_exists"), "--preset", "pulc-person-exists", "--out", out,
                   "--force")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "stale.txt").exists() and (out / "app/src/main/assets/model.nb").is_file()
