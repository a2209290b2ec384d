"""The Java Cv2Resampler (android_template/.../core), compiled as the app is (Java 8 against API 23's android.jar,
dexable), against lite_tools/reference/cv2_resize.py at tolerance 0 for every interpolation and path (including the
IPP cubic model), and against the real cv2.resize of opencv 4.6.0.66 for all but IPP's cubic, on the sample photos
(PaddleClas's sizes), cut-outs at the shapes where OpenCV changes kernels, and output windows. One JVM runs every
case; images and results go through files."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from conftest import REPO
from javatools import build_harness
from lite_tools.reference import cv2_resize, ipp_warp
from lite_tools.reference.cv2_resize import INTER_AREA, INTER_CUBIC, INTER_LANCZOS4, INTER_LINEAR, INTER_NEAREST
from test_cv2_resize import EDGE_SIZES, cutouts, cv2, cv2_resize_call, geometry, ipp, ipp_runs, keep_ratio_scale
from test_cv2_resize import BOUND_PROBE_COLUMNS, BOUND_PROBE_ROWS, _bound_probe, stripes_calibrated
from test_cv2_resize import ours as reference

BASELINE = sorted((REPO / "scripts/java/baseline").glob("*.java"))  # today's Preprocessor, for the bench
CORE = REPO / "android_template" / "app" / "src" / "main" / "java" / "com" / "litetools" / "core"
HARNESS = REPO / "tests" / "java" / "Cv2ResizeHarness.java"
# name -> (interp, ipp); "cubic" is the x86-64 wheel's default (IPP), "cubic-no-ipp" OpenCV's own kernel.
KERNELS = {"nearest": (INTER_NEAREST, True), "linear": (INTER_LINEAR, True), "cubic-no-ipp": (INTER_CUBIC, False),
           "cubic": (INTER_CUBIC, True), "area": (INTER_AREA, True), "lanczos4": (INTER_LANCZOS4, True)}


@pytest.fixture(scope="module")
def jvm(tmp_path_factory, android_jar):
    """java(*args) -> CompletedProcess of the harness over Cv2Resampler (and today's Preprocessor, for the bench)."""
    classpath = build_harness([CORE / "Cv2Resampler.java", CORE / "IppWarpCubic.java", *BASELINE], HARNESS,
                              tmp_path_factory.mktemp("cv2-java"), android_jar)

    def java(*args, flags=()):
        return subprocess.run(["java", *flags, "-cp", classpath, "Cv2ResizeHarness", *map(str, args)],
                              capture_output=True, text=True, timeout=600)
    return java


def centre_window(img, size, crop=224):
    dw, dh = geometry(img, size)[:2]
    return ((dw - crop) // 2, (dh - crop) // 2, crop, crop) if min(dw, dh) >= crop else None


def short_side(img, target=256):
    h, w = img.shape[:2]
    p = target / min(w, h)
    return round(w * p), round(h * p)


def photo_cases(sample_photos):
    """Bilinear on every photo at PaddleClas's sizes (resize-short 256 + crop 224 as a window, the full short-256
    result, 224 / 300 / 320 fixed, x0.5 which becomes area 2x2, 1/3; PaddleDetection's keep-ratio 608 by fx and
    the warpAffine shrinks on every fourth); every other kernel on every photo at two of the sizes, rotating so that
    each size is seen."""
    cases = []
    for i, (photo, img) in enumerate(sample_photos):
        short = short_side(img)
        h, w = img.shape[:2]
        keep = keep_ratio_scale(w, h, 608, 608)
        sizes = [short, (224, 224), (300, 300), (320, 320), ("fx", 0.5, 0.5), ("fx", 1 / 3, 1 / 3), ("fx", 1.5, 1.5),
                 ("fx", keep, keep), ("fx", 0.61, 0.61), ("fx", 0.77, 1.3)]  # IPP warpAffine, both sides of 2/3
        cases.append((f"{photo} short 256 crop 224 linear", photo, img, short, "linear", centre_window(img, short)))
        cases += [(f"{photo} {s} linear", photo, img, s, "linear", None) for s in sizes[:6] + sizes[7:] * (i % 4 == 0)]
        for j, name in enumerate(k for k in KERNELS if k != "linear"):
            for s in (sizes[(2 * i + j) % len(sizes)], sizes[(2 * i + j + 3) % len(sizes)]):
                cases.append((f"{photo} {s} {name}", photo, img, s, name, None))
    return cases


def edge_cases(sample_photos):
    """test_cv2_resize's RGB cut-outs of a real photo (slivers, single pixels, odd and tiny sizes) at its edge
    sizes (up and down, exact 1/2 and 1/3 by fx), plus half, double, one column more, the same size and x3 on the
    width only (IPP's horizontal sums, their tail included, straight into the output: x3's ties expose them)."""
    cases = []
    for c, cut in enumerate(cut for cut in cutouts(sample_photos) if cut.ndim == 3):
        cut = np.ascontiguousarray(cut)
        h, w = cut.shape[:2]
        sizes = EDGE_SIZES + [(w // 2 or 1, h // 2 or 1), (2 * w, 2 * h), (w + 1, h), (w, h), (3 * w, h)]
        for size in dict.fromkeys(sizes):
            if size[0] == "fx" and (round(w * size[1]) == 0 or round(h * size[2]) == 0):
                continue
            for name in KERNELS:
                cases.append((f"cut-out {w}x{h} -> {size} {name}", f"cut{c}", cut, size, name, None))
    # A 400 x 1 sliver under resize-short 256 is 102400 x 256: only the centre crop's taps are built.
    sliver = np.ascontiguousarray(dict(sample_photos)["matplotlib/grace_hopper.jpg"][100:101, :400])
    short = short_side(sliver)
    for name in ("linear", "cubic-no-ipp"):
        cases.append((f"sliver 400x1 -> {short} crop 224 {name}", "sliver", sliver, short, name,
                      centre_window(sliver, short)))
    return cases


def window_cases(sample_photos):
    """Windows (corners, slivers, the full output) of one photo at several geometries: equal to the crop."""
    img = dict(sample_photos)["scikit_image/chelsea.png"]
    cases = []
    for size in [(321, 200), (173, 97), ("fx", 1.7, 1.3), ("fx", 0.5, 0.5), ("fx", 0.37, 0.41), (451, 300)]:
        fw, fh = geometry(img, size)[:2]
        for win in [(0, 0, fw, fh), (0, 0, 1, 1), (fw - 1, fh - 1, 1, 1), (fw // 3, fh // 4, 50, 40),
                    (fw - 37, 0, 37, fh), (0, fh - 5, fw, 5), (5, 3, 9, 17)]:
            for name in KERNELS:
                cases.append((f"chelsea {size} window {win} {name}", "chelsea", img, size, name, win))
    return cases


def run_cases(jvm, cases, work, flags=(), dispatch="l9") -> dict:
    """{case name: (case, Java's window as HxWxC uint8)} for `cases`, from one JVM run (java flags: `flags`); a
    case may carry a 7th field, OpenCV's thread count (1 without); 4-channel images (R, G, B, A) go through
    resizeRgba; dispatch "k0": IPP's AVX-512 code."""
    inputs, lines, outputs = {}, [], {}
    for n, case in enumerate(cases):
        label, key, img, size, name, window, *threads = case
        if key not in inputs:
            inputs[key] = work / f"in{len(inputs)}.rgb"
            inputs[key].write_bytes(np.ascontiguousarray(img).tobytes())
        h, w = img.shape[:2]
        dw, dh = geometry(img, size)[:2]
        x, y, cw, ch = window or (0, 0, dw, dh)
        width, height, fx, fy = (0, 0, repr(size[1]), repr(size[2])) if size[0] == "fx" else (*size, 0, 0)
        interp, use_ipp = KERNELS[name]
        channels = img.shape[2]
        outputs[label] = (case, work / f"out{n}.rgb", (ch, cw, channels))
        lines.append(f"{inputs[key]} {w} {h} {width} {height} {fx} {fy} {interp} {int(use_ipp)} {x} {y} {cw} {ch} "
                     f"{outputs[label][1]}" + "".join(f" {t}" for t in threads) + (" k0" if dispatch == "k0" else "")
                     + (" rgba" if channels == 4 else ""))
    assert len(outputs) == len(cases), "case labels must be unique"
    (work / "jobs.txt").write_text("\n".join(lines) + "\n")
    proc = jvm("run", work / "jobs.txt", flags=flags)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {label: (case, np.frombuffer(path.read_bytes(), np.uint8).reshape(shape))
            for label, (case, path, shape) in outputs.items()}


@pytest.fixture(scope="module")
def java_results(jvm, sample_photos, tmp_path_factory):
    """{case name: (case, Java's window as HxWx3 uint8)} for every case, from one JVM run."""
    cases = photo_cases(sample_photos) + edge_cases(sample_photos) + window_cases(sample_photos)
    return run_cases(jvm, cases, tmp_path_factory.mktemp("cv2-java-jobs"))


def differences(got, want, what):
    assert got.shape == want.shape, what
    if np.array_equal(got, want):
        return []
    diff = np.abs(got.astype(int) - want)
    return [f"{what}: {int((diff > 0).sum())} of {diff.size} values differ, max {int(diff.max())}, "
            f"first at {np.argwhere(diff > 0)[0].tolist()}"]


def real_cv2(img, size, name, window):
    """opencv 4.6.0.66's full result (IPP on or off as the kernel says), cropped to the window."""
    interp, use_ipp = KERNELS[name]
    with ipp(use_ipp):
        full = cv2_resize_call(img, size, interp)
    x, y, cw, ch = window or (0, 0, full.shape[1], full.shape[0])
    return full[y:y + ch, x:x + cw]


@pytest.mark.parametrize("name", list(KERNELS))
def test_java_equals_reference_bit_for_bit(java_results, name):
    """Tolerance 0 against the numpy reference, for every case of this kernel (photos, cut-outs, windows)."""
    bad, seen, paths = [], 0, set()
    for label, ((_, _, img, size, kernel, window), got) in java_results.items():
        if kernel != name:
            continue
        interp, use_ipp = KERNELS[name]
        h, w = img.shape[:2]
        dw, dh, ix, iy = geometry(img, size)
        paths.add("copy" if (dw, dh) == (w, h) else
                  cv2_resize.choose_path(interp, w, h, dw, dh, ix, iy, 3, use_ipp)[0])
        bad += differences(got, reference(img, size, interp, use_ipp, window), label)
        seen += 1
    assert seen > 100 and not bad, f"{len(bad)} of {seen} cases differ:\n" + "\n".join(bad[:20])
    expected = {"nearest": {"nearest"}, "linear": {"separable", "area_fast"}, "cubic-no-ipp": {"separable"},
                "cubic": {"separable", "ipp_cubic"}, "area": {"separable", "area_fast", "area"},
                "lanczos4": {"separable"}}[name]
    assert expected | {"copy"} <= paths, f"{name}: paths never taken: {expected | {'copy'} - paths}"


def test_java_warp_four_channels(jvm, sample_photos, tmp_path):
    """IPP's warpAffine on four channels (resizeRgba: R, G, B and alpha, whose loops sum in other orders than three
    channels'): photos with an alpha channel at keep-ratio 608, x1.5 and the shrinks both sides of 2/3, windows,
    and random small images at scales 0.4 .. 3.2 and dyadic ones (exact ties), few levels on half. Tolerance 0
    against the reference and against cv2."""
    cases = []
    for photo, img in sample_photos[::6]:
        rgba = np.ascontiguousarray(np.dstack([img, img[::-1, ::-1, 1:2]]))
        h, w = img.shape[:2]
        keep = keep_ratio_scale(w, h, 608, 608)
        for size in [("fx", keep, keep), ("fx", 1.5, 1.5), ("fx", 0.61, 0.61), ("fx", 0.77, 1.3)]:
            if cv2_resize._affine(w, h, *geometry(img, size)):  # the warp path (resizeRgba's only one)
                cases.append((f"{photo} rgba {size}", photo, rgba, size, "cubic", None))
                cases.append((f"{photo} rgba {size} window", photo, rgba, size, "cubic", (3, 5, 40, 30)))
    rng = np.random.default_rng(3)
    dyadic = [1.5, 2.5, 1.25, 0.75, 3.5, 0.625]
    for i in range(120):
        h, w = int(rng.integers(2, 60)), int(rng.integers(2, 60))
        fx, fy = ((float(rng.uniform(0.4, 3.2)), float(rng.uniform(0.4, 3.2))) if i % 2 else
                  (float(dyadic[i % 6]), float(dyadic[i // 6 % 6])))
        img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        img = img // 64 * 64 if i % 4 >= 2 else img
        dw, dh, ix, iy = geometry(img, ("fx", fx, fy))
        if min(dw, dh) > 0 and cv2_resize._affine(w, h, dw, dh, ix, iy):
            cases.append((f"random {w}x{h}x4 fx={fx!r} fy={fy!r}", f"random{i}", img, ("fx", fx, fy), "cubic", None))
    assert len(cases) > 100
    bad = []
    for label, ((_, _, img, size, name, window), got) in run_cases(jvm, cases, tmp_path).items():
        bad += differences(got, reference(img, size, INTER_CUBIC, True, window), label)
        bad += differences(got, real_cv2(img, size, name, window), label + " (cv2)")
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_java_k0_equals_reference(jvm, sample_photos, tmp_path):
    """IPP's AVX-512 ("k0") sums (cv2_resize step 6's k0 item, ipp_warp step 7) against the reference's k0 at
    tolerance 0: photos at 224x224 and 320x320 (resize path, RGB), keep-ratio 608 and x1.5 (warp path, RGB and
    RGBA), windows, and tie-rich random images (few levels, x3 on one axis, odd widths: the tails show). The
    reference is proven against the wheel's k0 in test_cv2_resize."""
    cases = []
    for photo, img in sample_photos[::4]:
        h, w = img.shape[:2]
        keep = keep_ratio_scale(w, h, 608, 608)
        rgba = np.ascontiguousarray(np.dstack([img, img[::-1, ::-1, 1:2]]))
        for size in [(224, 224), (320, 320), ("fx", keep, keep), ("fx", 1.5, 1.5)]:
            warp = cv2_resize._affine(w, h, *geometry(img, size))
            cases.append((f"{photo} {size}", photo, img, size, "cubic", None))
            if size == (224, 224):
                cases.append((f"{photo} {size} window", photo, img, size, "cubic", (3, 5, 41, 30)))
            if warp:
                cases.append((f"{photo} rgba {size}", photo + " rgba", rgba, size, "cubic", None))
    photo, img = sample_photos[1]
    keep = keep_ratio_scale(img.shape[1], img.shape[0], 608, 608)
    cases.append((f"{photo} keep-ratio 3 threads", photo, img, ("fx", keep, keep), "cubic", None, 3))
    rng = np.random.default_rng(7)
    for i in range(48):
        h, w = int(rng.integers(3, 100)), int(rng.integers(3, 100))
        img = rng.integers(0, 4, (h, w, 3), dtype=np.uint8) * 85
        size = [(3 * w, h), (w, 3 * h), (2 * w + 1, h + 3), (max(1, w // 2 + 1), max(1, h - 1)),
                ("fx", 1.5, 1.5), ("fx", 1.3, 0.9)][i % 6]
        cases.append((f"random {w}x{h} {size}", f"random{i}", img, size, "cubic", None))
        if size[0] == "fx" and cv2_resize._affine(w, h, *geometry(img, size)):
            four = np.ascontiguousarray(np.dstack([img, img[:, ::-1, :1]]))
            cases.append((f"random {w}x{h}x4 {size}", f"random{i} rgba", four, size, "cubic", None))
    bad = []
    for label, ((_, _, img, size, name, window, *threads), got) in run_cases(jvm, cases, tmp_path,
                                                                             dispatch="k0").items():
        fxy = dict(fx=size[1], fy=size[2]) if size[0] == "fx" else {}
        want = cv2_resize.resize(img, *((0, 0) if fxy else size), INTER_CUBIC, window=window, ipp=True,
                                 ipp_dispatch="k0", threads=(threads or [1])[0], **fxy)
        bad += differences(got, want, label)
    assert not bad, f"{len(bad)} of {len(cases)} cases differ:\n" + "\n".join(bad[:20])


def test_java_warp_last_inner_row(jvm, sample_photos, tmp_path):
    """The last inner row and column: test_cv2_resize's 83x59 photo crops at x0.6, whose last output row (source
    position n - 2 in exact arithmetic) IPP clamps, RGB and with an alpha channel, and its images built so that the
    reading of that row or column shows (the column's 1e-13 slack included): tolerance 0 against the reference and
    against cv2."""
    photos = dict(sample_photos)
    cases = []
    for name, y, x in [("matplotlib/grace_hopper.jpg", 509, 99), ("scikit_image/camera.png", 291, 181),
                       ("scikit_image/coins.png", 172, 186), ("scikit_image/gravel.png", 174, 406)]:
        crop = np.ascontiguousarray(photos[name][y:y + 59, x:x + 83])
        rgba = np.ascontiguousarray(np.dstack([crop, crop[:, :, :1]]))
        for kind, img in (("rgb", crop), ("rgba", rgba)):
            cases.append((f"{name} {kind} 83x59 x0.6", f"{name} {kind}", img, ("fx", 0.6, 0.6), "cubic", None))
    rng = np.random.default_rng(4)
    for n, fy in BOUND_PROBE_ROWS:
        cases.append((f"row probe {n} fy={fy!r}", f"row probe {n} {fy!r}", _bound_probe(n, 90, 0.93, fy, 0, rng),
                      ("fx", 0.93, fy), "cubic", None))
    for w, fx in BOUND_PROBE_COLUMNS:
        cases.append((f"column probe {w} fx={fx!r}", f"column probe {w} {fx!r}", _bound_probe(60, w, fx, 1.1, 1, rng),
                      ("fx", fx, 1.1), "cubic", None))
    bad = []
    for label, ((_, _, img, size, name, window), got) in run_cases(jvm, cases, tmp_path).items():
        bad += differences(got, reference(img, size, INTER_CUBIC, True, window), label)
        bad += differences(got, real_cv2(img, size, name, window), label + " (cv2)")
    assert not bad, "\n".join(bad)


def test_jit_gives_the_interpreters_bits(jvm, sample_photos, tmp_path):
    """HotSpot 17's C2 auto-vectoriser once miscompiled the fixed-point horizontal pass (tap-by-tap `h[j] += ...`
    loops, compiled while linear's two-tap branch was the hot one): wrong green sums in bands of rows of the
    separable cubic and lanczos4 cases, in about one JVM run in ten, and in nearly every run with C2 alone
    (-XX:-TieredCompilation), which compiles the kernels within the first photo's cases. Those cases, run under C2
    alone, must still give the reference's bits."""
    cases = [case for case in photo_cases(sample_photos) if case[1] == sample_photos[0][0]]
    assert {case[4] for case in cases} >= {"linear", "cubic-no-ipp", "lanczos4"}, "the kernels the bug was in"
    results = run_cases(jvm, cases, tmp_path, flags=["-XX:-TieredCompilation"])
    bad = []
    for label, ((_, _, img, size, name, window), got) in results.items():
        interp, use_ipp = KERNELS[name]
        bad += differences(got, reference(img, size, interp, use_ipp, window), label)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", [k for k in KERNELS if k != "cubic"])
def test_java_equals_real_cv2(java_results, name):
    """Tolerance 0 against opencv 4.6.0.66 itself, on every case whose kernel the reference reproduces exactly
    (IPP's cubic is the reference's documented approximation; its non-IPP cut-outs are included)."""
    assert cv2.__version__ == "4.6.0"
    bad, seen = [], 0
    for label, ((_, _, img, size, kernel, window), got) in java_results.items():
        if kernel == name:
            bad += differences(got, real_cv2(img, size, name, window), label)
            seen += 1
    assert seen > 100 and not bad, f"{len(bad)} of {seen} cases differ:\n" + "\n".join(bad[:20])


def test_java_cubic_without_ipp_equals_real_cv2_where_the_wheel_skips_ipp(java_results):
    """The default cubic on shapes the wheel keeps in OpenCV's C++ (under 4x4, or IPP declines): bit-exact."""
    bad, seen = [], 0
    for label, ((_, _, img, size, kernel, window), got) in java_results.items():
        if kernel == "cubic" and not ipp_runs(img, size):
            bad += differences(got, real_cv2(img, size, "cubic", window), label)
            seen += 1
    assert seen > 20 and not bad, f"{len(bad)} of {seen} cases differ:\n" + "\n".join(bad[:20])


def test_java_warp_affine_stripes_equal_real_cv2(jvm, sample_photos, tmp_path):
    """IPP's warpAffine at 1 to 16 OpenCV threads (its row stripes, ipp_warp.py step 6): random RGB images large
    enough to be cut (noise and few levels; one with an alpha channel), a photo at keep-ratio 608 and x1.5, each
    with windows, against the wheel at the same thread count, tolerance 0; the thread count must move the wheel's
    result somewhere."""
    stripes_calibrated()
    rng = np.random.default_rng(23)
    cases, images = [], []
    while len(images) < 8:
        h, w = int(rng.integers(80, 260)), int(rng.integers(80, 260))
        fx = float(rng.uniform(0.6, 3.2))
        fy = fx if len(images) % 2 else float(rng.uniform(0.6, 3.2))
        dw, dh = geometry(np.zeros((h, w, 3), np.uint8), ("fx", fx, fy))[:2]
        if len(ipp_warp.stripes(w, h, dw, dh, 3, 16)) == 1 or not cv2_resize._affine(w, h, dw, dh, fx, fy):
            continue
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        images.append((f"random{len(images)}", img // 86 * 85 if len(images) % 3 == 1 else img, ("fx", fx, fy)))
    key, img, size = images[0]
    images.append((key + " rgba", np.ascontiguousarray(np.dstack([img, img[::-1, :, :1]])), size))
    photo = dict(sample_photos)["scikit_learn/flower.jpg"]
    keep = keep_ratio_scale(photo.shape[1], photo.shape[0], 608, 608)
    images += [("flower", photo, ("fx", keep, keep)), ("flower", photo, ("fx", 1.5, 1.5))]
    for key, img, size in images:
        dw, dh = geometry(img, size)[:2]
        for threads in (1, 2, 3, 4, 6, 8, 11, 16):
            for window in (None, (dw // 5, dh // 3, dw // 2, dh // 3)):
                cases.append((f"{key} {size} {threads} threads {window}", key, img, size, "cubic", window, threads))
    results = run_cases(jvm, cases, tmp_path)
    bad, moved = [], 0
    for label, ((_, _, img, size, name, window, threads), got) in results.items():
        with ipp(True, threads):
            full = cv2_resize_call(img, size, INTER_CUBIC)
        x, y, cw, ch = window or (0, 0, full.shape[1], full.shape[0])
        bad += differences(got, full[y:y + ch, x:x + cw], label)
        with ipp(True):
            moved += int((cv2_resize_call(img, size, INTER_CUBIC) != full).sum())
    assert not bad, f"{len(bad)} of {len(results)} cases differ:\n" + "\n".join(bad[:20])
    assert moved > 0


def test_bench_frame_time(jvm):
    """Prints (pytest -s) ms per 1920x1080 frame, resize-short 256 + crop 224 and 300x300 bilinear, beside today's
    Preprocessor in the same JVM. The speed goal lives in the bench script; here only the run is checked."""
    proc = jvm("bench")
    assert proc.returncode == 0, proc.stderr[-3000:]
    print(proc.stdout.strip())
    assert proc.stdout.count("Cv2Resampler") == 2, proc.stdout
