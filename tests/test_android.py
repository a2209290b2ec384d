"""The generated Android project: its pure-Java core compiled against API 23's android.jar and run on the JVM against
the Python reference on the same images and the same real model outputs; all its Java compiled as Java 8 against
API 23 with no lambda, method reference or interface method body in the class files (dx, minSdk 23); the project's
structure; and the generator's bad-input answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from lite_tools import deploy_report, javacheck
from lite_tools.codegen import project as codegen
from lite_tools.config import Task, read_config_file, resolve
from lite_tools.errors import ToolFailure
from lite_tools.reference import synthetic_images
from lite_tools.reference.postprocess import binary, multilabel
from conftest import run_cli
from score_rows import boundary_rows
from shared_projects import PACKAGE, PRESET_MODELS
from javatools import (app_sources, assert_dexable, balanced, compile_stubs, javac, undexable_sites,
                       write_r_class)

CORE = "app/src/main/java/com/litetools/core"
# The Java core repeats the reference's 8-bit resamplers and float normalisation in the same order and precision:
# the input tensor must be bit-identical (issue 12).
PRE_ATOL = 0.0


@pytest.fixture(scope="session")
def projects(preset_projects):
    """preset -> (project dir, DeployConfig, model dir): conftest's, shared with the APK and golden tests."""
    return preset_projects


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
    if config.task == Task.MULTILABEL:  # the images must not all give the same words, or little is compared
        assert len({r["decisions"] for r in result.java_results}) > 1
        assert len({r["output"] for r in result.java_results}) > 1


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
    """--force replaces what an earlier run wrote (its marker lists it) and keeps what the user added."""
    out = tmp_path / "proj"
    args = ("android", zoo_dir("PULC_person_exists"), "--preset", "pulc-person-exists", "--out", out)
    assert run_cli(*args).returncode == 0
    (out / "mine.txt").write_text("mine")
    (out / "app/src/main/assets/labels.txt").write_text("edited")
    proc = run_cli(*args, "--force")
    assert proc.returncode == 0, proc.stderr
    assert (out / "mine.txt").read_text() == "mine"
    assert (out / "app/src/main/assets/labels.txt").read_text() == "nobody\nsomeone\n"


def test_java_check_covers_paddledetection_extra_inputs(projects, tmp_path):
    """scale_factor is PaddleDetection's (fy, fx): swapping it in the Java core must be caught (it would misplace
    boxes)."""
    project, config, model = projects["paddledetection-infer-cfg"]
    assert javacheck.check(project / CORE, config, model, _images()[:3]).ok
    broken = tmp_path / "core"
    shutil.copytree(project / CORE, broken)
    pre = broken / "Preprocessor.java"
    original = "return new float[] {(float) factors[0], (float) factors[1]};"
    assert original in pre.read_text()
    pre.write_text(pre.read_text().replace(original, "return new float[] {(float) factors[1], (float) factors[0]};"))
    result = javacheck.check(broken, config, model, _images()[:3])
    assert not result.ok and any("extra inputs" in m for m in result.mismatches)


# Multilabel / attribute post-processors and ThreshOutput's multi-class branch: the Java core against the
# reference on rows no model would give (scores at the thresholds and their float32 neighbours, exact ties), through
# tests/java/PostprocessRows.java, compiled once with the core as the app compiles it, one JVM per test.
ROWS_DRIVER = Path(__file__).resolve().parent / "java" / "PostprocessRows.java"


def _compile_rows_driver(core: Path, android_jar, out: Path) -> Path:
    javac(sorted(core.glob("*.java")) + [javacheck.HARNESS, ROWS_DRIVER], out, android_jar)
    return out


@pytest.fixture(scope="session")
def rows_classes(projects, android_jar, tmp_path_factory):
    project, _, _ = projects["pulc-person-attribute"]
    return _compile_rows_driver(project / CORE, android_jar, tmp_path_factory.mktemp("rows"))


def _items(name: str, items) -> str:
    escaped = (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") for s in items)
    return "\t".join([name, *escaped])


def run_rows(classes: Path, jobs: list, tmp_path: Path) -> list:
    """jobs: [(kind, config, float32 rows)] -> the driver's output text for each, all in one JVM."""
    args = []
    for n, (kind, config, rows) in enumerate(jobs):
        head = [kind, repr(float(config.threshold)), _items("labels", config.labels),
                _items("names", (name for name, _ in config.post_params)),
                _items("values", (repr(float(v)) for _, v in config.post_params)),
                str(config.default_label_index), _items("multiclass", config.multiclass_labels)]
        body = ["\t".join(f"{b:08x}" for b in np.asarray(row, np.float32).ravel().view(np.uint32)) for row in rows]
        args += [tmp_path / f"rows-{n}.txt", tmp_path / f"out-{n}.txt"]
        args[-2].write_text("\n".join(head + body) + "\n", encoding="utf-8")
    proc = subprocess.run(["java", "-cp", str(classes), "PostprocessRows", *map(str, args)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return [args[2 * n + 1].read_text(encoding="utf-8") for n in range(len(jobs))]


def multilabel_cases() -> list:
    """(kind, config, rows): each post-processor with PaddleClas's defaults (no post_params: the Java defaults
    must be upstream's) and with thresholds whose float32 rounds down (0.7) or up (0.3, 0.6); TableAttribute's
    distinct, without which its number_threshold slip would not show; MultiLabelThreshOutput with labels for
    only some classes (some holding a TAB, a newline, a backslash: the harness escapes them) and with none."""
    base = resolve(preset="pulc-person-attribute")
    params = {"PersonAttribute": [{}, {"threshold": 0.7, "glasses_threshold": 0.6, "hold_threshold": 0.3}],
              "VehicleAttribute": [{}, {"color_threshold": 0.7, "type_threshold": 0.3}],
              "TableAttribute": [{}, {"source_threshold": 0.3, "number_threshold": 0.7, "color_threshold": 0.6,
                                      "clarity_threshold": 0.5, "obstruction_threshold": 0.2,
                                      "angle_threshold": 0.9}]}
    width = {"PersonAttribute": 26, "VehicleAttribute": 19, "TableAttribute": 6}
    cases = []
    for kind, sets in params.items():
        for k, p in enumerate(sets):
            config = base.replace(postprocess=kind, post_params=tuple(sorted(p.items())), source=f"{kind} {k}")
            rows = boundary_rows(width[kind], [0.3, 0.6, 0.7, *p.values()], seed=k, n=240)
            cases.append((kind, config, rows))
    odd = ("tab\there", "new\nline", "back\\slash \\t", "ünïcode")
    for k, (threshold, labels) in enumerate([(0.7, odd + tuple(f"tag{i}" for i in range(4, 20))), (0.3, ())]):
        config = base.replace(postprocess="MultiLabelThreshOutput", threshold=threshold, labels=labels,
                              post_params=(), source=f"MultiLabelThreshOutput {k}")
        cases.append(("MultiLabelThreshOutput", config, boundary_rows(33, [threshold], seed=10 + k, n=240)))
    return cases


def multilabel_mismatches(outputs: list, cases: list) -> dict:
    """{case source: number of rows where any Attributes field differs from the reference's}."""
    bad = {}
    for text, (_, config, rows) in zip(outputs, cases):
        java = javacheck.parse_attributes(text)
        assert len(java) == len(rows)
        refs = [multilabel(row, config)[0] for row in rows]
        bad[config.source] = sum(any(tuple(j[f]) != tuple(getattr(r, f)) for f in javacheck.ATTRIBUTE_FIELDS)
                                 for j, r in zip(java, refs))
    return bad


def test_java_check_catches_a_broken_multilabel_core(projects, tmp_path):
    """Two attribute names swapped in the Java (LongCoat <-> Trousers): the Java-core check on real outputs fails
    on the words and names the field."""
    project, config, model = projects["pulc-person-attribute"]
    broken = tmp_path / "core"
    shutil.copytree(project / CORE, broken)
    java = broken / "MultiLabelPostprocessor.java"
    old = '"LowerStripe", "LowerPattern", "LongCoat", "Trousers",'
    assert old in java.read_text()
    java.write_text(java.read_text().replace(old, '"LowerStripe", "LowerPattern", "Trousers", "LongCoat",'))
    result = javacheck.check(broken, config, model, _images()[:3])
    assert not result.ok and any(m.split(": ", 1)[1].startswith("decisions ") for m in result.mismatches), \
        result.mismatches


def tie_rows(seed: int) -> list:
    """Score rows full of exact ties at the top, for C from 3 to 1000: float32 probabilities (the model's own
    softmax) and logits (the reference's float64 softmax)."""
    rng = np.random.RandomState(seed)
    rows = []
    for c in (3, 5, 16, 17, 18, 33, 100, 1000):
        for k in range(30):
            row = rng.randint(0, rng.randint(2, 6), c).astype(np.float64)
            row[rng.choice(c, rng.randint(1, min(c, 6)), replace=False)] = row.max() + 1  # tied maxima
            if k % 3 == 2:
                rows.append((row - 2.0).astype(np.float32))  # logits
            else:
                rows.append((row / row.sum()).astype(np.float32))
    return rows


def thresh_cases() -> list:
    """ThreshOutput configs: threshold 0 (always the top-1) and one that some rows' top-1 do not pass, so the
    default_label_index branch and the "" of a class without a name both occur."""
    base = resolve(preset="pulc-person-exists")
    names = tuple(f"name{i}" for i in range(10))
    return [("ThreshOutput", base.replace(threshold=t, default_label_index=d, multiclass_labels=names,
                                          source=f"ThreshOutput {t}"), tie_rows(seed))
            for seed, (t, d) in enumerate([(0.0, 0), (0.1, 4)])]


def thresh_mismatches(outputs: list, cases: list) -> list:
    bad = []
    for text, (_, config, rows) in zip(outputs, cases):
        lines = text.split("\n")[:-1]
        assert len(lines) == len(rows)
        for line, row in zip(lines, rows):
            cid, score, label = line.split("\t")
            (ref,) = binary(row, config)
            if (int(cid), label) != (ref.class_id, ref.label) or abs(float(score) - ref.score) > javacheck.SCORE_ATOL:
                bad.append((row.size, line, ref))
    return bad


def repr_values() -> np.ndarray:
    """~10,000 float32: random bit patterns (every exponent), sigmoid-like scores, and edge cases: zeros, 1.0,
    the fixed/exponent borders (1e-4 and 1e16 with their neighbours), the smallest and largest floats, and large
    values whose Java 17 Double.toString has more digits than the shortest."""
    rng = np.random.RandomState(2024)
    bits = rng.randint(0, 2 ** 32, 5000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    edges = [0.0, -0.0, 1.0, -1.0, 0.5, 0.3, 0.7, 0.1, 0.9982195496559143, 1e-4, 1e-5, 1e16, 1e17, 3e38, 1e-45,
             1.17549435e-38, np.finfo(np.float32).max, 3.550230687111971e+18, 1.539216292047749e+17,
             9.900073133958758e+16, 0.0005, 0.00012345, 123456.789, float("inf"), float("-inf"), float("nan")]
    edges = np.array(edges, np.float32)
    with np.errstate(over="ignore"):  # the largest float's upper neighbour is inf, also a case
        near = np.concatenate([np.nextafter(edges[np.isfinite(edges)], np.float32(k)) for k in (-np.inf, np.inf)])
    return np.concatenate([bits, rng.uniform(0, 1, 4900).astype(np.float32),
                           rng.uniform(0, 1e-3, 50).astype(np.float32), edges, near])


def repr_mismatches(text: str, values) -> list:
    got = text.split("\n")[:-1]
    assert len(got) == len(values)
    return [(repr(float(v)), j) for v, j in zip(values, got) if repr(float(v)) != j]


def row_jobs() -> list:
    return multilabel_cases() + thresh_cases() + [("repr", resolve(preset="pulc-person-attribute"), [repr_values()])]


def test_post_processors_match_the_reference_on_boundary_rows(rows_classes, tmp_path):
    """Every multilabel field exactly on threshold and tie rows; ThreshOutput's class, score and name; and
    VehicleAttribute's float text equal to Python's own repr on ~10,000 float32 values."""
    jobs = row_jobs()
    out = run_rows(rows_classes, jobs, tmp_path)
    n = len(multilabel_cases())
    bad = multilabel_mismatches(out[:n], jobs[:n])
    assert not any(bad.values()), bad
    assert not thresh_mismatches(out[n:-1], jobs[n:-1])
    assert not repr_mismatches(out[-1], jobs[-1][2][0])
    # The tie rule these rows pin (np.argsort(p)[::-1][0]): the last maximal index for C <= 16, numpy's introsort
    # above, which picks neither the first nor the last maximum for some rows; both ThreshOutput branches occur.
    picks = [(row.size, int(np.argsort(row)[::-1][0]), np.flatnonzero(row == row.max()))
             for _, _, rows in jobs[n:-1] for row in rows]
    assert all(pick == tied[-1] for c, pick, tied in picks if c <= 16)
    assert any(pick not in (tied[0], tied[-1]) for c, pick, tied in picks if c > 16)
    refs = [(binary(row, config)[0], config) for _, config, rows in jobs[n:-1] for row in rows]
    assert {(r.class_id == c.default_label_index and c.threshold > 0, r.label == "") for r, c in refs} == {
        (True, False), (False, True), (False, False)}


# Mutations each visible only on such rows: `>=` for `>` (PersonAttribute's gender), a float32 comparison
# (its glasses), `>` in VehicleAttribute's words, a float64 comparison in MultiLabelThreshOutput, TableAttribute
# without its number_threshold slip, the last maximum instead of numpy's argsort, Java's Double.toString digits.
ROW_MUTATIONS = {
    "MultiLabelPostprocessor.java": [
        ('words.add((double) v[22] > t ? "Female" : "Male");', 'words.add((double) v[22] >= t ? "Female" : "Male");'),
        ('pythonBool((double) v[1] > glassesT)', 'pythonBool(v[1] > (float) glassesT)'),
        ("if ((double) v[i] >= limits[g]) {", "if ((double) v[i] > limits[g]) {"),
        ("output[i] = s[i] >= t ? 1 : 0;", "output[i] = (double) s[i] >= threshold ? 1 : 0;"),
        ("param(TABLE_WORD_THRESHOLD[i] + ", "param(TABLE_NAMES[i] + "),
        ("BigDecimal shortest = exact;", "BigDecimal shortest = new BigDecimal(Double.toString(a));"),
        ("for (int p = 1; p <= 17; p++) {", "for (int p = 1; p <= 0; p++) {"),
    ],
    "ClassificationPostprocessor.java": [
        ("int top1 = numpyArgsortLast(p);",
         "int top1 = 0;\n        for (int i = 1; i < p.length; i++) {\n            top1 = p[i] >= p[top1] ? i : top1;\n"
         "        }"),
    ],
}


def test_boundary_rows_catch_a_broken_core(projects, android_jar, tmp_path):
    project, _, _ = projects["pulc-person-attribute"]
    broken = tmp_path / "core"
    shutil.copytree(project / CORE, broken)
    for name, mutations in ROW_MUTATIONS.items():
        text = (broken / name).read_text()
        for old, new in mutations:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        (broken / name).write_text(text)
    jobs = row_jobs()
    out = run_rows(_compile_rows_driver(broken, android_jar, tmp_path / "classes"), jobs, tmp_path)
    n = len(multilabel_cases())
    bad = multilabel_mismatches(out[:n], jobs[:n])
    # Each is caught where it matters, and only there: `>` against `>=` only at a threshold float32 holds exactly
    # (0.5, the defaults: no float32 equals 0.7 or 0.3); float32 against float64 where float32 rounds the
    # threshold up for `>` (glasses 0.3 and 0.6) and down for `>=` (0.7, not 0.3); the slip only with distinct
    # thresholds.
    assert {k for k, v in bad.items() if v} == {"PersonAttribute 0", "PersonAttribute 1", "VehicleAttribute 0",
                                                "MultiLabelThreshOutput 0", "TableAttribute 1"}, bad
    ties = thresh_mismatches(out[n:-1], jobs[n:-1])
    assert ties and all(c > 16 for c, _, _ in ties)  # C <= 16: the last maximum is numpy's choice there
    reprs = repr_mismatches(out[-1], jobs[-1][2][0])
    assert ("3.550230687111971e+18", "3.5502306871119708e+18") in reprs, reprs[:5]


def thresh_multiclass_config():
    """ThreshOutput on a 1000-class classifier (its multi-class branch): a threshold between the top-1
    probabilities of the test images, so both branches occur."""
    return resolve(preset="pulc-person-exists").replace(
        threshold=0.002, default_label_index=7, multiclass_labels=tuple(f"n{i:03d}" for i in range(1000)),
        source="ThreshOutput on 1000 classes")


def test_java_check_covers_thresh_multiclass(zoo_dir, android_jar, tmp_path):
    """The Java-core check on PPLCNet_x0_25's real outputs with ThreshOutput's multi-class branch: the same class
    and score on every image, some above the threshold (top-1) and some below (default_label_index); a Java that
    ignores the threshold is caught."""
    config = thresh_multiclass_config()
    out = tmp_path / "project"
    codegen.generate("android", zoo_dir("PPLCNet_x0_25"), config, out, package=PACKAGE)
    assert 'MULTICLASS_LABELS = {\n        "n000",' in (out / CORE / "DeployConstants.java").read_text()
    result = javacheck.check(out / CORE, config, zoo_dir("PPLCNet_x0_25"), _images())
    assert result.ok, result.mismatches
    ids = [int(rows[0][0]) for rows in result.java_results]
    assert 7 in ids and any(i != 7 for i in ids), ids
    broken = tmp_path / "core"
    shutil.copytree(out / CORE, broken)
    java = broken / "ClassificationPostprocessor.java"
    java.write_text(java.read_text().replace("int id = p[top1] > threshold ? top1 : defaultLabelIndex;",
                                             "int id = top1;"))
    result = javacheck.check(broken, config, zoo_dir("PPLCNet_x0_25"), _images()[:3])  # img0 is below
    assert not result.ok and all("in Java" in m for m in result.mismatches), result.mismatches


def test_output_width_must_fit_the_post_processor(projects):
    """Binary on C != 2 only through ThreshOutput (PaddleClas branches on C) and with a default_label_index among
    the C classes; an attribute post-processor only on its own width (lite_tools.config.for_model, which
    context_for applies to every project)."""
    from lite_tools.config import for_model
    from lite_tools.errors import BadInput

    def check(preset, config):
        project, _, _ = projects[preset]
        manifest = json.loads((project / "app/src/main/assets/lite_manifest.json").read_text())
        return for_model.settle(config, [(t["name"], t["shape"]) for t in manifest["outputs"]], preset)

    assert check("imagenet-cls", thresh_multiclass_config())  # PPLCNet_x0_25: 1000 classes
    with pytest.raises(BadInput, match="only PaddleClas's ThreshOutput has a multi-class branch"):
        check("imagenet-cls", thresh_multiclass_config().replace(postprocess=""))
    with pytest.raises(BadInput, match="default_label_index 1000 is not one of the 1000 classes"):
        check("imagenet-cls", thresh_multiclass_config().replace(default_label_index=1000))
    assert check("pulc-person-exists", resolve(preset="pulc-person-exists").replace(postprocess=""))  # C = 2
    assert check("pulc-vehicle-attribute", resolve(preset="pulc-vehicle-attribute"))
    with pytest.raises(BadInput, match="PersonAttribute reads 26 attributes but .* outputs 19"):
        check("pulc-vehicle-attribute", resolve(preset="pulc-vehicle-attribute").replace(
            postprocess="PersonAttribute"))
