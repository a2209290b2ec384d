"""The Java-core check: compile a generated project's pure-Java core with `javac --release 8` and run it on the JVM
on the same images and the same real model outputs as the Python reference; report every difference.

Jobs go through files in a work folder (see lite_tools/java/CoreHarness.java for the layout), one JVM for all.
"""

from __future__ import annotations

import dataclasses
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from .config import DeployConfig, Task
from .engines import PaddleInferenceEngine
from .errors import ToolFailure
from .model import files
from .reference import model_inputs, postprocess, preprocess
from .reference.preprocess import Preprocessed

HARNESS = Path(__file__).parent / "java" / "CoreHarness.java"
# The core repeats the reference's float64 operations in the same order, so any difference is a bug; the bounds
# are the promise made to users: 1e-5 after normalisation (about 1/1000 of a grey level), boxes within 1e-4 px.
PRE_ATOL = 1e-5
SCORE_ATOL = 1e-9
BOX_ATOL = 1e-4


@dataclasses.dataclass(frozen=True)
class JavaCheck:
    ok: bool
    images: int
    max_input_abs: float
    mismatches: tuple  # one line each
    seconds: float
    java_results: tuple  # per image: list of result rows as the JVM printed them (parsed floats)
    empty_nms_ok: bool | None  # SSD: a [1, 1] -1 tensor gave no boxes

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("java_results")
        return d


def _run(cmd: list, what: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise ToolFailure(f"{what} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1][:300]}")
    return proc.stdout


def compile_core(core_dir: Path, out_dir: Path) -> None:
    for tool in ("javac", "java"):
        if shutil.which(tool) is None:
            raise ToolFailure(f"{tool} not found: the Java core cannot be verified; install a JDK (8 or newer)")
    sources = sorted(Path(core_dir).glob("*.java")) + [HARNESS]
    _run(["javac", "--release", "8", "-encoding", "UTF-8", "-d", str(out_dir), *map(str, sources)],
         "compiling the Java core")


def write_image(path: Path, rgb: np.ndarray) -> None:
    h, w = rgb.shape[:2]
    argb = (0xFF << 24) | (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    path.write_bytes(struct.pack(">ii", w, h) + argb.astype(">u4").tobytes())


def write_output(path: Path, source_size, array: np.ndarray) -> None:
    head = struct.pack(">iii", source_size[0], source_size[1], array.ndim) + struct.pack(f">{array.ndim}q",
                                                                                        *array.shape)
    path.write_bytes(head + np.ascontiguousarray(array, ">f4").tobytes())


def read_pre(path: Path) -> tuple:
    data = path.read_bytes()
    return struct.unpack(">6i", data[:24]), np.frombuffer(data[24:], ">f4").astype(np.float32)


def read_post(path: Path) -> list:
    return [[float(v) for v in line.split("\t")] for line in path.read_text().splitlines()]


def run_core(core_dir: Path, jobs_dir: Path, classes_dir: Path) -> None:
    compile_core(core_dir, classes_dir)
    _run(["java", "-cp", str(classes_dir), "CoreHarness", str(jobs_dir)], "running the Java core")


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
    if len(rows) != len(results):
        return problems + [f"{len(rows)} results from Java, {len(results)} from the reference"]
    for row, ref in zip(rows, results):
        if int(row[0]) != ref.class_id or abs(row[1] - ref.score) > SCORE_ATOL:
            problems.append(f"class {int(row[0])} {row[1]:.6f} in Java, {ref.class_id} {ref.score:.6f} in Python")
        elif config.task == Task.SSD:
            d = float(np.abs(np.array(row[2:]) - [ref.x0, ref.y0, ref.x1, ref.y1]).max())
            if d > BOX_ATOL:
                problems.append(f"box of class {ref.class_id} off by {d:.3g} px (> {BOX_ATOL})")
    return problems


def check(core_dir: Path, config: DeployConfig, model_dir, images: list) -> JavaCheck:
    """images: [(name, HxWx3 uint8 RGB)]; model outputs come from Paddle Inference on the reference tensors."""
    started = time.perf_counter()
    mf = files.locate(model_dir)
    engine = PaddleInferenceEngine(mf.model_file, mf.param_file)
    with tempfile.TemporaryDirectory(prefix="lite-tools-javacheck-") as tmp:
        jobs = Path(tmp) / "jobs"
        jobs.mkdir()
        expected = []
        for i, (_, rgb) in enumerate(images):
            pre = preprocess(rgb, config)
            inputs = model_inputs(pre, engine.input_names)
            outputs = engine.run(inputs)
            write_image(jobs / f"image-{i:04d}.bin", rgb)
            write_output(jobs / f"output-{i:04d}.bin", pre.source_size, outputs[0])
            expected.append((pre, inputs, postprocess(outputs, config, pre)))
        if config.task == Task.SSD:
            write_output(jobs / "output-9999.bin", (640, 480), np.array([[-1.0]], np.float32))
        run_core(core_dir, jobs, Path(tmp) / "classes")
        mismatches, worst, java_results = [], 0.0, []
        for i, ((name, _), (pre, inputs, results)) in enumerate(zip(images, expected)):
            geometry, tensor = read_pre(jobs / f"pre-{i:04d}.bin")
            rows = read_post(jobs / f"post-{i:04d}.txt")
            java_results.append(rows)
            if tensor.size >= pre.tensor.size:
                worst = max(worst, float(np.abs(tensor[:pre.tensor.size] - pre.tensor.ravel()).max()))
            mismatches += [f"{name}: {p}" for p in _compare(config, pre, inputs, results, geometry, tensor, rows)]
        empty_ok = None
        if config.task == Task.SSD:
            empty_ok = read_post(jobs / "post-9999.txt") == []
            if not empty_ok:
                mismatches.append("an empty NMS result ([1, 1] holding -1) gave boxes in Java")
    return JavaCheck(not mismatches, len(images), worst, tuple(mismatches), round(time.perf_counter() - started, 3),
                     tuple(java_results), empty_ok)
