"""The generated projects' own JUnit tests (app/src/test: CoreGoldenTest, and ShituGoldenTest in the PP-ShiTu app)
run with JUnit 4's JUnitCore (Debian's junit4 and libhamcrest-java, scripts/fetch_junit.sh) over the project's Java
core compiled as Java 8 against API 23: they pass on every preset's project and the ShiTu project, and they fail
when the core is made wrong (the mean, a label, a threshold), each in the test that covers it. Gradle itself does
not run here (see the README)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from lite_tools.codegen import golden
from conftest import REPO
from javatools import javac_command
from shared_projects import PRESET_MODELS

CORE = "app/src/main/java/com/litetools/core"
TESTS = "app/src/test/java"
CORE_TESTS = ("inputTensorsMatchTheReference", "resultsMatchTheReference")
SHITU_TESTS = ("recogniserInputsMatchTheReference", "pipelineResultsMatchTheReference")
MAX_DATA_BYTES = 128 * 1024  # per golden file: a few small photos and real outputs, not a data set
# Short-lived JVMs: C1 only and the serial collector halve javac's CPU time (what CI pays for 18 runs).
QUICK_JVM = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]


@pytest.fixture(scope="session")
def junit():
    """JUnit 4.13.2 and Hamcrest's jars, fetched once into build/junit."""
    proc = subprocess.run(["bash", str(REPO / "scripts" / "fetch_junit.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    jars = [Path(p) for p in proc.stdout.strip().split(":")]
    assert all(j.is_file() for j in jars) and any("junit4" in j.name for j in jars), jars
    return jars


@pytest.fixture(scope="session")
def shitu_project(shitu_projects):
    """The PP-ShiTu Android project (conftest's, rendered with both exports: golden data)."""
    return shitu_projects["android"]


@pytest.fixture(scope="session")
def projects(preset_projects):
    return preset_projects


def run_junit(project: Path, work: Path, android_jar: Path, junit: list) -> dict:
    """One javac (the core and the project's tests, Java 8 against API 23) and one JVM running every *Test class
    with JUnitCore in the module folder (app/, as Gradle runs unit tests). {"run": n, "failed": [names], "output"}."""
    tests = sorted((project / TESTS).rglob("*.java"))
    work.mkdir(parents=True, exist_ok=True)
    javac, *options = javac_command(work, android_jar, classpath=junit)
    sources = sorted((project / CORE).glob("*.java")) + tests
    build = subprocess.run([javac, *(f"-J{o}" for o in QUICK_JVM), *options, *map(str, sources)],
                           capture_output=True, text=True, cwd=work)
    assert build.returncode == 0, build.stdout + build.stderr
    classes = [str(t.relative_to(project / TESTS).with_suffix("")).replace("/", ".") for t in tests
               if t.name.endswith("Test.java")]
    classpath = ":".join(map(str, [work, project / "app/src/test/resources", *junit]))
    proc = subprocess.run(["java", *QUICK_JVM, "-cp", classpath, "org.junit.runner.JUnitCore", *classes], capture_output=True,
                          text=True, cwd=project / "app", timeout=300)
    out = proc.stdout + proc.stderr
    ok = re.search(r"^OK \((\d+) tests?\)$", out, re.M)
    counts = re.search(r"^Tests run: (\d+),\s+Failures: (\d+)$", out, re.M)
    assert ok or counts, out
    failed = re.findall(r"^\d+\) (\w+)\(", out, re.M)
    assert (proc.returncode == 0) == bool(ok) and (ok or int(counts.group(2)) == len(failed)), out
    return {"run": int((ok or counts).group(1)), "failed": failed, "output": out}


def golden_header(path: Path) -> tuple:
    """(task, cases) of a core golden file, read as GoldenData reads it."""
    data = golden.decode(path)
    magic, n = struct.unpack(">ii", data[:8])
    task = data[8:8 + n].decode()
    (cases,) = struct.unpack(">i", data[8 + n:12 + n])
    assert magic == golden.MAGIC
    return task, cases


@pytest.mark.parametrize("preset", list(PRESET_MODELS))
def test_golden_tests_pass_in_every_preset_project(projects, android_jar, junit, preset, tmp_path):
    project, config, _ = projects[preset]
    data = project / golden.RESOURCE_DIR / golden.CORE_DATA
    assert golden_header(data) == (config.task.value, len(golden.IMAGES))
    assert data.stat().st_size <= MAX_DATA_BYTES
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == [] and result["run"] == len(CORE_TESTS), result["output"]


def test_golden_tests_pass_in_the_picodet_raw_project(picodet_raw_project, android_jar, junit, tmp_path):
    """PicoDetPostprocessor on raw heads (the preset's model has NMS in the graph), from the flushed outputs."""
    project, config, _ = picodet_raw_project
    data = project / golden.RESOURCE_DIR / golden.CORE_DATA
    assert golden_header(data) == ("picodet", len(golden.IMAGES)) and data.stat().st_size <= MAX_DATA_BYTES
    assert 'DET_FORM = "raw"' in (project / CORE / "DeployConstants.java").read_text()
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == [] and result["run"] == len(CORE_TESTS), result["output"]


def test_flushed_picodet_heads_give_the_reference_results_of_the_real_ones(picodet_raw_project):
    """What golden.unread_flushed leaves out (sub-threshold scores, the box logits of cells no score of which
    reaches the floor) changes no result: on each golden image, the reference's boxes from Paddle Inference's real
    heads and from the flushed ones are equal, and there are boxes; the flushed heads hold < 1% of the values."""
    import numpy as np

    from lite_tools.reference import model_inputs, postprocess, preprocess

    _, config, model = picodet_raw_project
    engine = golden.reference_engine(model)
    images = golden.usable_images(golden.small_images(golden.LONG_SIDE[config.task]), config)
    assert len(images) == len(golden.IMAGES)
    for name, rgb in images:
        pre = preprocess(rgb, config)
        heads = engine.run(model_inputs(pre, engine.input_names))
        assert len(heads) == 8  # [scores x 4 levels, box distributions x 4]
        real = postprocess(heads, config, pre)
        flushed = golden.unread_flushed(heads, config, pre, real)
        assert real and postprocess(flushed, config, pre) == real, name
        kept = sum(int(np.count_nonzero(f)) for f in flushed)
        assert 0 < kept < 0.01 * sum(np.size(h) for h in heads), name


def test_golden_tests_pass_in_the_shitu_project(shitu_project, android_jar, junit, tmp_path):
    for name in (golden.CORE_DATA, golden.SHITU_DATA):
        assert (shitu_project / golden.RESOURCE_DIR / name).stat().st_size <= MAX_DATA_BYTES
    result = run_junit(shitu_project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == [] and result["run"] == len(CORE_TESTS) + len(SHITU_TESTS), result["output"]


def mutated(project: Path, dest: Path, constants: str, change) -> Path:
    """A copy of the project's sources and test data (not its .nb) with change(text) applied to the constants
    class `constants`; the change must alter the file."""
    shutil.copytree(project / "app/src", dest / "app/src", ignore=shutil.ignore_patterns("*.nb"))
    path = dest / CORE / f"{constants}.java"
    before = path.read_text(encoding="utf-8")
    after = change(before)
    assert after != before, f"the mutation did not change {constants}.java"
    path.write_text(after, encoding="utf-8")
    return dest


def wrong_mean(text: str) -> str:
    """newPreprocessor's first double[] is the mean: its first channel 0.01 higher."""
    def shift(m):
        first, rest = m.group(2).split(",", 1)
        return f"{m.group(1)}{float(first) + 0.01!r},{rest}"
    return re.sub(r"(newPreprocessor\(\) \{.*?new double\[\] \{)([^}]*)", shift, text, count=1, flags=re.S)


def set_constant(name: str, value: str):
    return lambda text: re.sub(rf"(\b{name} = )[^;]+;", rf"\g<1>{value};", text, count=1)


def wrong_labels(text: str) -> str:
    """Every entry of LABELS renamed (as a labels file of another model would)."""
    block = re.search(r"String\[\] LABELS = \{(.*?)\};", text, re.S)
    renamed = re.sub(r'"((?:\\.|[^"\\])*)"', r'"\1 (wrong)"', block.group(1))
    return text[:block.start(1)] + renamed + text[block.end(1):]


def test_a_wrong_mean_fails_the_input_test(projects, android_jar, junit, tmp_path):
    project = mutated(projects["imagenet-cls"][0], tmp_path / "p", "DeployConstants", wrong_mean)
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == ["inputTensorsMatchTheReference"], result["output"]
    assert "input tensor" in result["output"] and "sha256" in result["output"]


def test_a_wrong_label_fails_the_results_test(projects, android_jar, junit, tmp_path):
    project = mutated(projects["pulc-person-exists"][0], tmp_path / "p", "DeployConstants", wrong_labels)
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == ["resultsMatchTheReference"], result["output"]
    assert "(wrong)" in result["output"]


def test_a_wrong_threshold_fails_the_results_test(projects, android_jar, junit, tmp_path):
    project = mutated(projects["ssd-mobilenet-300"][0], tmp_path / "p", "DeployConstants",
                      set_constant("SCORE_THRESHOLD", "0.9"))
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == ["resultsMatchTheReference"], result["output"]


@pytest.mark.parametrize("constant, value", [("NMS_THRESHOLD", "0.0"), ("HOST_SCORE_THRESHOLD", "0.7")])
def test_wrong_picodet_nms_fails_the_results_test(picodet_raw_project, android_jar, junit, tmp_path, constant,
                                                  value):
    """PicoDetPostprocessor's host NMS made wrong (every overlap suppressed; a higher score threshold)."""
    project = mutated(picodet_raw_project[0], tmp_path / "p", "DeployConstants", set_constant(constant, value))
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert result["failed"] == ["resultsMatchTheReference"], result["output"]


def test_wrong_shitu_constants_fail_the_shitu_tests(shitu_project, android_jar, junit, tmp_path):
    """The recogniser's mean (RecConstants) and the detection threshold (ShituConstants) wrong: each ShiTu test
    fails, and the detector's own CoreGoldenTest, untouched, passes."""
    project = mutated(shitu_project, tmp_path / "p", "RecConstants", wrong_mean)
    shitu = project / CORE / "ShituConstants.java"
    shitu.write_text(set_constant("THRESHOLD", "1.5")(shitu.read_text()))
    result = run_junit(project, tmp_path / "classes", android_jar, junit)
    assert sorted(result["failed"]) == sorted(SHITU_TESTS), result["output"]
    assert result["run"] == len(CORE_TESTS) + len(SHITU_TESTS)
    assert "recogniser input" in result["output"] and "detections" in result["output"]
