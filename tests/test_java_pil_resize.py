"""The Java core's PilResampler (android_template/.../core), compiled as the app is (Java 8 against API 23's
android.jar, dexable), against lite_tools/reference/pil_resize.py and the real Pillow (issue 12): the same uint8
pixels at tolerance 0, for every filter, on the real photos and the edge cases, windows included; the same
fixed-point tables. One JVM runs every case (tests/java/PilResizeHarness.java, data through files)."""

from __future__ import annotations

import dataclasses
import subprocess

import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from javatools import build_harness
from lite_tools.reference.pil_resize import PRECISION_BITS, Filter, axis_taps, nearest_indices, resize
from test_pil_resize import EDGE_SOURCES, TALL_FIRST, assert_same, noise, paddleclas_sizes, pillow, short_side

CORE = REPO / "android_template" / "app" / "src" / "main" / "java" / "com" / "litetools" / "core"
SOURCES = [CORE / "PilResampler.java", *sorted((REPO / "scripts/java/baseline").glob("*.java"))]
HARNESS = REPO / "tests" / "java" / "PilResizeHarness.java"
FILTERS = list(Filter)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    img: np.ndarray  # HxWx3 uint8
    width: int
    height: int
    f: Filter
    window: tuple | None = None  # (x, y, w, h); None: the whole output
    tall_first: bool = TALL_FIRST

    def reference(self) -> np.ndarray:
        return resize(self.img, self.width, self.height, self.f, window=self.window, tall_first=self.tall_first)

    def pillow_crop(self) -> np.ndarray:
        x, y, w, h = self.window or (0, 0, self.width, self.height)
        return pillow(self.img, self.width, self.height, self.f)[y:y + h, x:x + w]


def argb(img: np.ndarray, seed: int) -> np.ndarray:
    """Bitmap.getPixels' 0xAARRGGBB; random alpha, which an RGB resize must ignore."""
    rgb = img.astype(np.uint32)
    alpha = np.random.default_rng(seed).integers(0, 256, img.shape[:2], dtype=np.uint32)
    return (alpha << 24) | (rgb[:, :, 0] << 16) | (rgb[:, :, 1] << 8) | rgb[:, :, 2]


def write_images(path, images: list) -> None:
    with open(path, "wb") as out:
        for i, img in enumerate(images):
            out.write(np.array([img.shape[1], img.shape[0]], ">i4").tobytes())
            out.write(argb(img, i).astype(">u4").tobytes())


def write_ints(path, rows: list) -> None:
    """The harness's case files: the count, then the rows."""
    path.write_bytes(np.array([len(rows)], ">i4").tobytes() + np.array(rows, ">i4").tobytes())


def resize_job(tmp, cases: list) -> list:
    """The harness's resize job for cases (images written once each) and a reader of its results."""
    images, index = [], {}
    for c in cases:
        if id(c.img) not in index:
            index[id(c.img)] = len(images)
            images.append(c.img)
    write_images(tmp / "images.bin", images)
    write_ints(tmp / "cases.bin", [[index[id(c.img)], c.width, c.height, int(c.f),
                                    *(c.window or (0, 0, c.width, c.height)), int(c.tall_first)] for c in cases])
    return ["resize", tmp / "images.bin", tmp / "cases.bin", tmp / "out.bin"]


def read_windows(tmp, cases: list) -> list:
    """Java's window of each case, in order."""
    data, at, windows = np.fromfile(tmp / "out.bin", np.uint8), 0, []
    for c in cases:
        x, y, w, h = c.window or (0, 0, c.width, c.height)
        windows.append(data[at:at + w * h * 3].reshape(h, w, 3))
        at += w * h * 3
    assert at == data.size
    return windows


def photo_cases(photos) -> list:
    """Every photo and filter at one of PaddleClas's sizes (rotating), and resize_short 256 + centre crop 224
    as one window (what the app computes)."""
    cases = []
    for i, (name, img) in enumerate(photos):
        h, w = img.shape[:2]
        sizes = paddleclas_sizes(w, h)
        rw, rh = short_side(w, h, 256)
        for f in FILTERS:
            tw, th = sizes[(i + f) % len(sizes)]
            cases.append(Case(f"{name} -> {tw}x{th}", img, tw, th, f))
            cases.append(Case(f"{name} -> {rw}x{rh} crop 224", img, rw, rh, f, ((rw - 224) // 2, (rh - 224) // 2,
                                                                                224, 224)))
    return cases


def edge_cases() -> list:
    """1x1, 1xN, Nx1, odd sizes, an axis kept (that pass skipped), the same size (a copy), up and down."""
    cases = []
    for h, w in EDGE_SOURCES:
        img = noise((h, w, 3), seed=h * 1000 + w)
        for tw, th in ((1, 1), (w, h), (w, max(1, h // 3)), (max(1, w // 2), h), (3, 5), (w * 3, h * 2),
                       (w + 1, max(1, h - 1)), (2 * w + 1, 1), (1, 2 * h + 1)):
            cases += [Case(f"{h}x{w} -> {tw}x{th}", img, tw, th, f) for f in FILTERS]
    return cases


def tall_cases(photos) -> list:
    """Sources taller than 100x their width: vertical pass first (Pillow >= 12.2), and Pillow 9.0 to 12.1's order;
    whole and windowed."""
    strip = np.ascontiguousarray(dict(photos)["scikit_image/retina.jpg"][:, 700:704])  # 1411 x 4
    cases = []
    for img in (strip, noise((401, 4, 3))):
        h, w = img.shape[:2]
        for tw, th in ((3, 50), (9, h // 3), (2, h - 1), (w, h // 2)):
            for f in FILTERS:
                for tall_first in (True, False):
                    what = f"{h}x{w} -> {tw}x{th} tall_first={tall_first}"
                    cases.append(Case(what, img, tw, th, f, tall_first=tall_first))
                    cases.append(Case(what + " window", img, tw, th, f, (tw - 1, 3, 1, th - 5), tall_first))
    return cases


def window_cases(photos) -> list:
    """Corners, single pixels, whole rows and columns and random windows of a downscale and an upscale."""
    cases = []
    for f in FILTERS:
        rng = np.random.default_rng(100 + int(f))
        name, img = photos[(int(f) * 7 + 3) % len(photos)]
        h, w = img.shape[:2]
        for tw, th in (short_side(w, h, 256), (w * 3 // 2 + 1, h * 5 // 4)):
            windows = [(0, 0, 1, 1), (tw - 1, th - 1, 1, 1), (0, 0, tw, 1), (tw - 1, 0, 1, th)]
            for _ in range(5):
                cw, ch = int(rng.integers(1, tw + 1)), int(rng.integers(1, th + 1))
                windows.append((int(rng.integers(0, tw - cw + 1)), int(rng.integers(0, th - ch + 1)), cw, ch))
            cases += [Case(f"{name} -> {tw}x{th} window {win}", img, tw, th, f, win) for win in windows]
    return cases


def sliver_cases() -> list:
    """A 1x4000 sliver under resize_short 256 (1,024,000 x 256; only the crop's taps are built) and the window of a
    16,000 x 256 upscale, a size Pillow can hold."""
    img = noise((1, 4000, 3))
    cases = [Case("1x4000 -> 1024000x256 crop 224", img, 1_024_000, 256, f, ((1_024_000 - 224) // 2, 16, 224, 224))
             for f in FILTERS]
    return cases + [Case("1x250 -> 16000x256 window", img[:, :250], 16_000, 256, f, (7_900, 16, 224, 224))
                    for f in FILTERS]


GROUPS = {"photos": photo_cases, "edges": lambda photos: edge_cases(), "tall": tall_cases,
          "windows": window_cases, "sliver": lambda photos: sliver_cases()}


def table_cases() -> list:
    """(n_in, n_out, filter, first, count): whole axes of many sizes, and windows of camera-sized axes at
    PaddleClas's targets (HAMMING and LANCZOS take sin and cos)."""
    sizes = [1, 2, 3, 5, 7, 13, 31, 101, 224, 256, 455, 1080]
    cases = [(a, b, int(f), 0, b) for f in FILTERS for a in sizes for b in sizes]
    rng = np.random.default_rng(5)
    for n_in in (1080, 1440, 1920, 2160, 3024, 4000, 4032):
        for n_out in (224, 232, 236, 256, 288, 300, 320, 384, 455, 608, 640, 1280, 5000):
            for f in FILTERS:
                count = int(rng.integers(1, min(48, n_out) + 1))
                cases.append((n_in, n_out, int(f), int(rng.integers(0, n_out - count + 1)), count))
    return cases


def reference_tables(cases) -> np.ndarray:
    """Per output pixel: start, taps and its coefficients, as the harness writes them."""
    parts = []
    for n_in, n_out, f, first, count in cases:
        if f == Filter.NEAREST:
            idx = nearest_indices(n_in, n_out, first, count)
            assert (idx >= 0).all()  # an index outside the input does not happen (pil_resize step 1)
            rows = np.stack([idx, np.ones_like(idx), np.full_like(idx, 1 << PRECISION_BITS)], axis=1)
            parts.append(rows.ravel())
            continue
        t = axis_taps(n_in, n_out, f, first, count)
        full = np.concatenate([t.start[:, None], t.count[:, None], t.fixed], axis=1)
        keep = np.concatenate([np.ones((count, 2), bool), np.arange(t.fixed.shape[1])[None, :] < t.count[:, None]],
                              axis=1)
        parts.append(full[keep])
    return np.concatenate(parts)


@pytest.fixture(scope="module")
def jvm(tmp_path_factory, android_jar):
    """java(*args, heap=...): the stdout of tests/java/PilResizeHarness.java over the core's classes."""
    classpath = build_harness(SOURCES, HARNESS, tmp_path_factory.mktemp("pil-java"), android_jar)

    def java(*args, heap="1g"):
        proc = subprocess.run(["java", f"-Xmx{heap}", "-cp", classpath, "PilResizeHarness", *map(str, args)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout
    return java


@pytest.fixture(scope="module")
def java_runs(jvm, sample_photos, tmp_path_factory):
    """({group: [(case, Java's window)]}, Java's tables): every case of GROUPS and table_cases() in one JVM."""
    tmp = tmp_path_factory.mktemp("pil-resize-jobs")
    cases = {group: make(sample_photos) for group, make in GROUPS.items()}
    flat = [c for group in cases.values() for c in group]
    write_ints(tmp / "tables.bin", table_cases())
    jvm(*resize_job(tmp, flat), "taps", tmp / "tables.bin", tmp / "taps.bin")
    windows = iter(read_windows(tmp, flat))
    results = {group: [(c, next(windows)) for c in group_cases] for group, group_cases in cases.items()}
    return results, np.fromfile(tmp / "taps.bin", ">i4")


def test_tables_equal_the_reference(java_runs):
    """The fixed-point coefficient tables (the double arithmetic, StrictMath's sin and cos against the C library's)
    and NEAREST's accumulated positions, for whole axes and windows."""
    tables = table_cases()
    ours, theirs = java_runs[1], reference_tables(tables)
    assert ours.size == theirs.size and np.array_equal(ours, theirs), (
        f"{ours.size} vs {theirs.size} values, first difference at "
        f"{int(np.argmax(ours[:theirs.size] != theirs[:ours.size]))}")
    assert {f for _, _, f, _, _ in tables} == set(map(int, FILTERS))


@pytest.mark.parametrize("group", ["photos", "edges", "tall", "windows", "sliver"])
def test_java_equals_the_reference(java_runs, group):
    """Every case; of the photos, the windows the app computes (their whole resizes, slow in numpy, are checked
    against Pillow itself below, as tests/test_pil_resize.py checks the reference)."""
    results = [(c, out) for c, out in java_runs[0][group] if group != "photos" or c.window is not None]
    assert {c.f for c, _ in results} == set(FILTERS) and len(results) >= 2 * len(FILTERS)
    for c, out in results:
        assert_same(out, c.reference(), c.name + f" {c.f.name}")


@pytest.mark.parametrize("group", ["photos", "edges", "tall", "windows"])
def test_java_equals_pillow(java_runs, group):
    """Directly against Image.resize (the crop of its result for windows), where this Pillow orders the passes as
    the case asks (the tall cases in the other order are the reference's only)."""
    results = java_runs[0][group]
    checked = 0
    for c, out in results:
        if c.tall_first == TALL_FIRST:
            assert_same(out, c.pillow_crop(), c.name + f" {c.f.name}")
            checked += 1
    assert checked >= len(results) // 2 > 0


def test_windows_equal_crops_of_java_full_result(java_runs):
    """The window path against the full path of the same class (not only against the reference)."""
    full = {(id(c.img), c.width, c.height, c.f): out for c, out in java_runs[0]["photos"] if c.window is None}
    paired = 0
    for c, out in java_runs[0]["photos"]:
        whole = full.get((id(c.img), c.width, c.height, c.f))
        if c.window is not None and whole is not None:
            x, y, w, h = c.window
            assert_same(out, whole[y:y + h, x:x + w], c.name)
            paired += 1
    assert paired >= 5  # the rotation puts resize_short 256 among the full sizes of several photos


def test_memory_grows_with_the_window_not_the_output(jvm, tmp_path):
    """In a 16 MB heap: the 224 crop of a 1x4000 sliver resized to 1,024,000 x 256 (one intermediate row of the
    whole output width would be 12 MB of ints), of a 500x500 image upscaled to 60,000 x 60,000, and of a tall
    strip's vertical-first resize; each equal to the reference's window."""
    cases = [Case("1x4000 -> 1024000x256", noise((1, 4000, 3)), 1_024_000, 256, f, (511_888, 16, 224, 224))
             for f in (Filter.BICUBIC, Filter.LANCZOS)]
    big = noise((500, 500, 3), seed=1)
    cases += [Case("500x500 -> 60000x60000", big, 60_000, 60_000, f, (29_888, 29_888, 224, 224))
              for f in (Filter.BILINEAR, Filter.HAMMING)]
    cases.append(Case("20000x4 -> 3x5000", noise((20_000, 4, 3), seed=2), 3, 5_000, Filter.BICUBIC,
                      (0, 2_000, 3, 1_000)))
    jvm(*resize_job(tmp_path, cases), heap="16m")
    for c, out in zip(cases, read_windows(tmp_path, cases)):
        assert_same(out, c.reference(), c.name + f" {c.f.name}")


def test_refuses_bad_requests(jvm):
    """A window outside the output, an unknown filter, an empty size, a pixel array shorter than the image."""
    lines = jvm("refuse").splitlines()
    assert lines[0] == "window 5x1 at (4, 0) is not inside the 8x8 output"
    assert lines[1] == "unknown Pillow filter 7"
    assert lines[2] == "cannot resize 4x4 to 0x8"
    assert lines[3] == "pixel array holds 15 values, image is 4x4"


def test_frame_timing(jvm, sample_photos, tmp_path):
    """Prints ms per 1920x1080 frame (resize_short 256 + crop 224) for issue 12's bench (pytest -s); asserts the
    benchmarked bicubic crop equals Pillow's."""
    frame = np.asarray(Image.fromarray(dict(sample_photos)["scikit_image/retina.jpg"]).resize((1920, 1080)))
    write_images(tmp_path / "frame.bin", [frame])
    print()
    print(jvm("bench", tmp_path / "frame.bin", 40, tmp_path / "crop.bin"), end="")
    rw, rh = short_side(1920, 1080, 256)
    x, y = (rw - 224) // 2, (rh - 224) // 2
    crop = np.fromfile(tmp_path / "crop.bin", np.uint8).reshape(224, 224, 3)
    assert_same(crop, pillow(frame, rw, rh, Filter.BICUBIC)[y:y + 224, x:x + 224], "1920x1080 bench frame")
