"""Decode any image a user has into 8-bit RGB, the way OpenCV's imread (what PaddleClas/PaddleDetection use)
sees it: EXIF orientation applied where OpenCV reads it (reference/exif.py), alpha dropped (not composited), palette expanded, grey replicated,
16-bit scaled down by 256 (imread's IMREAD_COLOR does the same), CMYK through Pillow's conversion.

Decoding is bounded by our own pixel limit, read from the header before any pixel is decoded: at most
LITE_TOOLS_MAX_PIXELS pixels (width x height; 100,000,000 by default, i.e. 10000x10000; decoding takes about
7 bytes a pixel at its peak: Pillow's image and our RGB array). A larger image, such as a 389 KB 20000x20000 PNG
(a "decompression bomb"), is skipped with a reason that names its size, the limit and how to raise it. Pillow's own
DecompressionBombWarning and DecompressionBombError are not used, so they print nothing and never end a run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import BadInput
from . import exif

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
MAX_PIXELS_ENV = "LITE_TOOLS_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 100_000_000
# How many unreadable files a "no readable images" error names before it only counts the rest.
NAMED_IN_ERROR = 5


def max_pixels() -> int:
    """The decoding limit in pixels: LITE_TOOLS_MAX_PIXELS, or DEFAULT_MAX_PIXELS when it is unset or empty."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise BadInput(f"{MAX_PIXELS_ENV}={os.environ[MAX_PIXELS_ENV]!r}: not a positive whole number of pixels "
                       f"(the default is {DEFAULT_MAX_PIXELS})")
    return value


def _megapixels(n: int) -> str:
    return f"{n / 1e6:.3g} megapixels"


def load_image(path, limit: int | None = None) -> np.ndarray:
    """HxWx3 uint8 RGB; an unreadable file, or one of more than `limit` pixels (max_pixels() by default), is a
    BadInput naming it and the reason."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    limit = max_pixels() if limit is None else limit
    # Our limit replaces Pillow's (whose warning would be noise on stderr and whose error would end the run);
    # it is checked on the header's size, before the pixels are decoded.
    Image.MAX_IMAGE_PIXELS = None
    try:
        if os.path.getsize(path) == 0:
            raise BadInput(f"{path}: cannot read image (empty file)")
        with Image.open(path) as img:
            w, h = img.size
            if w * h > limit:
                raise BadInput(f"{path}: too large to decode: {w}x{h} is {_megapixels(w * h)}, over the limit of "
                               f"{_megapixels(limit)} ({limit} pixels; raise it with {MAX_PIXELS_ENV}={w * h}, "
                               f"which takes about {w * h * 7 / 1e9:.2g} GB of memory)")
            with open(path, "rb") as f:
                orientation = exif.opencv_orientation(f.read())
            if orientation is None:  # neither JPEG nor PNG: PIL's reading of the tag
                ImageOps.exif_transpose(img, in_place=True)  # in place: not a second copy of the decoded image
            elif orientation != exif.NORMAL:  # where OpenCV reads it (reference/exif.py)
                img = img.transpose(getattr(Image.Transpose, exif.TRANSPOSE[orientation]))
            return _to_rgb8(img)
    except UnidentifiedImageError:
        raise BadInput(f"{path}: cannot read image (UnidentifiedImageError: not in a raster format Pillow "
                       f"decodes, such as JPEG, PNG, BMP, WebP, TIFF or GIF)") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, MemoryError) as e:
        raise BadInput(f"{path}: cannot read image ({type(e).__name__}: {str(e)[:80]})") from None


def _to_rgb8(img) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _grey_to_rgb8(img)
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    if mode in ("RGBA", "LA", "PA") or img.mode in ("RGBA", "LA"):
        img = img.convert("RGBA" if img.mode != "LA" else "LA")
        a = np.asarray(img)[:, :, :-1]  # drop alpha, keep the colour values as stored
        return np.ascontiguousarray(np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a)
    return _rgb_by_strips(img)


def _grey_to_rgb8(img) -> np.ndarray:
    """16-bit, 32-bit and float grey as 8-bit RGB: the top 8 of 16 bits (an "I" image whose values all fit 8 bits
    as they are), floats clipped to 0..255; a strip of rows at a time, so the wide integer copy is never whole-image
    (it was 26 bytes a pixel)."""
    a = np.asarray(img)
    shift = 8
    if img.mode == "F":
        shift = 0
    elif img.mode == "I" and a.max() < 256:
        shift = 0
    h, w = a.shape
    out = np.empty((h, w, 3), dtype=np.uint8)
    step = max(1, (1 << 20) // max(w, 1))  # about a million pixels a strip: a few MB of temporaries
    for y in range(0, h, step):
        strip = a[y:y + step] >> shift if shift else a[y:y + step]  # in the image's own integer type
        out[y:y + step] = np.clip(strip, 0, 255).astype(np.uint8)[:, :, None]
    return out


def _rgb_by_strips(img) -> np.ndarray:
    """img.convert("RGB") as an HxWx3 array, converted and copied a strip of rows at a time into the result:
    the peak is Pillow's decoded image plus the array (not also a whole-image RGB copy and its bytes, 10 bytes a
    pixel in all). The conversions are per pixel, so strips give the same values."""
    w, h = img.size
    out = np.empty((h, w, 3), dtype=np.uint8)
    step = max(1, (1 << 22) // max(w, 1))  # about 4 million pixels a strip
    for y in range(0, h, step):
        n = min(step, h - y)
        strip = img.crop((0, y, w, y + n))
        if strip.mode in ("1", "L"):
            grey = strip.convert("L") if strip.mode == "1" else strip
            out[y:y + n] = np.frombuffer(grey.tobytes(), dtype=np.uint8).reshape(n, w)[:, :, None]
        else:
            rgb = strip if strip.mode == "RGB" else strip.convert("RGB")
            out[y:y + n] = np.frombuffer(rgb.tobytes(), dtype=np.uint8).reshape(n, w, 3)
    return out


def list_images(directory) -> list:
    """Every file in `directory` (sorted by name, hidden files left out): the candidates to decode."""
    d = Path(directory)
    if not d.is_dir():
        raise BadInput(f"{d}: no such directory")
    paths = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
    if not paths:
        raise BadInput(f"{d}: holds no images")
    return paths


def load_folder(directory, config=None) -> tuple:
    """([(name, rgb)], [(name, reason)]): every readable image of a folder; an unreadable file is skipped and
    reported, never fatal, but a folder with nothing readable is a BadInput. With `config` (a DeployConfig), an
    image its preprocessing leaves nothing of (preprocess.unusable: a 4000x1 sliver under a keep_ratio resize) is
    skipped the same way, with the reason, instead of ending the run."""
    from .preprocess import unusable

    loaded, skipped = [], []
    limit = max_pixels()
    for path in list_images(directory):
        try:
            rgb = load_image(path, limit)
        except BadInput as e:
            skipped.append((path.name, str(e)))
            continue
        why = unusable(rgb.shape[1], rgb.shape[0], config) if config is not None else None
        if why:
            skipped.append((path.name, f"{path}: {why}"))
        else:
            loaded.append((path.name, rgb))
    if not loaded:
        raise BadInput(f"{directory}: no readable images: {skipped_summary(directory, skipped)}")
    return loaded, skipped


def skipped_summary(directory, skipped) -> str:
    """'NAME: why; NAME: why; and N more' for the first few skipped files (their reasons without the folder)."""
    named = []
    for name, reason in skipped[:NAMED_IN_ERROR]:
        prefix = f"{Path(directory) / name}: "
        named.append(f"{name}: {reason[len(prefix):] if reason.startswith(prefix) else reason}")
    more = len(skipped) - len(named)
    return "; ".join(named) + (f"; and {more} more" if more > 0 else "")


def synthetic_images(count: int, seed: int = 0) -> list:
    """Deterministic photo-like RGB images of varied sizes and aspect ratios: smooth gradients, blobs and
    texture, so resize, crop and channel order all matter (unlike flat noise)."""
    rng = np.random.RandomState(seed)
    images = []
    for _ in range(count):
        w, h = int(rng.randint(96, 720)), int(rng.randint(96, 720))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        img = np.zeros((h, w, 3))
        for c in range(3):
            fx, fy, phase = rng.uniform(0.5, 6.0), rng.uniform(0.5, 6.0), rng.uniform(0, 2 * np.pi)
            img[:, :, c] = 127 + 90 * np.sin(2 * np.pi * (fx * xx / w + fy * yy / h) + phase)
        for _ in range(3):
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, max(w, h) / 3)
            colour = rng.uniform(0, 255, 3)
            mask = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r)))[:, :, None]
            img = img * (1 - mask) + colour * mask
        img += rng.normal(0, 8, img.shape)
        images.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return images
