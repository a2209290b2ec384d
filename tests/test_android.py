"""The generated Android project: its pure-Java core compiled against API 23's android.jar and run on the JVM against
the Python reference on the same images and the same real model outputs; all its Java compiled as Java 8 against
API 23 with no lambda, method reference or interface method body in the class files (dx, minSdk 23); the project's
structure; and the generator's bad-input answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from lite_tools import deploy_report, javacheck
from lite_tools.codegen import project as codegen
from lite_tools.config import Task, read_config_file, resolve
from lite_tools.errors import ToolFailure
from lite_tools.reference import synthetic_images
from conftest import run_cli
from javatools import (app_sources, assert_dexable, balanced, compile_stubs, javac, undexable_sites,
                       write_r_class)

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


@pytest.fixture(scope="session")
def stub_classes(android_jar, tmp_path_factory):
    return compile_stubs(android_jar, tmp_path_factory.mktemp("stubs"))


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_java_core_matches_python_reference(projects, android_jar, preset):
    project, config, model = projects[preset]
    result = javacheck.check(project / CORE, config, model, _images())
    assert result.ok, result.mismatches
    # android_jar put API 23's jar where the check looks for it: the core ran as compiled against it.
    assert result.compiled_against == javacheck.AGAINST_ANDROID == "android-23.jar"
    assert "compiled against android-23.jar" in deploy_report.java_section(result.to_json())
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


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_android_sources_compile_against_api_23_without_lambdas(projects, android_jar, stub_classes, preset,
                                                                tmp_path):
    """All the project's Java and the Java-core harness, as dx at minSdk 23 needs them (see javatools)."""
    project, _, _ = projects[preset]
    r_java = write_r_class(project, PACKAGE, tmp_path / "gen")
    javac(app_sources(project) + [r_java, javacheck.HARNESS], tmp_path / "classes", android_jar,
          classpath=[stub_classes])
    assert_dexable(tmp_path / "classes")
    # The stubs are for compiling only: they never reach a generated project.
    assert not list(project.rglob("com/baidu"))


# Java 8 that compiles with `javac --release 8` but not for a minSdk 23 phone dexed by dx.
UNDEXABLE = """
    static final Runnable NOTHING = () -> { };
    static final java.util.Comparator<String> BY_TEXT = String::compareTo;

    interface Named {
        default String name() {
            return "x";
        }
    }
}
"""


def test_lambdas_and_java_apis_above_23_are_caught(projects, android_jar, tmp_path):
    """The checks above can fail: a lambda, a method reference and a default method are found in the class
    files, API 23 does not compile them, and javacheck names the compiler's first error, not "1 error"."""
    project, _, _ = projects["ssd-mobilenet-300"]
    core = tmp_path / "core"
    shutil.copytree(project / CORE, core)
    labels = core / "Labels.java"
    original = labels.read_text()
    labels.write_text(original[:original.rindex("}")] + UNDEXABLE)
    java8 = tmp_path / "java8"
    proc = subprocess.run(["javac", "--release", "8", "-d", str(java8), *map(str, sorted(core.glob("*.java")))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    sites = undexable_sites(java8)
    assert len([s for s in sites if "invokedynamic" in s and "Labels" in s]) == 2, sites
    assert [s for s in sites if "Labels$Named" in s and "name()" in s and "interface method" in s], sites
    with pytest.raises(AssertionError, match="MethodHandles"):  # no java.lang.invoke in API 23
        javac(sorted(core.glob("*.java")), tmp_path / "api23", android_jar)
    # A Java API above 23 (String.join is API 26): fine for Java 8, an error against android-23.jar.
    labels.write_text(original.replace('"class " + classId', 'String.join(" ", "class", "" + classId)'))
    assert javacheck.compile_core(core, tmp_path / "plain", android_jar=None) == javacheck.AGAINST_JAVA8
    with pytest.raises(ToolFailure) as failure:
        javacheck.compile_core(core, tmp_path / "android", android_jar=android_jar)
    message = str(failure.value)
    assert "against android-23.jar failed" in message and "Labels.java:" in message, message
    assert "error: cannot find symbol" in message and "1 error" not in message, message


def test_java_check_finds_the_android_jar(android_jar, tmp_path):
    """$LITE_TOOLS_ANDROID_JAR, else the repository's build/android-sdk, else $LITE_TOOLS_ANDROID_CACHE; none: None."""
    assert javacheck.find_android_jar({}, repo=tmp_path) is None
    assert javacheck.find_android_jar({"LITE_TOOLS_ANDROID_JAR": str(android_jar)}, repo=tmp_path) == android_jar
    assert javacheck.find_android_jar({"LITE_TOOLS_ANDROID_CACHE": str(android_jar.parent)},
                                      repo=tmp_path) == android_jar
    (tmp_path / "build/android-sdk").mkdir(parents=True)
    (tmp_path / "build/android-sdk/android-23.jar").symlink_to(android_jar)
    assert javacheck.find_android_jar({}, repo=tmp_path) == tmp_path / "build/android-sdk/android-23.jar"
    with pytest.raises(ToolFailure, match="LITE_TOOLS_ANDROID_JAR"):
        javacheck.find_android_jar({"LITE_TOOLS_ANDROID_JAR": str(tmp_path / "missing.jar")}, repo=tmp_path)
    assert "java 8 (no android.jar found)" in deploy_report.java_section(
        {"ok": True, "images": 1, "max_input_abs": 0.0, "empty_nms_ok": None, "mismatches": [],
         "compiled_against": javacheck.AGAINST_JAVA8})


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
    wrong["crop"] = [256, 256]
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
