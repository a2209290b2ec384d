"""The Java-core check: compile a generated project's pure-Java core as the app sees it (Java 8 against API 23's
android.jar when one is found, else `javac --release 8`) and run it on the JVM on the same images and the same real
model outputs as the Python reference; report every difference.

Jobs go through files in a work folder (see lite_tools/java/CoreHarness.java for the layout), one JVM for all.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from . import staging
from .apk import core_classes
from .apk.toolchain import JVM_FLAGS
from .config import DeployConfig, Task
from .config.for_model import output_form
from .engines import RememberingEngine
from .errors import ToolFailure
from .model import files
from .reference import model_inputs, postprocess, preprocess
from .reference.preprocess import Preprocessed

HARNESS = Path(__file__).parent / "java" / "CoreHarness.java"
REPO = Path(__file__).resolve().parent.parent
AGAINST_ANDROID = "android-23.jar"
AGAINST_JAVA8 = "java 8 (no android.jar found)"
FIND = "find"  # compile_core's default: look for the android.jar with find_android_jar()
# The core repeats the reference's operations in the same order and precision, so any difference is a bug: the
# input tensor must be identical (the 8-bit resamplers and the normalisation are bit-exact in both); boxes within
# 1e-4 px.
PRE_ATOL = 0.0
SCORE_ATOL = 1e-9
BOX_ATOL = 1e-4
# embedding: both normalise the same float32 features in float64 (only the order of the sum of squares differs):
# measured differences are ~1e-17; 1e-12 still catches any real slip (a float32 norm is ~1e-8 off).
EMBEDDING_ATOL = 1e-12


@dataclasses.dataclass(frozen=True)
class JavaCheck:
    ok: bool
    images: int
    max_input_abs: float
    mismatches: tuple  # one line each
    seconds: float
    # per image: the result rows as the JVM printed them (parsed floats); multilabel: read_attributes' dict
    java_results: tuple
    empty_nms_ok: bool | None  # detectors: a [1, 1] -1 tensor (PicoDet raw/decoded: zero scores) gave no boxes
    compiled_against: str  # AGAINST_ANDROID or AGAINST_JAVA8

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["results"] = d.pop("java_results")  # per image, what the core produced: the report draws it
        return d


def _first_error(output: str) -> str:
    """javac's first error (its last line is only "1 error"); a crashed javac's exception; else the last line."""
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()] or ["(no output)"]
    for pattern in (r"error:", r"[\w.$]+(Exception|Error|Failure): "):
        found = [ln for ln in lines if re.search(pattern, ln)]
        if found:
            return found[0]
    return lines[-1]


def _run(cmd: list, what: str, cwd=None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=cwd)
    if proc.returncode != 0:
        raise ToolFailure(f"{what} failed: {_first_error(proc.stderr or proc.stdout)[:300]}")
    return proc.stdout


def find_android_jar(environ=None, repo: Path = REPO) -> Path | None:
    """API 23's android.jar: $LITE_TOOLS_ANDROID_JAR, else where scripts/fetch_android_jar.sh puts it (the
    repository's build/android-sdk, or $LITE_TOOLS_ANDROID_CACHE); None when there is none."""
    environ = os.environ if environ is None else environ
    if environ.get("LITE_TOOLS_ANDROID_JAR"):
        jar = Path(environ["LITE_TOOLS_ANDROID_JAR"])
        if not jar.is_file():
            raise ToolFailure(f"LITE_TOOLS_ANDROID_JAR={jar} is not a file (API 23's android.jar)")
        return jar.resolve()
    candidates = [Path(repo) / "build" / "android-sdk" / "android-23.jar"]
    if environ.get("LITE_TOOLS_ANDROID_CACHE"):
        candidates.append(Path(environ["LITE_TOOLS_ANDROID_CACHE"]) / "android-23.jar")
    return next((c for c in candidates if c.is_file() and c.stat().st_size > 0), None)


def compile_core(core_dir: Path, out_dir: Path, android_jar=FIND) -> str:
    """Compile core + harness; return what it was compiled against. Against API 23's android.jar, a Java API the
    phone lacks or a lambda (no java.lang.invoke there) fails here, as it would when dexing at minSdk 23.
    android_jar: a path, None for `--release 8`, or FIND."""
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            raise ToolFailure(f"{tool} not found: the Java core cannot be verified; install a JDK (8 or newer)")
    android_jar = find_android_jar() if android_jar == FIND else android_jar
    if android_jar:
        jar = str(Path(android_jar).resolve())  # javac runs in out_dir
        mode, against = ["-source", "8", "-target", "8", "-bootclasspath", jar], AGAINST_ANDROID
    else:
        mode, against = ["--release", "8"], AGAINST_JAVA8
    core_dir = Path(core_dir).resolve()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # the classes an earlier check or APK build compiled of this very core (lite_tools.apk.core_classes)
    cached = bool(android_jar) and core_classes.restore(core_dir, android_jar, out_dir)
    sources = ([] if cached else sorted(core_dir.glob("*.java"))) + [HARNESS]
    # -Xlint:-options: newer JDKs warn about -source 8 itself. cwd: a crashing javac writes its args file there.
    # JVM_FLAGS (C1 only, serial GC): javac runs for seconds, which they make about half the CPU time
    _run(["javac", *(f"-J{f}" for f in JVM_FLAGS), *mode, "-Xlint:-options", "-encoding", "UTF-8", "-cp",
          str(out_dir), "-d", str(out_dir), *map(str, sources)], f"compiling the Java core against {against}",
         cwd=out_dir)
    if android_jar and not cached:
        core_classes.remember(core_dir, android_jar, out_dir)
    return against


def write_image(path: Path, rgb: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    argb = (0xFF << 24) | (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    path.write_bytes(struct.pack(">ii", w, h) + argb.astype(">u4").tobytes())


def write_output(path: Path, source_size, array: np.ndarray) -> None:
    write_outputs(path, source_size, [array])


def write_outputs(path: Path, source_size, arrays) -> None:
    """The source size, then each output tensor (rank, dims, big-endian floats), as CoreHarness reads them."""
    parts = [struct.pack(">ii", source_size[0], source_size[1])]
    for array in arrays:
        array = np.asarray(array)
        parts += [struct.pack(">i", array.ndim), struct.pack(f">{array.ndim}q", *array.shape),
                  np.ascontiguousarray(array, ">f4").tobytes()]
    path.write_bytes(b"".join(parts))


def empty_picodet_outputs(outputs: list, form: str) -> list:
    """The model's own outputs with every class score zeroed: no box passes any threshold."""
    if form == "raw":
        half = len(outputs) // 2
        return [np.zeros_like(o) for o in outputs[:half]] + list(outputs[half:])
    return [outputs[0], np.zeros_like(outputs[1])]


def read_pre(path: Path) -> tuple:
    data = path.read_bytes()
    return struct.unpack(">6i", data[:24]), np.frombuffer(data[24:], ">f4").astype(np.float32)


def read_post(path: Path) -> list:
    return [[float(v) for v in line.split("\t")] for line in path.read_text().splitlines()]


ATTRIBUTE_FIELDS = ("decisions", "text", "output", "class_ids", "scores")
_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n"}  # anything else stays as written, to show as a mismatch


def _unescape(item: str) -> str:
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(0)), item)


def parse_attributes(text: str) -> list:
    """Multilabel results as the Java core writes them (lite_tools/java/CoreHarness.java): five lines each, read
    into {field: tuple} with output and class_ids as ints and scores as floats (Java wrote Double.toString of each
    float, which reads back as the same double)."""
    lines = text.split("\n")
    if lines[-1] != "" or (len(lines) - 1) % len(ATTRIBUTE_FIELDS):
        raise ToolFailure(f"the Java core wrote {len(lines) - 1} multilabel lines, not groups of "
                          f"{len(ATTRIBUTE_FIELDS)}")
    results = []
    for at in range(0, len(lines) - 1, len(ATTRIBUTE_FIELDS)):
        fields = {}
        for line in lines[at:at + len(ATTRIBUTE_FIELDS)]:
            name, *items = line.split("\t")
            fields[name] = tuple(_unescape(item) for item in items)
        if tuple(fields) != ATTRIBUTE_FIELDS:
            raise ToolFailure(f"multilabel fields {list(fields)} from the Java core, expected {list(ATTRIBUTE_FIELDS)}")
        results.append({**fields, "output": tuple(map(int, fields["output"])),
                        "class_ids": tuple(map(int, fields["class_ids"])),
                        "scores": tuple(map(float, fields["scores"]))})
    return results


def read_attributes(path: Path) -> dict:
    (result,) = parse_attributes(path.read_text(encoding="utf-8"))
    return result


def run_core(core_dir: Path, jobs_dir: Path, classes_dir: Path) -> str:
    """Compile and run the core on jobs_dir; return what it was compiled against."""
    against = compile_core(core_dir, classes_dir)
    _run(["java", "-cp", str(classes_dir), "CoreHarness", str(jobs_dir)], "running the Java core")
    return against


def _compare(config: DeployConfig, pre: Preprocessed, inputs: list, results: list, geometry, tensor,
             rows) -> list:
    problems = []
    _, _, h, w = pre.tensor.shape
    if geometry != (w, h, *pre.resized_size, *pre.crop_offset):
        problems.append(f"geometry {geometry} != {(w, h, *pre.resized_size, *pre.crop_offset)}")
    extras = np.concatenate([a.ravel() for a in inputs[1:]]) if len(inputs) > 1 else np.zeros(0, np.float32)
    java_extras = tensor[pre.tensor.size:]
    tensor = tensor[:pre.tensor.size]
    if not np.array_equal(java_extras, extras):  # im_shape / scale_factor: exact, both divide in float32
        problems.append(f"extra inputs {java_extras.tolist()} in Java, {extras.tolist()} in Python")
    if tensor.size != pre.tensor.size:
        return problems + [f"input has {tensor.size} values, reference {pre.tensor.size}"]
    diff = float(np.abs(tensor - pre.tensor.ravel()).max())
    if diff > PRE_ATOL:
        problems.append(f"input tensor differs by {diff:.3g} (> {PRE_ATOL})")
    if config.task == Task.MULTILABEL:
        return problems + _compare_attributes(rows, results[0])
    if config.task == Task.EMBEDDING:
        return problems + _compare_embedding(rows, results[0])
    if len(rows) != len(results):
        return problems + [f"{len(rows)} results from Java, {len(results)} from the reference"]
    for row, ref in zip(rows, results):
        if int(row[0]) != ref.class_id or abs(row[1] - ref.score) > SCORE_ATOL:
            problems.append(f"class {int(row[0])} {row[1]:.6f} in Java, {ref.class_id} {ref.score:.6f} in Python")
        elif config.task in (Task.SSD, Task.PICODET):
            d = float(np.abs(np.array(row[2:]) - [ref.x0, ref.y0, ref.x1, ref.y1]).max())
            if d > BOX_ATOL:
                problems.append(f"box of class {ref.class_id} off by {d:.3g} px (> {BOX_ATOL})")
    return problems


def _compare_embedding(rows: list, ref) -> list:
    """The Java core's normalised vector against the reference's, value by value."""
    want = np.asarray(ref.vector, dtype=np.float64)
    if len(rows) != 1 or len(rows[0]) != want.size:
        return [f"embedding of {sum(map(len, rows))} values in {len(rows)} line(s) from Java, {want.size} from Python"]
    diff = float(np.abs(np.asarray(rows[0]) - want).max())
    return [f"embedding differs by {diff:.3g} (> {EMBEDDING_ATOL})"] if not diff <= EMBEDDING_ATOL else []


def _compare_attributes(java: dict, ref) -> list:
    """Every field exactly: words and text as strings, the 0/1 vector and ids as ints, scores as the same floats."""
    return [f"{name} {list(java[name])} in Java, {list(getattr(ref, name))} in Python" for name in ATTRIBUTE_FIELDS
            if tuple(java[name]) != tuple(getattr(ref, name))]


def check(core_dir: Path, config: DeployConfig, model_dir, images: list, reference=None) -> JavaCheck:
    """images: [(name, HxWx3 uint8 RGB)]; model outputs come from Paddle Inference on the reference tensors.
    reference: parity's RememberingEngine for this model, whose outputs are reused for tensors it was fed."""
    started = time.perf_counter()
    mf = files.locate(model_dir)
    engine = RememberingEngine(mf.model_file, mf.param_file, of=reference)
    # locked (lite_tools.staging): SIGTERM removes it, and the next run sweeps one a SIGKILL left in $TMPDIR
    with staging.folder(tempfile.gettempdir(), "lite-tools-javacheck-") as tmp:
        staging.stop_at("javacheck")  # test-only: a kill lands while the work folder exists
        jobs = Path(tmp) / "jobs"
        jobs.mkdir()
        expected = []
        for i, (_, rgb) in enumerate(images):
            pre = preprocess(rgb, config)
            inputs = model_inputs(pre, engine.input_names)
            outputs = engine.run(inputs)
            write_image(jobs / f"image-{i:04d}.bin", rgb)
            write_outputs(jobs / f"output-{i:04d}.bin", pre.source_size,
                          outputs if config.task == Task.PICODET else outputs[:1])
            expected.append((pre, inputs, postprocess(outputs, config, pre)))
        form = config.det_form or output_form([list(o.shape) for o in outputs]) if images else ""
        if config.task == Task.SSD or (config.task == Task.PICODET and form == "nms"):
            write_output(jobs / "output-9999.bin", (640, 480), np.array([[-1.0]], np.float32))
        elif config.task == Task.PICODET:  # raw heads / decoded boxes whose scores are all zero
            write_outputs(jobs / "output-9999.bin", (640, 480), empty_picodet_outputs(outputs, form))
        against = run_core(core_dir, jobs, Path(tmp) / "classes")
        mismatches, worst, java_results = [], 0.0, []
        for i, ((name, _), (pre, inputs, results)) in enumerate(zip(images, expected)):
            geometry, tensor = read_pre(jobs / f"pre-{i:04d}.bin")
            post = jobs / f"post-{i:04d}.txt"
            rows = read_attributes(post) if config.task == Task.MULTILABEL else read_post(post)
            java_results.append(rows)
            if tensor.size >= pre.tensor.size:
                worst = max(worst, float(np.abs(tensor[:pre.tensor.size] - pre.tensor.ravel()).max()))
            mismatches += [f"{name}: {p}" for p in _compare(config, pre, inputs, results, geometry, tensor, rows)]
        empty_ok = None
        if config.task in (Task.SSD, Task.PICODET) and (jobs / "post-9999.txt").exists():
            empty_ok = read_post(jobs / "post-9999.txt") == []
            if not empty_ok:
                mismatches.append("an empty NMS result ([1, 1] holding -1, or PicoDet outputs with no score) gave "
                                  "boxes in Java")
    return JavaCheck(not mismatches, len(images), worst, tuple(mismatches), round(time.perf_counter() - started, 3),
                     tuple(java_results), empty_ok, against)
