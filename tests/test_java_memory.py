"""The Java core's memory on a sliver image (probe P19, ../shared/probes/reliability-2026-12-01.md, issue 10 item 4
"Resize and crop are fused"): the Python reference computes only the crop window, and so must the app. A 4000x1
image under resize_short 256 + crop 224 resizes to 1,024,000 x 256; a core that builds resampling taps for every
resized column (1,024,000 small arrays) runs out of a 48 MB heap (it needs about 96 MB) for a 224x224 input. Here
the real core, compiled as the app sees it and driven by lite_tools/java/CoreHarness.java, runs under a 32 MB heap
and must give the Python reference's tensor for the same decoded pixels, bit for bit. The windowed taps themselves
are checked against the reference's axis_taps(first, count), bit for bit, for every resampler."""

from __future__ import annotations

import struct
import subprocess
import textwrap
import time

import numpy as np
import pytest

from lite_tools import javacheck
from lite_tools.codegen import project as codegen
from lite_tools.config import Interp, resolve
from lite_tools.reference import preprocess
from lite_tools.reference.images import load_image
from lite_tools.reference.resize import axis_taps
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


# Resampler.axisTaps(nIn, nOut, interp, antialias, first, count) against the reference's axis_taps: same taps, same
# order, same weights to the bit. Taps' fields are package-private, so the driver lives in the core's package.
TAPS_DRIVER = textwrap.dedent("""
    package com.litetools.core;

    public final class TapsDriver {
        public static void main(String[] args) {
            java.io.PrintStream o = System.out;
            for (int a = 0; a + 6 <= args.length; a += 6) {
                Resampler.Taps t = Resampler.axisTaps(Integer.parseInt(args[a]), Integer.parseInt(args[a + 1]),
                        Integer.parseInt(args[a + 2]), Boolean.parseBoolean(args[a + 3]), Integer.parseInt(args[a + 4]),
                        Integer.parseInt(args[a + 5]));
                StringBuilder line = new StringBuilder();
                for (int i = 0; i + 1 < t.start.length; i++) {
                    line.append(i == 0 ? "" : ";");
                    for (int j = t.start[i]; j < t.start[i + 1]; j++) {
                        line.append(j == t.start[i] ? "" : ",").append(t.index[j]).append(':')
                                .append(Long.toHexString(Double.doubleToRawLongBits(t.weight[j])));
                    }
                }
                o.println(line);
            }
        }
    }
""")
JAVA_INTERP = {Interp.NEAREST: 0, Interp.BILINEAR: 1, Interp.BICUBIC: 2}


def _python_taps(n_in, n_out, interp, antialias, first, count) -> str:
    idx, wts = axis_taps(n_in, n_out, interp, antialias, first, count)
    rows = []
    for ks, ws in zip(idx, wts):
        real = [(int(k), float(w)) for k, w in zip(ks, ws) if w != 0.0]  # the reference pads rows with weight 0
        rows.append(",".join(f"{k}:{struct.unpack('>Q', struct.pack('>d', w))[0]:x}" for k, w in real))
    return ";".join(rows)


def test_windowed_taps_are_the_reference_axis_taps(sliver_project, tmp_path):
    """Shrinking, enlarging, a window at either end or in the middle, one pixel, the whole axis, and the sliver's
    1 -> 1,024,000 column axis: for every resampler with and without antialias."""
    project, _ = sliver_project
    classes = tmp_path / "classes"
    driver = tmp_path / "src" / "TapsDriver.java"
    driver.parent.mkdir()
    driver.write_text(TAPS_DRIVER)
    javacheck.compile_core(project / CORE, classes)
    build = subprocess.run(["javac", "-source", "8", "-target", "8", "-Xlint:-options", "-cp", str(classes), "-d",
                            str(classes), str(driver)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    axes = [(4000, 1024000, 511888, 224), (1, 1024000, 511888, 224), (1103, 300, 0, 300), (231, 300, 38, 224),
            (231, 62, 0, 1), (231, 62, 61, 1), (257, 256, 0, 256), (17, 999, 500, 77), (1920, 224, 0, 224),
            (4000, 7, 3, 4)]
    cases = [(n_in, n_out, interp, antialias, first, count) for n_in, n_out, first, count in axes
             for interp in Interp for antialias in (False, True)]
    args = [str(v) for c in cases for v in (c[0], c[1], JAVA_INTERP[c[2]], str(c[3]).lower(), c[4], c[5])]
    proc = subprocess.run(["java", HEAP, "-cp", str(classes), "com.litetools.core.TapsDriver", *args],
                          capture_output=True, text=True, timeout=SECONDS)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.split("\n")[:-1]
    assert len(lines) == len(cases)
    for case, line in zip(cases, lines):
        assert line == _python_taps(*case), case
