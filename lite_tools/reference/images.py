"""Decode any image a user has into 8-bit RGB, the way OpenCV's imread (what PaddleClas/PaddleDetection use)
sees it: EXIF orientation applied, alpha dropped (not composited), palette expanded, grey replicated,
16-bit scaled down by 256 (imread's IMREAD_COLOR does the same), CMYK through Pillow's conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import BadInput

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def load_image(path) -> np.ndarray:
    """HxWx3 uint8 RGB; an unreadable file is a BadInput naming it."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            return _to_rgb8(img)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise BadInput(f"{path}: cannot read image ({type(e).__name__}: {str(e)[:80]})") from None


def _to_rgb8(img) -> np.ndarray:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img).astype(np.int64)
        if mode == "I" and a.max() < 256:
            a8 = a
        else:
            a8 = a >> 8
        a8 = np.clip(a8, 0, 255).astype(np.uint8)
        return np.repeat(a8[:, :, None], 3, axis=2)
    if mode == "F":
        a8 = np.clip(np.asarray(img), 0, 255).astype(np.uint8)
        return np.repeat(a8[:, :, None], 3, axis=2)
    if mode == "P":
        img = img.convert("RGBA") if "transparency" in img.info else img.convert("RGB")
    if mode in ("RGBA", "LA", "PA") or img.mode in ("RGBA", "LA"):
        img = img.convert("RGBA" if img.mode != "LA" else "LA")
        a = np.asarray(img)[:, :, :-1]  # drop alpha, keep the colour values as stored
        return np.ascontiguousarray(np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a)
    return np.ascontiguousarray(np.asarray(img.convert("RGB")))


def list_images(directory) -> list:
    """Every file in `directory` (sorted by name, hidden files left out): the candidates to decode."""
    d = Path(directory)
    if not d.is_dir():
        raise BadInput(f"{d}: no such directory")
    paths = sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
    if not paths:
        raise BadInput(f"{d}: holds no images")
    return paths


def load_folder(directory) -> tuple:
    """([(name, rgb)], [(name, reason)]): every readable image of a folder; an unreadable file is skipped and
    reported, never fatal, but a folder with nothing readable is a BadInput."""
    loaded, skipped = [], []
    for path in list_images(directory):
        try:
            loaded.append((path.name, load_image(path)))
        except BadInput as e:
            skipped.append((path.name, str(e)))
    if not loaded:
        raise BadInput(f"{directory}: no readable images")
    return loaded, skipped


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
