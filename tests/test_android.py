"""The generated Android project: its pure-Java core compiled with javac --release 8 and run on the JVM against
the Python reference on the same images and the same real model outputs; the Android-facing sources compiled
against API 23's android.jar; the project's structure; and the generator's bad-input answers."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from lite_tools import javacheck
from lite_tools.codegen import project as codegen
from lite_tools.config import Task, read_config_file, resolve
from lite_tools.reference import synthetic_images
from conftest import run_cli
from javatools import app_sources, balanced, compile_stubs, javac, write_r_class

PRESET_MODELS = {"pulc-person-exists": "PULC_person_exists", "pulc-safety-helmet": "PULC_safety_helmet",
                 "pulc-person-exists-fpr1e-3": "PULC_person_exists", "pulc-safety-helmet-fpr1e-4": "PULC_safety_helmet",
                 "imagenet-cls": "PPLCNet_x0_25", "pphgnetv2-cls": "PPHGNetV2_B0",
                 "ssd-mobilenet-300": "SSD_MobileNetV1_300", "custom-bgr-nearest": "PPLCNet_x0_25",
                 "paddledetection-infer-cfg": "SSD_MobileNetV1_300_ppdet"}


def config_for(name: str):
    """The presets, plus a config no preset has (BGR, antialiased nearest, short side 250, top-3) and a
    PaddleDetection export's own infer_cfg.yml (three inputs, boxes in source pixels)."""
    if name == "paddledetection-infer-cfg":
        from lite_tools import zoo
        return zoo.config_for("SSD_MobileNetV1_300_ppdet")
    if name == "custom-bgr-nearest":
        from lite_tools.config import ChannelOrder, Interp, Resize, ResizeMode
        return resolve(preset="imagenet-cls").replace(
            channel_order=ChannelOrder.BGR, resize=Resize(ResizeMode.SHORT, short=250, interp=Interp.NEAREST,
                                                          antialias=True), topk=3, source="custom BGR nearest")
    return resolve(preset=name)
PACKAGE = "com.example.litetest"
CORE = "app/src/main/java/com/litetools/core"
# The Java core repeats the reference's float64 operations in the same order: observed bit-identical. The bound
# is the (1e-5 after normalisation, about 1/1000 of a grey level).
PRE_ATOL = 1e-5


@pytest.fixture(scope="session")
def projects(tmp_path_factory, zoo_dir):
    """preset -> (project dir, DeployConfig, model dir), each generated once per session."""
    root = tmp_path_factory.mktemp("android")
    made = {}
    for preset, model in PRESET_MODELS.items():
        out = root / preset
        codegen.generate("android", zoo_dir(model), config_for(preset), out, app_name=f"Test {preset}",
                         package=PACKAGE)
        made[preset] = (out, config_for(preset), zoo_dir(model))
    return made


def _images():
    imgs = synthetic_images(5, seed=77)
    imgs.append(np.random.RandomState(1).randint(0, 256, (231, 1103, 3)).astype(np.uint8))  # very wide
    imgs.append(np.random.RandomState(2).randint(0, 256, (257, 256, 3)).astype(np.uint8))  # odd crop offsets
    return [(f"img{i}", img) for i, img in enumerate(imgs)]


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_java_core_matches_python_reference(projects, preset):
    project, config, model = projects[preset]
    result = javacheck.check(project / CORE, config, model, _images())
    assert result.ok, result.mismatches
    assert result.images == 7 and result.max_input_abs <= PRE_ATOL
    if config.task == Task.SSD:
        assert result.empty_nms_ok is True
        assert any(result.java_results), "no image produced a box: the SSD comparison would be vacuous"


def test_java_check_catches_a_broken_core(projects, tmp_path):
    """Swap the axes in the Java SSD postprocessor (the classic demo bug): the check must fail."""
    project, config, model = projects["ssd-mobilenet-300"]
    broken = tmp_path / "core"
    shutil.copytree(project / CORE, broken)
    ssd = broken / "SsdPostprocessor.java"
    ssd.write_text(ssd.read_text().replace("clip(data[o + 2] * sx, w)", "clip(data[o + 2] * sy, w)"))
    result = javacheck.check(broken, config, model, _images())
    assert any(result.java_results), "no boxes at all: the mutation could not show"
    assert not result.ok and any("box of class" in m or "results from Java" in m for m in result.mismatches)


def test_ssd_boxes_scale_x_by_width_on_non_square_images(projects, tmp_path):
    """The widely copied demo scales x by the height: one hand-made row on a 640x360 image pins the axes."""
    project, _, _ = projects["ssd-mobilenet-300"]
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    javacheck.write_output(jobs / "output-000.bin", (640, 360),
                           np.array([[15, 0.9, 0.25, 0.5, 0.75, 1.0]], np.float32))
    javacheck.run_core(project / CORE, jobs, tmp_path / "classes")
    score = float(np.float32(0.9))  # the tensor is float32
    assert javacheck.read_post(jobs / "post-000.txt") == [[15.0, score, 160.0, 180.0, 480.0, 360.0]]


@pytest.mark.parametrize("preset", ["pulc-person-exists", "ssd-mobilenet-300", "paddledetection-infer-cfg"])
def test_android_sources_compile_against_api_23(projects, android_jar, preset, tmp_path):
    project, _, _ = projects[preset]
    stub_classes = compile_stubs(android_jar, tmp_path / "stubs")
    r_java = write_r_class(project, PACKAGE, tmp_path / "gen")
    javac(app_sources(project) + [r_java], tmp_path / "classes", classpath=[android_jar, stub_classes])
    # The stubs are for compiling only: they never reach a generated project.
    assert not list(project.rglob("com/baidu"))


def test_gradle_files_parse_with_groovy(projects, groovy_parse, tmp_path):
    project, _, _ = projects["ssd-mobilenet-300"]
    gradle = sorted(project.rglob("*.gradle"))
    assert [p.relative_to(project).as_posix() for p in gradle] == [
        "app/build.gradle", "app/paddle_lite.gradle", "build.gradle", "settings.gradle"]
    ok, message = groovy_parse(*gradle)
    assert ok, message
    broken = tmp_path / "broken.gradle"  # the parser really checks: a missing brace fails with its line
    broken.write_text((project / "app/build.gradle").read_text().replace("minSdk 23\n", "minSdk 23\n    }\n", 1))
    ok, message = groovy_parse(broken)
    assert not ok and "broken.gradle" in message


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_project_structure(projects, preset):
    project, config, _ = projects[preset]
    for gradle in ("settings.gradle", "build.gradle", "app/build.gradle", "app/paddle_lite.gradle"):
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


def test_every_preset_is_generated_and_checked():
    from lite_tools.config import PRESETS

    assert set(PRESETS) <= set(PRESET_MODELS)


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


def test_java_check_covers_paddledetection_extra_inputs(projects, tmp_path):
    """scale_factor is (H / h, W / w): swapping it in the Java core must be caught (it would misplace boxes)."""
    project, config, model = projects["paddledetection-infer-cfg"]
    assert javacheck.check(project / CORE, config, model, _images()[:3]).ok
    broken = tmp_path / "core"
    shutil.copytree(project / CORE, broken)
    pre = broken / "Preprocessor.java"
    original = "return new float[] {(float) height / sourceHeight, (float) width / sourceWidth};"
    assert original in pre.read_text()
    pre.write_text(pre.read_text().replace(
        original, "return new float[] {(float) width / sourceWidth, (float) height / sourceHeight};"))
    result = javacheck.check(broken, config, model, _images()[:3])
    assert not result.ok and any("extra inputs" in m for m in result.mismatches)
