"""lite_tools.reference.cv2_resize against the real cv2.resize of opencv-python-headless 4.6.0.66 (PaddleClas 2.6.0's),
on the sample photos and on cut-outs of them at the sizes where OpenCV changes kernels: 0 grey levels.

Intel IPP's INTER_CUBIC (the x86-64 wheel's default) is bit-exact too, its warpAffine path (fx / fy that differ from
dsize / size: reference/ipp_warp.py) included, 1, 3 and 4 channels, at one OpenCV thread and, for its row stripes,
at 2 to 16 (the wheel's warpAffine result changes with the thread count; `ipp` sets it).
test_ipp_cubic_recovered_arithmetic checks the model against the x3 weights recovered by probing.
OpenCV's own cubic (IPP off) is compared bit for bit.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest

from lite_tools.reference import cv2_resize, ipp_warp
from lite_tools.reference.cv2_resize import (INTER_AREA, INTER_CUBIC, INTER_LANCZOS4, INTER_LINEAR,
                                             INTER_NEAREST, resize)

cv2 = pytest.importorskip("cv2")

INTERPS = {"nearest": INTER_NEAREST, "linear": INTER_LINEAR, "cubic": INTER_CUBIC, "area": INTER_AREA,
           "lanczos4": INTER_LANCZOS4}


def test_target_version():
    assert cv2.__version__ == "4.6.0", f"these figures are for opencv 4.6.0.66, not {cv2.__version__}"


def test_ipp_runs_its_avx2_code():
    """Steps 6-7 are IPP's AVX2 (l9) code; conftest pins it, so an AVX-512 host (whose own k0 code differs) is held
    to the same arithmetic as any other."""
    assert "(l9)" in cv2.ipp.getIppVersion(), cv2.ipp.getIppVersion()


@contextlib.contextmanager
def ipp(enabled: bool, threads: int = 1):
    """cv2 with IPP on or off, at `threads` OpenCV threads (one by default): IPP's warpAffine cuts the output rows
    into stripes by the thread count, each its own call, and its result depends on them (ipp_warp.py, step 6);
    the caller's settings come back afterwards."""
    before, restore = cv2.ipp.useIPP(), cv2.getNumThreads()
    cv2.ipp.setUseIPP(enabled)
    cv2.setNumThreads(threads)
    try:
        yield
    finally:
        cv2.ipp.setUseIPP(before)
        cv2.setNumThreads(restore)


def cv2_resize_call(img, size, interp):
    """cv2 as PaddleClas ((w, h)) or PaddleDetection (None, fx, fy) calls it; size is (w, h) or ("fx", fx, fy)."""
    if size[0] == "fx":
        return cv2.resize(img, None, None, fx=size[1], fy=size[2], interpolation=interp)
    return cv2.resize(img, size, interpolation=interp)


def ours(img, size, interp, use_ipp, window=None):
    if size[0] == "fx":
        return resize(img, 0, 0, interp, fx=size[1], fy=size[2], window=window, ipp=use_ipp)
    return resize(img, size[0], size[1], interp, window=window, ipp=use_ipp)


def keep_ratio_scale(w, h, target_min, target_max):
    """PaddleDetection's keep_ratio factor: target_min / im_min unless the long side would exceed target_max."""
    s = target_min / min(w, h)
    if round(s * max(w, h)) > target_max:
        s = target_max / max(w, h)
    return s


def photo_sizes(w, h):
    """Every size the deploy configs produce for a w x h photo, and the path-changing scales."""
    p = 256 / min(w, h)
    sizes = [(round(w * p), round(h * p)), (224, 224), (300, 300), (320, 320), (640, 640)]
    for t_min, t_max in ((800, 1333), (320, 320), (608, 608)):
        s = keep_ratio_scale(w, h, t_min, t_max)
        sizes.append(("fx", s, s))
    sizes += [("fx", 0.5, 0.5), ("fx", 1 / 3, 1 / 3), (w // 2, h // 2), ("fx", 1.5, 1.5)]
    if max(w, h) <= 256:
        sizes.append(("fx", 3.0, 3.0))
    return sizes


def assert_same(img, size, interp, use_ipp, what):
    with ipp(use_ipp):
        ref = cv2_resize_call(img, size, interp)
    got = ours(img, size, interp, use_ipp)
    assert got.shape == ref.shape, what
    if not np.array_equal(got, ref):
        diff = np.abs(got.astype(int) - ref)
        pytest.fail(f"{what}: {int((diff > 0).sum())} of {diff.size} values differ, max {int(diff.max())}, "
                    f"first at {np.argwhere(diff > 0)[0].tolist()}")
    return ref


@pytest.mark.parametrize("name", ["nearest", "linear", "cubic-no-ipp", "area", "lanczos4"])
def test_sample_photos_bit_exact(sample_photos, name):
    """Bilinear (PaddleClas's default) sees every photo at the resize-short-256 and fixed sizes; every
    interpolation sees every photo at two sizes, rotating through photo_sizes so that each size is covered."""
    interp = INTERPS[name.split("-")[0]]
    use_ipp = name != "cubic-no-ipp"  # the wheel's default; IPP changes nothing but INTER_CUBIC
    covered = set()
    for i, (photo, img) in enumerate(sample_photos):
        h, w = img.shape[:2]
        sizes = photo_sizes(w, h)
        picked = {sizes[(2 * i) % len(sizes)], sizes[(2 * i + 1) % len(sizes)]}
        if interp == INTER_LINEAR:
            picked |= set(sizes[:4])
        for size in sorted(picked, key=str):
            assert_same(img, size, interp, use_ipp, f"{photo} {w}x{h} -> {size} {name}")
            covered.add(sizes.index(size))
    assert covered >= set(range(12)), f"sizes never tested: {set(range(12)) - covered}"


@pytest.mark.parametrize("name", list(INTERPS))
def test_resize_short_then_crop_window(sample_photos, name):
    """PaddleClas's resize-short 256 + centre crop 224, fused: the window equals the crop of cv2's full result."""
    interp = INTERPS[name]
    for photo, img in sample_photos[::5]:
        h, w = img.shape[:2]
        p = 256 / min(w, h)
        rw, rh = round(w * p), round(h * p)
        with ipp(False):
            full = cv2.resize(img, (rw, rh), interpolation=interp)
        x, y = (rw - 224) // 2, (rh - 224) // 2
        got = resize(img, rw, rh, interp, window=(x, y, 224, 224), ipp=False)
        assert np.array_equal(got, full[y:y + 224, x:x + 224]), f"{photo} {name}"


def geometry(img, size):
    h, w = img.shape[:2]
    if size[0] == "fx":
        return cv2_resize.output_geometry(w, h, 0, 0, size[1], size[2])
    return cv2_resize.output_geometry(w, h, size[0], size[1])


def ipp_runs(img, size):
    h, w = img.shape[:2]
    return cv2_resize.uses_ipp(INTER_CUBIC, w, h, *geometry(img, size), 1 if img.ndim == 2 else img.shape[2])


def cutouts(sample_photos):
    """Real pixels at awkward shapes: slivers, single pixels, odd and tiny sizes, grey (HxW) and RGB."""
    img = dict(sample_photos)["matplotlib/grace_hopper.jpg"]
    grey = np.ascontiguousarray(img[:, :, 1])
    return [img[100:101, 50:250], img[100:300, 50:51], img[10:11, 10:11], img[5:7, 5:7], img[5:8, 5:8],
            img[5:9, 5:9], img[7:20, 3:20], img[:97, :101], img[:120, :160], grey[:61, :83], grey[40:41, :90]]


EDGE_SIZES = [(7, 3), (3, 7), (1, 1), (5, 4), (1, 9), (13, 1), ("fx", 0.5, 0.5), ("fx", 1 / 3, 1 / 3),
              ("fx", 2.0, 2.0), ("fx", 3.0, 3.0), ("fx", 0.37, 0.41), ("fx", 1.5, 0.4), ("fx", 0.4, 1.5)]


@pytest.mark.parametrize("name", ["nearest", "linear", "cubic-no-ipp", "cubic", "area", "lanczos4"])
def test_edge_shapes_bit_exact(sample_photos, name):
    """Shapes where OpenCV changes kernel: 1xN, Nx1, 1x1, the IPP thresholds, exact halves (linear becomes
    area), thirds, fx sizes whose last block leaves the image, area enlarging on one axis only. "cubic" (IPP on)
    covers the cases the wheel keeps in OpenCV's C++ (too small for IPP, or 2 channels)."""
    interp = INTERPS[name.split("-")[0]]
    use_ipp = name != "cubic-no-ipp"
    for img in cutouts(sample_photos):
        h, w = img.shape[:2]
        sizes = list(EDGE_SIZES) + [(w // 2 or 1, h // 2 or 1), (2 * w, 2 * h), (w + 1, h)]
        for size in sizes:
            if size[0] == "fx" and (round(w * size[1]) == 0 or round(h * size[2]) == 0):
                continue
            assert_same(img, size, interp, use_ipp, f"{w}x{h} -> {size} {name}")


def test_path_switches_are_taken():
    """The special kernels are really selected (so the edge tests above exercise them)."""
    def path(interp, w, h, fx, fy, **kw):
        dw, dh, inv_x, inv_y = cv2_resize.output_geometry(w, h, 0, 0, fx, fy)
        return cv2_resize.choose_path(interp, w, h, dw, dh, inv_x, inv_y, 3, **kw)
    assert path(INTER_LINEAR, 100, 100, 0.5, 0.5) == ("area_fast", INTER_AREA)
    assert path(INTER_LINEAR, 99, 99, 1 / 3, 1 / 3) == ("separable", INTER_LINEAR)
    assert path(INTER_AREA, 99, 99, 1 / 3, 1 / 3) == ("area_fast", INTER_AREA)
    assert path(INTER_AREA, 99, 99, 0.37, 0.41) == ("area", INTER_AREA)
    assert path(INTER_AREA, 99, 99, 1.5, 0.4) == ("separable", INTER_AREA)
    assert path(INTER_CUBIC, 4, 4, 1.5, 1.5)[0] == "ipp_cubic"  # IPP resize
    assert path(INTER_CUBIC, 3, 3, 1.5, 2.0)[0] == "ipp_cubic"  # IPP warpAffine: 3 * 1.5 is not 4 or 5
    assert path(INTER_CUBIC, 3, 4, 2.0, 1.5)[0] == "separable"
    assert path(INTER_CUBIC, 1, 40, 1.37, 1.43)[0] == "separable"
    assert path(INTER_CUBIC, 99, 99, 0.37, 0.41, ipp=False)[0] == "separable"


@pytest.mark.parametrize("name", ["nearest", "linear", "cubic-no-ipp", "cubic", "area", "lanczos4"])
def test_windows_equal_crops_of_the_full_result(sample_photos, name):
    interp = INTERPS[name.split("-")[0]]
    use_ipp = name != "cubic-no-ipp"
    img = dict(sample_photos)["scikit_image/chelsea.png"]
    for size in [(321, 200), (173, 97), ("fx", 1.7, 1.3), ("fx", 0.5, 0.5), ("fx", 0.37, 0.41), (451, 300)]:
        full = ours(img, size, interp, use_ipp)
        fh, fw = full.shape[:2]
        for x, y, cw, ch in [(0, 0, fw, fh), (0, 0, 1, 1), (fw - 1, fh - 1, 1, 1), (fw // 3, fh // 4, 50, 40),
                             (fw - 37, 0, 37, fh), (0, fh - 5, fw, 5), (5, 3, 9, 17)]:
            got = ours(img, size, interp, use_ipp, window=(x, y, cw, ch))
            assert np.array_equal(got, full[y:y + ch, x:x + cw]), f"{size} window {(x, y, cw, ch)} {name}"


def test_sliver_window_stays_small():
    """A 1 x 400 sliver resized short side 256 (102400 x 256): the centre 224 crop is computed alone."""
    rng = np.random.default_rng(0)  # synthetic on purpose: a sliver no photo package ships
    img = rng.integers(0, 256, (1, 400, 3), dtype=np.uint8)
    rw, rh = 400 * 256, 256
    full = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
    x, y = (rw - 224) // 2, (rh - 224) // 2
    assert np.array_equal(resize(img, rw, rh, INTER_LINEAR, window=(x, y, 224, 224)), full[y:y + 224, x:x + 224])


@pytest.fixture
def two_tap_chunk_bytes():
    """set(n): the two-tap path's chunk budget for one test (its plans are cached per geometry: cleared both ways)."""
    before = cv2_resize.TWO_TAP_CHUNK_BYTES

    def set_budget(n):
        cv2_resize.TWO_TAP_CHUNK_BYTES = n
        cv2_resize._two_tap_plan.cache_clear()
    yield set_budget
    set_budget(before)


def test_two_tap_chunks_channels_and_extremes(sample_photos, two_tap_chunk_bytes):
    """The two-tap path (linear; area enlarging an axis) cut into chunks of one, a few and many output rows
    (downscales, where every source row is read once, and enlargements, where neighbouring output rows share
    them); 1 to 5 channels (a uint64 window holds both taps of up to 4; more take a wider one); and black/white
    extremes, where a missing clamp would show (the path skips it: its coefficients sum to 2047..2049), with the
    last column's window running past the row. All bit-identical to cv2."""
    photo = dict(sample_photos)["scikit_image/chelsea.png"][:150, :210]
    rng = np.random.default_rng(7)  # random on purpose: 0/255 blocks at every phase of the taps
    extremes = np.where(rng.random((61, 83, 3)) < 0.5, 0, 255).astype(np.uint8)
    images = [photo, np.ascontiguousarray(photo[:, :, 0]), np.ascontiguousarray(photo[:, :, :2]),
              np.dstack([photo, photo[:, :, 1]]), np.dstack([photo, photo[:, :, :2]]), extremes,
              np.full((37, 53, 3), 255, np.uint8)]
    for budget in (1 << 10, 1 << 13, 1 << 15):
        two_tap_chunk_bytes(budget)
        for img in images:
            h, w = img.shape[:2]
            for size in [(w * 3 // 10, h * 3 // 10), (w * 5 // 7, h * 5 // 7), (w * 7 // 3, h * 7 // 3),
                         ("fx", 0.37, 0.41), ("fx", 1.7, 0.6)]:
                assert_same(img, size, INTER_LINEAR, True, f"{img.shape} -> {size} linear, {budget} bytes")
            for size in [(w * 7 // 3, h * 7 // 3), (w // 3, h * 2), (w * 2, h // 3)]:
                assert_same(img, size, INTER_AREA, True, f"{img.shape} -> {size} area, {budget} bytes")


def test_consume_hands_over_cv2s_rows(sample_photos, two_tap_chunk_bytes):
    """resize(consume=...) hands the window's rows over in order, a chunk at a time on the two-tap path (int32) and
    in one call on the others (uint8): put together, they are cv2's result."""
    two_tap_chunk_bytes(1 << 15)
    img = dict(sample_photos)["scikit_image/chelsea.png"]
    for interp, size in [(INTER_LINEAR, (173, 97)), (INTER_LINEAR, (640, 420)), (INTER_AREA, (900, 100)),
                         (INTER_CUBIC, (173, 97)), (INTER_NEAREST, (173, 97))]:
        got = []
        assert resize(img, *size, interp, ipp=False, consume=lambda r0, rows: got.append((r0, rows.copy()))) is None
        with ipp(False):
            ref = cv2.resize(img, size, interpolation=interp)
        assert [r0 for r0, _ in got] == [sum(len(rows) for _, rows in got[:i]) for i in range(len(got))]
        assert np.array_equal(np.concatenate([rows for _, rows in got]), ref), (interp, size)
        assert (len(got) > 1) == (interp in (INTER_LINEAR, INTER_AREA)), (interp, size, len(got))


def test_two_tap_threads_keep_their_own_scratch(sample_photos):
    """The two-tap path reuses per-thread scratch arrays and caches plans per geometry: threads resizing different
    photos to the same and to different sizes at once (numpy releases the GIL in its loops) still get cv2's bits."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(img, size) for _, img in sample_photos[:8] for size in [(300, 300), (224, 224), (173, 97)]] * 2
    expected = [cv2.resize(img, size, interpolation=cv2.INTER_LINEAR) for img, size in jobs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda job: resize(job[0], *job[1], INTER_LINEAR), jobs))
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))


def test_ipp_cubic_bit_exact(sample_photos):
    """INTER_CUBIC as the x86-64 wheel runs it (Intel IPP, float32 inside), bit for bit: the sample photos at
    PaddleClas's sizes and PaddleDetection's keep-ratio scale, cut-outs at the edge sizes and enlarged x3
    (one axis and both: x3's frequent ties expose IPP's border and tail sums); IPP's warpAffine (fx / fy
    unequal to dsize / size) enlarging, shrinking by less and by more than 1.5 (where its interior changes
    arithmetic) and at 2/3 on the dot; one, three and four channels."""
    cases = []
    for photo, img in sample_photos[::3]:
        h, w = img.shape[:2]
        p = 256 / min(w, h)
        s = keep_ratio_scale(w, h, 800, 1333)
        cases += [(photo, img, size) for size in [(224, 224), (320, 320), (round(w * p), round(h * p)),
                                                   ("fx", s, s), ("fx", 1.5, 1.5), ("fx", 0.61, 0.61),
                                                   ("fx", 0.66, 0.9), ("fx", 2 / 3, 2 / 3), ("fx", 0.77, 1.3)]]
    for photo, img in sample_photos[1::6]:  # one and four channels: other sums at the borders and row ends
        grey, bgra = np.ascontiguousarray(img[:, :, 1]), np.ascontiguousarray(np.dstack([img, img[:, :, :1]]))
        s = keep_ratio_scale(img.shape[1], img.shape[0], 800, 1333)
        cases += [(f"{photo} {kind}", im, size) for kind, im in (("grey", grey), ("4 channels", bgra))
                  for size in [(224, 224), (320, 320), (3 * im.shape[1], im.shape[0]), ("fx", s, s),
                               ("fx", 0.61, 0.61)]]
    for img in cutouts(sample_photos):
        h, w = img.shape[:2]
        enlarged = [(2 * w, 2 * h), (3 * w, 3 * h), (3 * w, h), (w, 3 * h)]
        cases += [(f"cut-out {w}x{h}", img, size) for size in EDGE_SIZES + enlarged
                  if not (size[0] == "fx" and min(round(w * size[1]), round(h * size[2])) == 0)]
    checked = 0
    for photo, img, size in cases:
        if ipp_runs(img, size):
            assert_same(img, size, INTER_CUBIC, True, f"{photo} -> {size} IPP cubic")
            checked += 1
    assert checked > 60, checked


def test_ipp_warp_affine_bit_exact_on_small_random_images():
    """IPP's warpAffine (fx / fy unequal to dsize / size) where its geometry changes most: sources from 2x2 up,
    under 36 rows (no fast rectangle: one call computes everything), scales from 0.4 to 3.2 on each axis, one and
    three channels, random pixels; against the wheel at one thread, bit for bit."""
    rng = np.random.default_rng(7)
    checked = 0
    for i in range(240):
        channels = (1, 3)[i % 2]
        h, w = int(rng.integers(2, 36 if i % 4 == 0 else 90)), int(rng.integers(2, 90))
        fx = float(rng.uniform(0.4, 3.2))
        fy = fx if i % 3 == 0 else float(rng.uniform(0.4, 3.2))
        img = rng.integers(0, 256, (h, w, channels)[:3 if channels > 1 else 2], dtype=np.uint8)
        if min(round(w * fx), round(h * fy)) == 0 or not ipp_runs(img, ("fx", fx, fy)):
            continue
        if cv2_resize._affine(w, h, *geometry(img, ("fx", fx, fy))):
            assert_same(img, ("fx", fx, fy), INTER_CUBIC, True, f"random {w}x{h}x{channels} fx={fx!r} fy={fy!r}")
            checked += 1
    assert checked > 150, checked


def test_ipp_warp_affine_four_channels():
    """IPP's 4-channel warpAffine, whose loops sum in other orders than three channels' (reference/ipp_warp.py,
    step 5): random small images (one call, every pixel a border pixel) at scales 0.4 to 3.2 and at dyadic ones,
    whose exact ties show each order, half of them with few levels; larger ones with a fast rectangle, shrinking
    both sides of 2/3 and enlarging. Against the wheel at one thread, bit for bit."""
    rng = np.random.default_rng(11)
    dyadic = [1.5, 2.5, 1.25, 1.75, 0.75, 3.5, 0.5, 2.25, 0.625]
    cases = [(rng.integers(0, 256, (150 + k, 200 + 3 * k, 4), dtype=np.uint8), s, s)
             for k, s in enumerate([0.56, 0.74, 1.5, 1.25])]
    for i in range(400):
        h, w = int(rng.integers(2, 36 if i % 4 == 0 else 90)), int(rng.integers(2, 90))
        if i % 2:
            fx = float(dyadic[rng.integers(len(dyadic))])
            fy = fx if i % 3 else float(dyadic[rng.integers(len(dyadic))])
        else:
            fx = float(rng.uniform(0.4, 3.2))
            fy = fx if i % 3 == 0 else float(rng.uniform(0.4, 3.2))
        img = rng.integers(0, 256, (h, w, 4), dtype=np.uint8)
        if i % 4 >= 2:
            img = img // 64 * 64 if i % 8 < 4 else (img % 5 * 60).astype(np.uint8)
        cases.append((img, fx, fy))
    checked = 0
    for img, fx, fy in cases:
        h, w = img.shape[:2]
        if min(round(w * fx), round(h * fy)) == 0 or not cv2_resize._affine(w, h, *geometry(img, ("fx", fx, fy))):
            continue
        assert_same(img, ("fx", fx, fy), INTER_CUBIC, True, f"random {w}x{h}x4 fx={fx!r} fy={fy!r}")
        checked += 1
    assert checked > 250, checked


def test_ipp_warp_affine_last_inner_row(sample_photos):
    """83x59 photo crops at x0.6: the last output row's source position is 57 = n - 2 in exact arithmetic, and IPP
    makes it a clamped row (f * (n - 2) + (0.5 f - 0.5) rounds to just below 34; f (n - 1.5) - 0.5 gives 34). Each
    crop here had 1 to 3 values off under the latter bound; plus random 50..120 pixel crops at x0.55 .. x0.65."""
    photos = dict(sample_photos)
    crops = [("matplotlib/grace_hopper.jpg", 509, 99), ("scikit_image/camera.png", 291, 181),
             ("scikit_image/coins.png", 172, 186), ("scikit_image/grass.png", 135, 176),
             ("scikit_image/gravel.png", 174, 406), ("scikit_image/microaneurysms.png", 21, 10),
             ("scikit_image/coffee.png", 271, 61), ("scikit_image/astronaut.png", 69, 40)]
    for name, y, x in crops:
        src = np.ascontiguousarray(photos[name][y:y + 59, x:x + 83])
        assert_same(src, ("fx", 0.6, 0.6), INTER_CUBIC, True, f"{name} 83x59 at ({x}, {y}) x0.6")
    rng = np.random.default_rng(9)
    for k in range(40):
        img = sample_photos[k % len(sample_photos)][1]
        w, h, f = int(rng.integers(50, 121)), int(rng.integers(50, 121)), float(rng.uniform(0.55, 0.65))
        if img.shape[0] <= h or img.shape[1] <= w:
            continue
        y, x = int(rng.integers(0, img.shape[0] - h)), int(rng.integers(0, img.shape[1] - w))
        assert_same(np.ascontiguousarray(img[y:y + h, x:x + w]), ("fx", f, f), INTER_CUBIC, True,
                    f"crop {w}x{h} x{f!r}")


# (rows, fy) and (columns, fx) where the image of n - 2 is an integer in exact arithmetic (_bound_probe)
BOUND_PROBE_ROWS = [(9, 1.4), (14, 1.24), (14, 1.4), (12, 1.9523809523809523), (11, 0.47368421052631576), (59, 0.6),
                    (15, 1.8888888888888888), (16, 0.5862068965517241)]
BOUND_PROBE_COLUMNS = [(8, 1.1538461538461537), (13, 0.5652173913043478), (14, 1.16), (16, 2.0344827586206895),
                       (11, 2.789473684210526), (12, 2.8095238095238093)]


def _bound_probe(n, w, fx, fy, axis, rng):
    """An n x w RGB image whose output line D (a row, axis 0, or a column), the one whose source position is n - 2
    (w - 2) in exact arithmetic, shows whether IPP takes it as inner or clamped: along it, the source line n - 2
    (w - 2) holds, for up to 10 of its pixels, 4 values (one per tap) whose sum rounds differently under the two
    readings (Horner or power-basis weights, their summation orders). Only the input is built from the model."""
    W = ipp_warp
    img = rng.integers(0, 256, (n, w, 3), dtype=np.uint8)
    dw, dh = round(w * fx), round(n * fy)
    m0, m2, m4, m5 = W.inverse(fx, fy)
    d = round((n - 1.5) * fy - 0.5) if axis == 0 else round((w - 1.5) * fx - 0.5)
    _, xin, calls = W.plan(n, w, dh, dw, fx, fy)
    marked, free = 0, -1
    for x0, x1, y0, y1, ytop, ymid in calls:
        lo, hi = (xin[0], xin[1]) if xin else (1, 0)
        if axis == 0 and y0 <= d <= y1:  # the line is a row: its inner columns' horizontal weights
            py = W.chain(float(W.fma64(y0, m4, m5)), m4, d - y0 + 1)[-1:]
            cols = np.arange(max(lo, x0), min(hi, x1) + 1)
            inner = W.chain(float(W.fma64(cols[0], m0, m2)), m0, len(cols)) if len(cols) else cols
            pairs = [(W._taps(inner[k:k + 1], w, "inner"), W._taps(inner[k:k + 1], w, "gather"), "across")
                     for k in range(len(cols))]
        elif axis == 1 and x0 <= d <= x1:  # a column: its inner rows' vertical weights
            rows = np.arange(max(y0, ytop), min(y1, ymid) + 1)
            py = W.chain(float(W.fma64(y0, m4, m5)), m4, y1 - y0 + 1)[rows - y0] if len(rows) else rows
            pairs = [(W._taps(py[k:k + 1], n, "inner"), W._taps(py[k:k + 1], n, "gather"), "down")
                     for k in range(len(rows))]
        else:
            continue
        for (ti, wi), (tg, wg), way in pairs:
            if marked >= 10 or not np.array_equal(ti, tg) or ti[0, 0] <= free:
                continue
            t = rng.integers(0, 256, (20000, 4)).astype(np.float32)
            x = [t[:, k] for k in range(4)]
            if way == "across":
                a = W._across(x, list(wi[0]), 3, "inner")
                b = W._across(x, list(wg[0]), 3, "gather")
            else:
                a = W._chain(x, list(wi[0]), (3, 2, 1, 0))
                b = W._chain(x, list(wg[0]), (3, 2, 0, 1))
            differ = np.nonzero(np.rint(a) != np.rint(b))[0]
            if len(differ):
                line = img[n - 2] if axis == 0 else img[:, w - 2]
                line[ti[0]] = t[differ[0], :, None].astype(np.uint8)
                marked, free = marked + 1, ti[0, 3]
    assert marked, f"no pixel of the {n}x{w} probe tells the two readings apart"
    return img


def test_ipp_warp_affine_last_inner_line_on_built_images():
    """Where the image of source position n - 2 is an integer in exact arithmetic, IPP's bound for the last inner
    row is f * (n - 2) + (0.5 f - 0.5) as rounded (some such rows are clamped), and for the last inner column the
    same plus 1e-13 (every such column is inner): images built so that this line's reading shows (_bound_probe),
    against the wheel bit for bit."""
    rng = np.random.default_rng(4)
    for n, fy in BOUND_PROBE_ROWS:
        img = _bound_probe(n, 90, 0.93, fy, 0, rng)
        assert_same(img, ("fx", 0.93, fy), INTER_CUBIC, True, f"row probe {n} rows fy={fy!r}")
    for w, fx in BOUND_PROBE_COLUMNS:
        img = _bound_probe(60, w, fx, 1.1, 1, rng)
        assert_same(img, ("fx", fx, 1.1), INTER_CUBIC, True, f"column probe {w} columns fx={fx!r}")


def test_ipp_warp_affine_tie_rich_cut_outs(sample_photos):
    """Photo cut-outs with few levels (multiples of 64, or 5 random levels of 60), where exact ties make every sum
    order visible, at the scales where warpAffine's fast rectangle runs IPP's resize kernel (its tails, counted on
    one column more each side than the rectangle, show here): one, three and four channels, bit for bit at one
    thread."""
    rng = np.random.default_rng(5)
    photos = [img for _, img in sample_photos[:4]]
    for k in range(300):
        fx, fy = [(1.5, 1.5), (2.5, 2.5), (1.5, 2.5), (3.5, 1.5), (1.25, 1.25), (0.75, 1.5)][k % 6]
        img = photos[k % 4]
        w, h = int(rng.integers(30, 90)) | 1, int(rng.integers(30, 60)) | 1
        y, x = int(rng.integers(0, img.shape[0] - h)), int(rng.integers(0, img.shape[1] - w))
        src = img[y:y + h, x:x + w]
        src = (rng.integers(0, 5, src.shape) * 60).astype(np.uint8) if k % 3 == 1 else src // 64 * 64
        src = np.ascontiguousarray(src[:, :, 1] if k % 5 == 0 else src)
        if k % 4 == 3 and src.ndim == 3:  # an alpha channel from the same levels
            src = np.ascontiguousarray(np.dstack([src, src[::-1, ::-1, :1]]))
        assert_same(src, ("fx", fx, fy), INTER_CUBIC, True, f"tie-rich {w}x{h} fx={fx} fy={fy}")


def stripes_calibrated() -> None:
    """Skip unless IPP reports no L2 cache size here, as on AMD CPUs, where the stripe rule was measured: OpenCV then
    cuts by 256 KiB (ipp_warp.L2_CACHE). On Intel CPUs IPP reads the real L2 size, which neither cv2 nor IPP's
    Python side shows, so the cut there is not known to the tests."""
    from lite_tools.doctor import cpu_vendor

    vendor = cpu_vendor() or "unknown"
    if vendor != "AuthenticAMD":
        pytest.skip(f"CPU vendor {vendor}: IPP may report an L2 size here, and OpenCV's stripes follow it; the rule "
                    "was measured where it reports none (AMD)")


def test_warp_parameters_refused():
    """A thread count or L2 size below 1 and an unknown IPP dispatch (resize's and the warp's) are refused,
    not computed as something else (cv2 reads setNumThreads(-1) as "all cores", which one thread is not)."""
    img = np.zeros((40, 50, 3), np.uint8)
    for bad in ({"threads": 0}, {"threads": -1}, {"l2_cache": 0}):
        with pytest.raises(ValueError, match="at least 1"):
            resize(img, 0, 0, INTER_CUBIC, fx=0.55, fy=0.55, **bad)
    with pytest.raises(ValueError, match="ipp_dispatch"):
        resize(img, 5, 5, INTER_CUBIC, ipp_dispatch="avx512")
    with pytest.raises(ValueError, match="dispatch"):
        ipp_warp.warp_cubic(img, 0.55, 0.55, dispatch="avx512")


def test_ipp_warp_affine_stripes_follow_the_thread_count():
    """IPP's warpAffine at 2 to 16 OpenCV threads, where OpenCV cuts the output rows into 4 stripes per thread it
    uses, each its own IPP call (ipp_warp.py step 6): random images large enough to be cut (one, three and four
    channels, noise and few levels, which make every stripe's own border strips and position chains visible),
    bit for bit against the wheel at each thread count; the threads must change the wheel's result somewhere,
    or this test would not see the stripes."""
    stripes_calibrated()
    rng = np.random.default_rng(17)
    checked = changed = 0
    for i in range(400):
        channels = (1, 3, 4)[i % 3]
        h, w = int(rng.integers(60, 260)), int(rng.integers(60, 260))
        fx = float(rng.uniform(0.6, 3.2))
        fy = fx if i % 3 == 0 else float(rng.uniform(0.6, 3.2))
        dw, dh, inv_x, inv_y = cv2_resize.output_geometry(w, h, 0, 0, fx, fy)
        if len(ipp_warp.stripes(w, h, dw, dh, channels, 16)) == 1 or not cv2_resize._affine(w, h, dw, dh, fx, fy):
            continue
        img = rng.integers(0, 256, (h, w, channels)[:3 if channels > 1 else 2], dtype=np.uint8)
        if i % 4 == 1:
            img = img // 86 * 85
        one, ours_by_cut = None, {}
        for threads in (1, 2, 3, 4, 6, 8, 11, 16):
            with ipp(True, threads):
                ref = cv2.resize(img, None, fx=fx, fy=fy, interpolation=INTER_CUBIC)
            cut = tuple(ipp_warp.stripes(w, h, dw, dh, channels, threads))  # same cut, same result: computed once
            if cut not in ours_by_cut:
                ours_by_cut[cut] = resize(img, 0, 0, INTER_CUBIC, fx=fx, fy=fy, threads=threads)
            got = ours_by_cut[cut]
            if not np.array_equal(got, ref):
                pytest.fail(f"random {w}x{h}x{channels} fx={fx!r} fy={fy!r} at {threads} threads: "
                            f"{int((got != ref).sum())} of {ref.size} values differ")
            one = ref if one is None else one
            changed += not np.array_equal(ref, one)
        checked += 1
        if checked == 18:
            break
    assert checked == 18 and changed >= 8, (checked, changed)


def test_ipp_warp_affine_stripes_on_a_photo(sample_photos):
    """A photo at PaddleDetection's keep-ratio 608 and x1.5 at thread counts where the wheel's result moves (its
    stripes get short enough to lose their fast rectangle): bit for bit against the wheel."""
    stripes_calibrated()
    img = dict(sample_photos)["scikit_learn/flower.jpg"]
    h, w = img.shape[:2]
    moved = 0
    for f in (keep_ratio_scale(w, h, 608, 608), 1.5):
        with ipp(True):
            one = cv2.resize(img, None, fx=f, fy=f, interpolation=INTER_CUBIC)
        for threads in (3, 6, 8):
            with ipp(True, threads):
                ref = cv2.resize(img, None, fx=f, fy=f, interpolation=INTER_CUBIC)
            got = resize(img, 0, 0, INTER_CUBIC, fx=f, fy=f, threads=threads)
            assert np.array_equal(got, ref), (f, threads, int((got != ref).sum()))
            moved += int((ref != one).sum())
    assert moved > 0


@pytest.mark.parametrize("name", list(INTERPS))
def test_non_contiguous_input(sample_photos, name):
    """A BGR view (negative channel stride) and a column-strided view give cv2's result for the same pixels."""
    interp = INTERPS[name]
    img = dict(sample_photos)["scikit_image/coffee.png"]
    for view in (img[:, :, ::-1], img[::2, 1::3]):
        with ipp(False):
            ref = cv2.resize(np.ascontiguousarray(view), (131, 97), interpolation=interp)
        assert np.array_equal(resize(view, 131, 97, interp, ipp=False), ref), name


# IPP's INTER_CUBIC arithmetic as far as it was recovered by probing the wheel (module docstring, step 6): the per-tap
# float32 weights of a x3 enlargement, found from the rounding of two-pixel probes (a, b at two taps, zeros elsewhere,
# all 65536 pairs), phase 1/3 and 2/3.
IPP_X3_WEIGHTS = {1: ("-0x1.c71c72p-4", "0x1.97b424p-1", "0x1.7b4262p-2", "-0x1.c71c78p-5"),
                  2: ("-0x1.c71c68p-5", "0x1.7b4258p-2", "0x1.97b428p-1", "-0x1.c71c72p-4")}


def _x3_taps_and_weights(n):
    """Output index d of a x3 axis: source s = (d - 1) // 3, phase (d - 1) % 3 (0: the pixel itself), taps s-1..s+2."""
    d = np.arange(3 * n)
    s, phase = (d - 1) // 3, (d - 1) % 3
    table = {0: np.array([0, 1, 0, 0], np.float32)}
    table.update({k: np.array([float.fromhex(h) for h in v], np.float32) for k, v in IPP_X3_WEIGHTS.items()})
    return np.clip(s[:, None] - 1 + np.arange(4), 0, n - 1), np.stack([table[k] for k in phase])


def _fma32(x, y, z):
    """float32 fused multiply-add via float64: exact here (an 8-bit pixel times a float32 weight has <= 32
    significant bits, the addend is of similar magnitude), then one rounding."""
    return (x.astype(np.float64) * y.astype(np.float64) + z.astype(np.float64)).astype(np.float32)


def _per_pixel(taps, w, n):
    """[len(taps), n] float64: the weight each output index gives each source pixel (clamped taps summed)."""
    dense = np.zeros((len(taps), n))
    np.add.at(dense, (np.arange(len(taps))[:, None], taps), w)
    return dense


def test_ipp_cubic_recovered_arithmetic():
    """IPP's cubic as probing recovered it, checked against the wheel on fresh random rows (x3, one axis at a time,
    the interior only): the horizontal pass is (S0*w0 + S1*w1) + (S2*w2 + S3*w3) in float32, the vertical pass
    fma(S0, w0, S1*w1) + fma(S2, w2, S3*w3), both rounded half to even, with the weights recovered from two-pixel
    probes. Our model (the ipp=True path) derives the same weight per source pixel from its position rule (where
    its fma position puts an output of phase 0 at f = 1 of the tap before, the weight 1 lands on the same pixel)
    and matches."""
    rng = np.random.default_rng(2024)  # random on purpose: every rounding case, not a photo's smooth few
    n, rows = 23, 3000
    taps, w = _x3_taps_and_weights(n)
    model_taps, model_w = cv2_resize.ipp_cubic_axis(n, 3.0, 0, 3 * n)
    assert np.array_equal(_per_pixel(model_taps, model_w, n), _per_pixel(taps, w, n))
    inner = slice(4, 3 * n - 8)  # IPP's borders use other sums (left 4 columns, the last 5-8)
    with ipp(True):
        img = rng.integers(0, 256, (rows, n), dtype=np.uint8)
        ref = cv2.resize(img, (3 * n, rows), interpolation=cv2.INTER_CUBIC)
        s = img[:, taps].astype(np.float32)
        p = s * w[None]
        horizontal = np.clip(np.rint((p[..., 0] + p[..., 1]) + (p[..., 2] + p[..., 3])), 0, 255)
        assert np.array_equal(horizontal[:, inner], ref[:, inner])
        assert np.array_equal(resize(img, 3 * n, rows, INTER_CUBIC)[:, inner], ref[:, inner])

        img = rng.integers(0, 256, (n, 40), dtype=np.uint8)
        ref = cv2.resize(img, (40, 3 * n), interpolation=cv2.INTER_CUBIC)
        s = img[taps].astype(np.float32)  # [3n, 4, 40]
        wv = w[:, :, None]
        vertical = _fma32(s[:, 0], wv[:, 0], s[:, 1] * wv[:, 1]) + _fma32(s[:, 2], wv[:, 2], s[:, 3] * wv[:, 3])
        vertical = np.clip(np.rint(vertical), 0, 255)
        assert np.array_equal(vertical[inner, 1:-4], ref[inner, 1:-4])
        assert np.array_equal(resize(img, 40, 3 * n, INTER_CUBIC)[inner, 1:-4], ref[inner, 1:-4])
        plain = np.clip(np.rint((s[:, 0] * wv[:, 0] + s[:, 1] * wv[:, 1]) + (s[:, 2] * wv[:, 2] + s[:, 3] * wv[:, 3])),
                        0, 255)
        assert not np.array_equal(plain[inner, 1:-4], ref[inner, 1:-4])  # the fused form is not a detail


_HOST_DISPATCH_CHILD = r"""
import sys
import numpy as np
import cv2

cv2.setNumThreads(1)
cv2.ipp.setUseIPP(True)
data = np.load(sys.argv[1])
out = {"version": np.array(cv2.ipp.getIppVersion())}
for key in data.files:
    if key.startswith("img"):
        i, img = key[3:], data[key]
        if "scale" + i in data.files:
            fx, fy = data["scale" + i].tolist()
            out["out" + i] = cv2.resize(img, None, fx=fx, fy=fy, interpolation=cv2.INTER_CUBIC)
        else:
            for j, (w, h) in enumerate(data["sizes" + i].tolist()):
                out[f"out{i}_{j}"] = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
np.savez(sys.argv[2], **out)
"""


def cv2_at_host_dispatch(arrays: dict, tmp_path) -> dict:
    """cv2 INTER_CUBIC, one thread, in a child without conftest's OPENCV_IPP pin (IPP picks its own code): for
    arrays img{i} with sizes{i} ([(w, h), ...]: outputs out{i}_{j}) or scale{i} ((fx, fy): out{i}); skips this
    test unless that code is k0."""
    np.savez(tmp_path / "in.npz", **arrays)
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IPP"}
    proc = subprocess.run([sys.executable, "-c", _HOST_DISPATCH_CHILD, str(tmp_path / "in.npz"),
                           str(tmp_path / "out.npz")], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ref = dict(np.load(tmp_path / "out.npz"))
    if "(k0)" not in str(ref["version"]):
        pytest.skip(f"IPP dispatches {ref['version']} here, not k0")
    return ref


def _k0_cases(sample_photos):
    """(image, [(w, h), ...]): the photos (one, three, four channels) at 224x224 and 320x320, and tie-rich random
    images (few grey levels) at exact scales whose row ends, border columns and remainders vary."""
    cases = []
    for _, img in sample_photos:
        for im in (np.ascontiguousarray(img[:, :, 1]), img, np.ascontiguousarray(np.dstack([img, img[:, :, :1]]))):
            cases.append((im, [(224, 224), (320, 320)]))
    rng = np.random.default_rng(4606)
    for channels in (1, 3, 4):
        for t in range(120):
            w, h = int(rng.integers(4, 70)), int(rng.integers(4, 40))
            fx = (3, 1.5, 5 / 3, 2 / 3, 2, 0.5, 7 / 3, 1.25)[t % 8]
            fy = (3, 1.5, 5 / 3, 2 / 3, 2, 1, 7 / 3)[int(rng.integers(0, 7))]
            size = (max(1, round(w * fx)), max(1, round(h * fy)))
            levels = (2, 3, 4, 6, 256)[t % 5]
            img = (rng.integers(0, levels, (h, w, channels)) * (255 // (levels - 1))).astype(np.uint8)
            cases.append((img[:, :, 0] if channels == 1 else img, [size]))
    return cases


def test_ipp_cubic_k0_dispatch_bit_exact(sample_photos, tmp_path):
    """ipp_dispatch="k0": IPP's resize as the wheel runs it on an AVX-512 CPU (its k0 code), bit for bit: cv2 runs in
    a child process with OPENCV_IPP unset, so IPP picks its own dispatch; skipped where that is not k0 (the l9
    model, the default, is what AVX2 CPUs and OPENCV_IPP=avx2 run). The photos at 224x224 and 320x320 (1, 3 and 4
    channels) and tie-rich random images at exact scales; a window of each random case equals its crop."""
    cases = _k0_cases(sample_photos)
    arrays = {}
    for i, (img, sizes) in enumerate(cases):
        arrays[f"img{i}"], arrays[f"sizes{i}"] = img, np.array(sizes)
    ref = cv2_at_host_dispatch(arrays, tmp_path)
    total = 0
    for i, (img, sizes) in enumerate(cases):
        for j, (w, h) in enumerate(sizes):
            want = ref[f"out{i}_{j}"]
            assert ipp_runs(img, (w, h))  # a dsize: IPP's resize, never its warpAffine
            got = resize(img, w, h, INTER_CUBIC, ipp_dispatch="k0")
            diff = got.astype(int) != want
            assert not diff.any(), (f"case {i} {img.shape} -> {w}x{h}: {int(diff.sum())} values differ, first at "
                                    f"{np.argwhere(diff)[0].tolist()}")
            total += want.size
            if i >= 3 * len(sample_photos) and w > 2 and h > 2:
                win = (1, h // 3, w - 2, h - h // 3)
                part = resize(img, w, h, INTER_CUBIC, window=win, ipp_dispatch="k0")
                assert np.array_equal(part, want[win[1]:win[1] + win[3], win[0]:win[0] + win[2]]), f"window of {i}"
    assert total > 3e7, total


# Seeds of _vertical_tail_probe whose outputs move by a level if k0's unfused vertical tail (ipp_warp step 7: the
# last n mod 4 of the kernel's n columns lo .. R + 1) were placed elsewhere. Measured on 600 such images (5.6e7
# values): the model misses 0; a tail past column R (none inside the fast rectangle) 43 values, the whole output
# row's tail 43, a tail counted on the rectangle's own columns lo + 1 .. R 89, on lo + 1 .. R + 1 47. On these
# ten: 0, and 16 (in 8 of them), 16 (8), 11 (7), 7 (6).
VERTICAL_TAIL_PROBES = (22, 74, 104, 147, 165, 215, 275, 293, 297, 578)


def _vertical_tail_probe(k: int):
    """(image, fx, fy): one channel, every row constant (so the vertical sums decide each value), an odd height
    at fy 1.5 or 2.5 (taps at a half, weights near multiples of 1/32: ties the fused and unfused sums round
    apart), some fy a few 1e-9 off; warpAffine's path with a fast rectangle."""
    rng = np.random.default_rng(k)
    w, h = int(rng.integers(25, 60)), int(rng.integers(150, 350)) * 2 + 1
    fx = float(rng.uniform(0.7, 3.5))
    fy = (1.5, 2.5)[k % 2] * (1 + (k % 3 != 0) * float(rng.uniform(1e-10, 1e-8)))
    column = rng.integers(0, 256, (h, 1), dtype=np.uint8)
    return np.repeat(column, w, axis=1), fx, fy


def test_ipp_warp_k0_dispatch_bit_exact(sample_photos, tmp_path):
    """IPP's warpAffine (fx / fy off dsize / size) as the wheel runs it on an AVX-512 CPU (its k0 code):
    warp_cubic(dispatch="k0") and resize(..., ipp_dispatch="k0"), bit for bit, against cv2 in a child with
    OPENCV_IPP unset (skipped where IPP does not pick k0). The photos (three and four channels) at keep-ratio 608
    and x1.5, tie-rich random images (2..90 pixels, scales 0.4..3.2, 1, 3 and 4 channels), where the l9
    model is off on some, and the vertical tail probes (one channel), where its placement shows."""
    cases = []
    for _, img in sample_photos:
        h, w = img.shape[:2]
        for f in (keep_ratio_scale(w, h, 608, 608), 1.5):
            if cv2_resize._affine(w, h, round(w * f), round(h * f), f, f):
                cases.append((img, f, f))
                cases.append((np.ascontiguousarray(np.dstack([img, img[:, :, :1]])), f, f))
    photo_cases = len(cases)
    rng = np.random.default_rng(4607)
    for t in range(240):
        channels = (1, 3, 4)[t % 3]
        w, h = int(rng.integers(2, 91)), int(rng.integers(2, 91))
        fx = float(rng.uniform(0.4, 3.2))
        fy = fx if t % 4 == 0 else float(rng.uniform(0.4, 3.2))
        if not cv2_resize._affine(w, h, round(w * fx), round(h * fy), fx, fy) or min(w * fx, h * fy) < 1:
            continue  # cv2 copies or runs IPP's resize there
        levels = (2, 3, 4, 6, 256)[t % 5]
        img = (rng.integers(0, levels, (h, w, channels)) * (255 // (levels - 1))).astype(np.uint8)
        cases.append((img[:, :, 0] if channels == 1 else img, fx, fy))
    cases += [_vertical_tail_probe(k) for k in VERTICAL_TAIL_PROBES]
    arrays = {}
    for i, (img, fx, fy) in enumerate(cases):
        arrays[f"img{i}"], arrays[f"scale{i}"] = img, np.array([fx, fy])
    ref = cv2_at_host_dispatch(arrays, tmp_path)
    total = photo_total = 0
    for i, (img, fx, fy) in enumerate(cases):
        want = ref[f"out{i}"]
        got = resize(img, 0, 0, INTER_CUBIC, fx=fx, fy=fy, ipp_dispatch="k0")
        diff = got != want
        assert not diff.any(), f"case {i} {img.shape} x{fx:.4f},{fy:.4f}: {int(diff.sum())} values differ"
        total += want.size
        photo_total += want.size if i < photo_cases else 0
    assert photo_total > 5e7 and total - photo_total > 2e6, (photo_total, total)
