"""The Java core's memory on a sliver image (probe P19, ../shared/probes/reliability-2026-12-01.md, issue 10 item 4
"Resize and crop are fused"): the Python reference computes only the crop window, and so must the app. A 4000x1
image under resize_short 256 + crop 224 resizes to 1,024,000 x 256; a core that builds resampling taps for every
resized column (1,024,000 small arrays) runs out of a 48 MB heap (it needs about 96 MB) for a 224x224 input. Here
the real core, compiled as the app sees it and driven by lite_tools/java/CoreHarness.java, runs under a 32 MB heap
and must give the Python reference's tensor for the same decoded pixels, bit for bit. (The resamplers' windowed tables
are checked against the reference's, bit for bit, in tests/test_java_cv2_resize.py and test_java_pil_resize.py.)"""

from __future__ import annotations

import subprocess
import time

import numpy as np
import pytest

from lite_tools import javacheck
from lite_tools.codegen import project as codegen
from lite_tools.config import resolve
from lite_tools.reference import preprocess
from lite_tools.reference.images import load_image
from test_reliability_images import sliver_png

CORE = "app/src/main/java/com/litetools/core"
HEAP = "-Xmx32m"  # the fixed core runs in 16 MB; the old one needed about 96 MB
SECONDS = 30  # the JVM's own start and this image take well under 2 s; the guard only stops a runaway


@pytest.fixture(scope="module")
def sliver_project(tmp_path_factory, zoo_dir):
    """An imagenet-cls project (resize_short 256, centre crop 224) and its config."""
    config = resolve(preset="imagenet-cls")
    out = tmp_path_factory.mktemp("java-memory") / "app"
    codegen.generate("android", zoo_dir("PPLCNet_x0_25"), config, out, app_name="Sliver", package="com.example.sliver")
    return out, config


def run_core_preprocess(core_dir, rgb: np.ndarray, work) -> tuple:
    """Compile `core_dir` with the harness and run it under HEAP on one image: (CompletedProcess, geometry,
    tensor); geometry and tensor are None when the JVM failed."""
    jobs = work / "jobs"
    jobs.mkdir(parents=True)
    javacheck.write_image(jobs / "image-0000.bin", rgb)
    classes = work / "classes"
    javacheck.compile_core(core_dir, classes)
    try:
        proc = subprocess.run(["java", HEAP, "-cp", str(classes), "CoreHarness", str(jobs)], capture_output=True,
                              text=True, timeout=SECONDS)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the Java core took over {SECONDS} s on a {rgb.shape[1]}x{rgb.shape[0]} image: {exc}")
    if proc.returncode != 0:
        return proc, None, None
    geometry, tensor = javacheck.read_pre(jobs / "pre-0000.bin")
    return proc, geometry, tensor


@pytest.mark.parametrize("w, h", [(4000, 1), (1, 4000)], ids=["4000x1", "1x4000"])
def test_P19_java_core_sliver_is_bounded(sliver_project, tmp_path, w, h):
    """The probe's 4000x1 PNG (and its transpose, which windows the rows instead of the columns), decoded once:
    the Java core under a 32 MB heap gives the reference's tensor bit for bit. Before the fix it built taps for all
    1,024,000 resized columns and died with OutOfMemoryError in Resampler.axisTaps."""
    project, config = sliver_project
    path = tmp_path / "sliver.png"
    sliver_png(path, w, h)
    rgb = load_image(path)
    assert rgb.shape == (h, w, 3)
    ref = preprocess(rgb, config)
    long_side = 256 * max(w, h)
    assert ref.tensor.shape == (1, 3, 224, 224)
    assert ref.resized_size == ((long_side, 256) if w > h else (256, long_side))

    started = time.perf_counter()
    proc, geometry, tensor = run_core_preprocess(project / CORE, rgb, tmp_path)
    seconds = time.perf_counter() - started
    assert proc.returncode == 0, f"the Java core failed under {HEAP}:\n{proc.stderr[-2000:]}"
    assert geometry == (224, 224, *ref.resized_size, *ref.crop_offset)
    assert tensor.shape == (ref.tensor.size,)
    assert tensor.tobytes() == ref.tensor.ravel().astype(np.float32).tobytes()  # bit for bit, not within 1e-5
    assert seconds < SECONDS
