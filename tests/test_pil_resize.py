"""reference.pil_resize against the real Pillow (issue 12): 0 grey levels, for every filter PaddleClas's PIL
backend can be asked for, on real photos at PaddleClas's sizes and on the edge cases; windows equal crops."""

from __future__ import annotations

import tracemalloc

import numpy as np
import PIL
import pytest
from PIL import Image

from lite_tools.config import Interp
from lite_tools.reference import pil_resize
from lite_tools.reference.pil_resize import Filter, nearest_indices, resize

FILTERS = list(Filter)
# The pass order for tall sources changed in Pillow 12.2.0 (the .venv has 12.3.0; PaddleClas accepts >= 9.0.0)
TALL_FIRST = tuple(int(p) for p in PIL.__version__.split(".")[:2]) >= (12, 2)


def pillow(img: np.ndarray, width: int, height: int, f: Filter) -> np.ndarray:
    """The oracle: what PaddleClas's ResizeImage(backend="pil") calls."""
    return np.asarray(Image.fromarray(img).resize((width, height), Image.Resampling(int(f))))


def assert_same(ours: np.ndarray, theirs: np.ndarray, what: str):
    assert ours.dtype == np.uint8 and ours.shape == theirs.shape, (what, ours.dtype, ours.shape, theirs.shape)
    if not np.array_equal(ours, theirs):
        diff = np.abs(ours.astype(int) - theirs)
        raise AssertionError(f"{what}: {int((diff > 0).sum())} values differ, by up to {int(diff.max())} levels")


def short_side(w: int, h: int, short: int) -> tuple:
    """PaddleClas's ResizeImage(resize_short=...): round(side * short / min(w, h)) with Python's round."""
    p = short / min(w, h)
    return int(round(w * p)), int(round(h * p))


def paddleclas_sizes(w: int, h: int) -> list:
    """The targets PaddleClas's configs use (resize_short 256/232/236/288, a fixed 224x224), upscaling by 1.5
    and exact halves and thirds; x3 is tested on the small photos only (test_upscaling_by_three)."""
    return [short_side(w, h, 256), (224, 224), short_side(w, h, 232), short_side(w, h, 236),
            short_side(w, h, 288), (w * 3 // 2, h * 3 // 2), (w // 2, h // 2), (w // 3, h // 3)]


def noise(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_real_photos_at_paddleclas_sizes(sample_photos, f):
    """Every photo, at one of PaddleClas's sizes (rotating, so each filter meets every size on several photos),
    and through PaddleClas's own path: resize_short 256, centre crop 224, as one window."""
    assert len(sample_photos) >= 20
    for i, (name, img) in enumerate(sample_photos):
        h, w = img.shape[:2]
        sizes = paddleclas_sizes(w, h)
        tw, th = sizes[(i + f) % len(sizes)]
        assert_same(resize(img, tw, th, f), pillow(img, tw, th, f), f"{name} -> {tw}x{th}")
        rw, rh = short_side(w, h, 256)
        x, y = (rw - 224) // 2, (rh - 224) // 2
        assert_same(resize(img, rw, rh, f, window=(x, y, 224, 224)), pillow(img, rw, rh, f)[y:y + 224, x:x + 224],
                    f"{name} -> {rw}x{rh}, crop 224")


def test_paddleclas_own_pil_resize_and_crop(paddleclas_wheel, sample_photos):
    """PaddleClas 2.6.0's own ResizeImage(resize_short=256, backend="pil") and CropImage(224), from its wheel, for
    every interpolation name its PIL table maps to one filter (and None, which it makes BILINEAR), on photos given
    as DecodeImage gives them (a reversed BGR view): our fused window is the tensor's pixels. Every photo for
    bicubic (PP-HGNetV2's inference.yml) and the default, a few for the other names."""
    from upstream import Upstream

    pre = Upstream(paddleclas_wheel).pre
    crop = pre.CropImage(size=224)
    cases = [("bicubic", "bicubic", sample_photos), (None, "bilinear", sample_photos)]
    cases += [(name, name, sample_photos[i::6]) for i, name in enumerate(("nearest", "bilinear", "box", "lanczos",
                                                                           "hamming"))]
    for name, ours, photos in cases:
        resize_op = pre.ResizeImage(resize_short=256, interpolation=name, backend="pil")
        for photo, rgb in photos:
            img = np.ascontiguousarray(rgb[:, :, ::-1])[:, :, ::-1]  # a view, as cv2.imdecode(...)[:, :, ::-1]
            theirs = crop(resize_op(img))
            h, w = img.shape[:2]
            rw, rh = short_side(w, h, 256)
            x, y = (rw - 224) // 2, (rh - 224) // 2
            assert_same(resize(img, rw, rh, ours, window=(x, y, 224, 224)), theirs, f"{photo} {name}")


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_upscaling_by_three(sample_photos, f):
    for name, img in sample_photos:
        h, w = img.shape[:2]
        if w * h <= 130 * 130:
            assert_same(resize(img, w * 3, h * 3, f), pillow(img, w * 3, h * 3, f), f"{name} x3")


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_grey_images(sample_photos, f):
    """Mode L (one 8-bit band) takes Pillow's image8 path: same arithmetic, one channel."""
    for name, img in sample_photos[:6]:
        grey = np.ascontiguousarray(img[:, :, 1])
        h, w = grey.shape
        for tw, th in ((224, 224), (w // 3, h // 3), (w + w // 2, h + 7)):
            assert_same(resize(grey, tw, th, f), pillow(grey, tw, th, f), f"{name} (L) -> {tw}x{th}")


EDGE_SOURCES = [(1, 1), (1, 9), (9, 1), (1, 300), (2, 2), (5, 3), (13, 17), (3, 400), (101, 1), (100, 1)]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_edge_cases(f):
    """1x1, 1xN, Nx1, odd sizes, one axis unchanged (that pass is skipped), same size (a copy)."""
    for h, w in EDGE_SOURCES:
        for shape in ((h, w, 3), (h, w)):
            img = noise(shape, seed=h * 1000 + w)
            for tw, th in ((1, 1), (w, h), (w, max(1, h // 3)), (max(1, w // 2), h), (3, 5), (w * 3, h * 2),
                           (w + 1, max(1, h - 1)), (2 * w + 1, 1), (1, 2 * h + 1)):
                assert_same(resize(img, tw, th, f, tall_first=TALL_FIRST), pillow(img, tw, th, f),
                            f"{shape} -> {tw}x{th}")


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_tall_sources_resample_vertically_first(sample_photos, f):
    """Pillow >= 12.2's Image.resize resizes a source taller than 100x its width whose height shrinks in two calls,
    vertical pass first: a strip of a real photo, and noise. With the horizontal pass first most of these would differ
    (test_vertical_first_matters)."""
    retina = dict(sample_photos)["scikit_image/retina.jpg"]
    strip = np.ascontiguousarray(retina[:, 700:704])  # 1411 x 4 > 100 x 4
    for img in (strip, noise((401, 4, 3)), noise((1000, 3))):
        h, w = img.shape[:2]
        for tw, th in ((3, 50), (9, h // 3), (2, h - 1), (w, h // 2)):
            ours = resize(img, tw, th, f, tall_first=TALL_FIRST)
            assert_same(ours, pillow(img, tw, th, f), f"{img.shape} -> {tw}x{th}")
            assert_same(resize(img, tw, th, f, window=(tw - 1, 3, 1, th - 5), tall_first=TALL_FIRST),
                        ours[3:th - 2, tw - 1:],
                        f"{img.shape} -> {tw}x{th}, window")


def test_vertical_first_matters():
    """The tall rule is not a no-op: the other Pillow versions' order gives other values for a tall source, and
    the same values for any other."""
    img = noise((401, 4, 3))
    theirs = pillow(img, 3, 50, Filter.BICUBIC)
    assert_same(resize(img, 3, 50, Filter.BICUBIC, tall_first=TALL_FIRST), theirs, "tall")
    assert not np.array_equal(resize(img, 3, 50, Filter.BICUBIC, tall_first=not TALL_FIRST), theirs)
    wide = noise((4, 401, 3))
    assert_same(resize(wide, 50, 3, Filter.BICUBIC, tall_first=not TALL_FIRST), pillow(wide, 50, 3, Filter.BICUBIC),
                "wide")


def test_nearest_accumulates_its_positions():
    """NEAREST reads floor(p_i), p accumulated one step at a time: 2 -> 7 pixels gives 0,0,0,0,1,1,1 where
    floor((i + 0.5) * 2 / 7) gives 0,0,0,1,1,1,1 ((3.5 * (2 / 7) rounds to 1.0)."""
    img = np.array([[[10, 20, 30], [200, 210, 220]]], np.uint8)
    assert_same(resize(img, 7, 1, Filter.NEAREST), pillow(img, 7, 1, Filter.NEAREST), "2 -> 7")
    assert nearest_indices(2, 7).tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert np.floor((np.arange(7) + 0.5) * (2 / 7)).astype(int).tolist() == [0, 0, 0, 1, 1, 1, 1]
    # windows start the accumulation from pixel 0, also past a chunk of accumulation
    n = pil_resize.CHUNK * 256 * 2 + 5
    assert nearest_indices(3, n, n - 40, 40).tolist() == nearest_indices(3, n)[n - 40:].tolist()


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_windows_equal_crops_of_the_full_result(sample_photos, f):
    """Any window (corners, single pixels, whole rows and columns, random) equals the crop of the full result,
    downscaling and upscaling."""
    rng = np.random.default_rng(int(f))
    name, img = sample_photos[(int(f) * 5) % len(sample_photos)]
    h, w = img.shape[:2]
    for tw, th in (short_side(w, h, 256), (w * 3 // 2 + 1, h * 5 // 4)):
        full = resize(img, tw, th, f)
        assert_same(full, pillow(img, tw, th, f), f"{name} -> {tw}x{th}")
        windows = [(0, 0, 1, 1), (tw - 1, th - 1, 1, 1), (0, 0, tw, 1), (tw - 1, 0, 1, th), (0, 0, tw, th)]
        for _ in range(8):
            cw, ch = int(rng.integers(1, tw + 1)), int(rng.integers(1, th + 1))
            windows.append((int(rng.integers(0, tw - cw + 1)), int(rng.integers(0, th - ch + 1)), cw, ch))
        for x, y, cw, ch in windows:
            assert_same(resize(img, tw, th, f, window=(x, y, cw, ch)), full[y:y + ch, x:x + cw],
                        f"{name} -> {tw}x{th}, window {cw}x{ch} at ({x}, {y})")


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.name)
def test_window_memory_stays_bounded(f):
    """An 1x4000 sliver under resize-short 256 is 1,024,000 x 256 (786 MB as uint8 RGB); its centre crop 224
    touches only the few source pixels its taps read."""
    img = noise((1, 4000, 3))
    tw, th = 1_024_000, 256
    tracemalloc.start()
    try:
        out = resize(img, tw, th, f, window=((tw - 224) // 2, (th - 224) // 2, 224, 224))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (224, 224, 3)
    assert peak < 8 << 20, peak
    # the same arithmetic on a size Pillow can hold: the window of a 16,000 x 256 upscale
    small = img[:, :250]
    full = pillow(small, 16_000, 256, f)
    assert_same(resize(small, 16_000, 256, f, window=(7_900, 16, 224, 224)), full[16:240, 7_900:8_124], "sliver")


def test_filters_are_named_as_pillow_numbers_them():
    assert [int(Image.Resampling[f.name]) for f in Filter] == [int(f) for f in Filter]
    assert pil_resize.filter_of(Image.Resampling.LANCZOS) is Filter.LANCZOS
    assert pil_resize.filter_of("bicubic") is Filter.BICUBIC
    assert pil_resize.filter_of(Interp.BILINEAR) is Filter.BILINEAR
    for bad in ("random", 7, True, None):
        with pytest.raises(ValueError, match="unknown Pillow resampling filter"):
            pil_resize.filter_of(bad)


def test_refuses_what_pillow_would_resize_another_way():
    """RGBA (premultiplied), 16-bit and float images take other Pillow paths; windows must fit the output."""
    for img in (noise((4, 4, 4)), np.zeros((4, 4, 3), np.uint16), np.zeros((4, 4), np.float32), np.zeros((0, 4, 3),
                                                                                                          np.uint8)):
        with pytest.raises(ValueError, match="uint8 image"):
            resize(img, 2, 2, Filter.BICUBIC)
    with pytest.raises(ValueError, match="not inside"):
        resize(noise((4, 4, 3)), 8, 8, Filter.BICUBIC, window=(4, 0, 5, 1))
    with pytest.raises(ValueError, match="cannot resize"):
        resize(noise((4, 4, 3)), 0, 8, Filter.BICUBIC)
