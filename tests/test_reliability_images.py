"""Regression tests for the image cases of the reliability probe (../shared/probes/reliability-2026-12-01.md),
named after its case ids: unreadable images are named with their reasons (P9, P15, D6), decoding is bounded by
our own pixel limit (P17, P18), and resize + crop are fused so that a sliver image costs no more than its crop
(P19). The CLI cases run the real CLI on real files made here with Pillow."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from conftest import REPO, refused, run_cli
from test_reliability import PRESET

SAMPLES = REPO / "lite_tools" / "samples"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def blank_png(path, w: int, h: int) -> None:
    """A w x h 1-bit grey PNG of zeros, compressed as it is streamed: a few KB on disk whatever size it claims
    (20000x20000 is 48 KB), without ever holding its pixels."""
    comp = zlib.compressobj(9)
    row = b"\0" * (1 + (w + 7) // 8)
    parts = [comp.compress(row * min(256, h - y)) for y in range(0, h, 256)] + [comp.flush()]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
                     + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b""))


def sliver_png(path, w: int = 4000, h: int = 1) -> None:
    """The probe's 8 KB 4000x1 PNG: short side 1, so resize_short 256 asks for 1,024,000 x 256."""
    rng = np.random.RandomState(19)
    Image.fromarray(rng.randint(0, 256, (h, w, 3)).astype(np.uint8)).save(path)


def unreadable(folder) -> dict:
    """{file name: what its reason must say}: the probe's unreadable files (P9, P15, P16)."""
    folder.mkdir(exist_ok=True)
    (folder / "zero.jpg").write_bytes(b"")
    (folder / "text.jpg").write_text("not a picture at all\n")
    (folder / "drawing.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>\n')
    good = (SAMPLES / "landscape.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[:len(good) // 3])
    return {"zero.jpg": "empty file", "text.jpg": "UnidentifiedImageError", "drawing.svg": "UnidentifiedImageError",
            "truncated.jpg": "truncated"}


@pytest.fixture
def person(zoo_dir):
    """The cached PULC_person_exists export (parity and deploy only read it)."""
    return zoo_dir("PULC_person_exists")


def skipped_lines(text: str) -> list:
    return [ln for ln in text.splitlines() if "skipped" in ln]


def test_P9_names_unreadable_images(person, tmp_path):
    """A folder holding only a zero-byte .jpg said `no readable images`, with no file and no reason."""
    folder = tmp_path / "zero"
    folder.mkdir()
    (folder / "zero.jpg").write_bytes(b"")
    line = refused(run_cli("parity", person, *PRESET, "--images", folder), "no readable images")
    assert "zero.jpg: cannot read image (empty file)" in line


@pytest.mark.parametrize("name", ["text.jpg", "drawing.svg", "truncated.jpg"])
def test_P15_names_each_unreadable_image_and_why(person, tmp_path, name):
    """Only a text file named .jpg, only an SVG, or only a truncated JPEG: the one error line names the file and
    the reason."""
    reasons = unreadable(tmp_path / "all")
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(tmp_path / "all" / name, folder / name)
    line = refused(run_cli("parity", person, *PRESET, "--images", folder), "no readable images")
    assert f"{name}: cannot read image (" in line and reasons[name] in line, line


def test_P15_many_unreadable_images_name_the_first_few_and_count_the_rest(person, tmp_path):
    folder = tmp_path / "mix"
    reasons = unreadable(folder)
    for i in range(3):
        (folder / f"zz{i}.png").write_bytes(b"")
    line = refused(run_cli("parity", person, *PRESET, "--images", folder), "no readable images")
    names = sorted([*reasons, "zz0.png", "zz1.png", "zz2.png"])
    for name in names[:5]:
        assert f"{name}: cannot read image" in line, line
    assert "zz2.png" not in line and line.endswith("and 2 more"), line
    assert str(folder) not in line.split("no readable images")[1], "each file is named once, without its folder"


def _bomb_folder(tmp_path):
    folder = tmp_path / "mixbomb"
    folder.mkdir()
    shutil.copy(SAMPLES / "landscape.jpg", folder / "a_photo.jpg")
    blank_png(folder / "bomb.png", 20000, 20000)
    sliver_png(folder / "sliver.png")
    assert (folder / "bomb.png").stat().st_size < 100_000
    return folder


def test_P17_bomb_png_is_skipped_and_the_run_goes_on(person, tmp_path):
    """A 20000x20000 PNG (48 KB) was an uncaught DecompressionBombError that ended the run. It is skipped with a
    reason naming its size, the limit and how to raise it; the others are compared, the 4000x1 sliver (P19) too
    (the bomb is decoded, and refused, before anything is preprocessed, so the old code never reaches it)."""
    folder = _bomb_folder(tmp_path)
    proc = run_cli("parity", person, *PRESET, "--images", folder)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS: 2 image(s)"), proc.stdout
    [line] = skipped_lines(proc.stderr)
    assert "bomb.png: too large to decode: 20000x20000 is 400 megapixels" in line, line
    assert "over the limit of 100 megapixels" in line and "LITE_TOOLS_MAX_PIXELS=400000000" in line, line
    assert "DecompressionBomb" not in proc.stderr


def test_P17_the_pixel_limit_is_ours_to_set(person, tmp_path):
    """LITE_TOOLS_MAX_PIXELS lowers (or raises) the limit; a value that is not a count is one error line."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(SAMPLES / "landscape.jpg", folder / "a.jpg")
    w, h = Image.open(folder / "a.jpg").size
    line = refused(run_cli("parity", person, *PRESET, "--images", folder,
                           env={"LITE_TOOLS_MAX_PIXELS": str(w * h - 1)}), "no readable images")
    assert f"a.jpg: too large to decode: {w}x{h}" in line and f"LITE_TOOLS_MAX_PIXELS={w * h}" in line, line
    refused(run_cli("parity", person, *PRESET, "--images", folder, env={"LITE_TOOLS_MAX_PIXELS": "lots"}),
            "LITE_TOOLS_MAX_PIXELS='lots': not a positive whole number")


def test_P18_no_decompression_warning(person, tmp_path):
    """A 9500x9500 PNG is over Pillow's warning threshold (89.5 megapixels) and under our limit (100): it used
    to print a 2-line DecompressionBombWarning with a site-packages path. Now it is decoded silently."""
    folder = tmp_path / "big"
    folder.mkdir()
    blank_png(folder / "big.png", 9500, 9500)
    proc = run_cli("parity", person, *PRESET, "--images", folder, "--quiet")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS: 1 image(s)"), proc.stdout
    assert "Warning" not in proc.stderr and "site-packages" not in proc.stderr, proc.stderr


def test_D6_deploy_console_lists_skipped_images(person, tmp_path):
    """`deploy --images` on a mixed folder said nothing on the console about the files it skipped (only
    report.html counted them); now each is a line, as `parity` prints them."""
    folder = tmp_path / "mix"
    reasons = unreadable(folder)
    shutil.copy(SAMPLES / "landscape.jpg", folder / "good.jpg")
    proc = run_cli("deploy", person, *PRESET, "--images", folder, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = skipped_lines(proc.stderr)
    assert len(lines) == len(reasons), proc.stderr
    for name, why in reasons.items():
        assert any(f"{folder / name}: cannot read image" in ln and why in ln for ln in lines), (name, lines)


# P19: resize and crop fused. A 4000x1 PNG under resize_short 256 + crop 224 took 18.8 GB and 52 s.

PREPROCESS_PEAK = textwrap.dedent("""
    import resource, sys, time, tracemalloc
    limit = 3 << 30  # address space: the old unfused path asks for 6 GB at once and dies here, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from lite_tools.config import presets
    from lite_tools.reference.images import load_image
    from lite_tools.reference.preprocess import preprocess
    config = presets.PRESETS["imagenet-cls"]()  # resize_short 256, centre crop 224 (at 35d746f too)
    started = time.perf_counter()
    tracemalloc.start()
    pre = preprocess(load_image(sys.argv[1]), config)
    peak = tracemalloc.get_traced_memory()[1]
    print(peak, time.perf_counter() - started, pre.tensor.shape, pre.resized_size, pre.crop_offset)
""")


def test_P19_sliver_png_preprocess_is_bounded(tmp_path):
    """Decoding and preprocessing the 4000x1 PNG (imagenet-cls: resize_short 256 + crop 224) allocates < 64 MB
    (tracemalloc) and takes well under a second; in a child capped at 3 GB of address space, so that the old
    unfused code (a 5.9 GB float64 array) fails there instead of exhausting the machine."""
    path = tmp_path / "sliver.png"
    sliver_png(path)
    assert path.stat().st_size < 16_000
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", PREPROCESS_PEAK, str(path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    peak, seconds, rest = proc.stdout.split(" ", 2)
    assert rest.strip() == "(1, 3, 224, 224) (1024000, 256) (511888, 16)", proc.stdout
    assert int(peak) < 64 << 20, f"tracemalloc peak {int(peak) / 2**20:.1f} MB"
    assert float(seconds) < 5, proc.stdout


def _independent(img, size, crop, interp, antialias) -> np.ndarray:
    """Full resize by cv2 (no antialias) or Pillow (antialias), then the centre crop: no code of ours."""
    (rw, rh), (cw, ch) = size, crop
    if antialias:
        pil = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[interp]
        full = np.asarray(Image.fromarray(img).resize((rw, rh), pil)).astype(np.float64)
    else:
        cv = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}[interp]
        full = cv2.resize(img, (rw, rh), interpolation=cv).astype(np.float64)
    ox, oy = (rw - cw) // 2, (rh - ch) // 2
    return full[oy:oy + ch, ox:ox + cw]


def test_P19_fused_resize_crop_is_the_full_resize_cropped():
    """On random small images, sizes, crops and every resampler: the fused window is bit-identical to our own
    full resize cropped, and agrees with cv2's / Pillow's full resize cropped as closely as test_reference.py holds
    the full resize to them."""
    from lite_tools.config import Interp
    from lite_tools.reference.resize import resize

    rng = np.random.RandomState(2026)
    for case in range(60):
        h, w = (int(v) for v in rng.randint(2, 70, 2))
        rw, rh = (int(v) for v in rng.randint(2, 100, 2))
        cw, ch = int(rng.randint(1, rw + 1)), int(rng.randint(1, rh + 1))
        interp = list(Interp)[case % 3]
        antialias = bool(case % 2)
        base = rng.randint(0, 256, (h // 2 + 1, w // 2 + 1, 3)).astype(np.uint8)  # smooth enough for cv2's
        img = cv2.resize(base, (w, h), interpolation=cv2.INTER_LINEAR)             # fixed-point rounding
        ox, oy = (rw - cw) // 2, (rh - ch) // 2
        fused = resize(img, rw, rh, interp, antialias, window=(ox, oy, cw, ch))
        full = resize(img, rw, rh, interp, antialias)[oy:oy + ch, ox:ox + cw]
        assert fused.shape == (ch, cw, 3) and fused.tobytes() == full.tobytes(), (case, h, w, rw, rh, cw, ch)
        if interp == Interp.NEAREST and antialias:
            continue  # the reference is not held to Pillow's NEAREST (test_reference.py does not claim it)
        theirs = _independent(img, (rw, rh), (cw, ch), interp.value, antialias)
        # the tolerances test_reference.py holds the full resize to: cv2's and Pillow's 8-bit rounding
        tol = {(Interp.NEAREST, False): 0.0, (Interp.BILINEAR, False): 1.0, (Interp.BICUBIC, False): 0.5 + 1e-4,
               (Interp.BILINEAR, True): 3.0, (Interp.BICUBIC, True): 3.0}[interp, antialias]
        gap = np.abs(np.clip(fused, 0, 255) - theirs).max()
        assert gap <= tol, (case, interp, antialias, gap)


def keep_ratio_config(tmp_path):
    """pulc-person-exists as a JSON config, but resized the PaddleDetection way: fit into 224x224 keeping the aspect
    ratio (keep_ratio), then the 224x224 centre crop, so the network input stays the model's fixed 224x224."""
    path = tmp_path / "keep_ratio.json"
    assert run_cli("config", "export", "--preset", "pulc-person-exists", "--out", path).returncode == 0
    data = json.loads(path.read_text())
    data["resize"] = {**data["resize"], "mode": "fixed", "width": 224, "height": 224, "keep_ratio": True}
    for key in ("source", "origins"):
        data.pop(key, None)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("command", ["parity", "deploy"])
def test_P19_an_image_that_resizes_to_nothing_is_skipped(person, tmp_path, command):
    """Under a keep_ratio resize into 224x224 the 4000x1 PNG resizes to 224x0: that ended the whole run (`image
    of 4000x1 resizes to nothing`). It is skipped as an unreadable image is, named with why, and the run goes on
    with the other images (deploy's Java core check too); with no image left, the one `no readable images` line
    names it."""
    cfg = keep_ratio_config(tmp_path)
    folder = tmp_path / "imgs"
    folder.mkdir()
    sliver_png(folder / "sliver.png")
    Image.open(SAMPLES / "landscape.jpg").convert("RGB").resize((256, 256)).save(folder / "square.png")
    args = {"parity": ("parity", person, "--config", cfg, "--images", folder),
            "deploy": ("deploy", person, "--config", cfg, "--images", folder, "--out", tmp_path / "d")}[command]
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("PASS: 1 image(s)" if command == "parity" else "READY") in proc.stdout, proc.stdout
    (line,) = skipped_lines(proc.stderr)
    assert "sliver.png: 4000x1 resizes to 224x0" in line and "keep_ratio into 224x224" in line, line
    if command == "deploy":
        report = json.loads((tmp_path / "d" / "report.json").read_text())
        assert report["java"]["images"] == 1 and [name for name, _ in report["parity"]["skipped"]] == ["sliver.png"]
        return
    (folder / "square.png").unlink()
    refused(run_cli(*args), "no readable images", "sliver.png: 4000x1 resizes to 224x0")


def test_P19_sixteen_bit_grey_stays_within_the_bound(tmp_path):
    """A 16-bit grey PNG took ~26 bytes a pixel to decode (a whole-image int64 copy), beyond the ~7 the pixel
    limit's message promises: decoding it now peaks near its own size plus the 8-bit RGB result."""
    path = tmp_path / "grey16.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 65535, (2000, 2000), dtype=np.uint16)).save(path)
    code = textwrap.dedent(f"""
        import tracemalloc
        from pathlib import Path
        import numpy as np
        from PIL import Image
        from lite_tools.reference.images import load_image
        tracemalloc.start()
        rgb = load_image(Path({str(path)!r}))
        peak = tracemalloc.get_traced_memory()[1]
        want = (np.asarray(Image.open({str(path)!r})).astype(np.int64) >> 8).astype(np.uint8)
        assert rgb.shape == (2000, 2000, 3) and (rgb == want[:, :, None]).all()
        print(peak / (2000 * 2000))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 12, f"{float(proc.stdout):.1f} bytes a pixel"
