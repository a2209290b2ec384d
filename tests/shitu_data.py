"""A generated PP-ShiTu gallery and queries for the tests (no third-party images): 4 labels x 5 images of
distinct families of patterns, in PaddleClas's layout (image_root with label folders and a `path<TAB>label` data
file; each object on a plain backdrop), and queries that are perturbed copies of gallery images (stretched to
640x640, brightened, noised), so that recognition is meaningful even with deterministic weights: a query's whole
image is nearest to its source."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

LABELS = ("apple", "bottle", "can", "box")
PER_LABEL = 5
QUERY_SIZE = 640  # the detector's input: DetResize is then an exact copy, in PaddleClas and in lite-tools
MARGIN = 0.15  # backdrop around the object, of its side: the detector's boxes then stay mostly inside the image


@dataclasses.dataclass(frozen=True)
class Dataset:
    image_root: Path
    data_file: Path
    items: tuple  # (relative path, label), in data-file order
    queries: tuple  # paths
    sources: tuple  # index into items of each query's source


def _pattern(label: str, rng: np.random.RandomState) -> np.ndarray:
    w, h = int(rng.randint(220, 330)), int(rng.randint(220, 330))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    base = rng.uniform(40, 215, 3)
    ink = rng.uniform(0, 255, 3)
    img = np.ones((h, w, 3)) * base
    if label == "apple":  # rings
        cx, cy, f = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h, rng.uniform(0.05, 0.12)
        m = 0.5 + 0.5 * np.sin(np.hypot(xx - cx, yy - cy) * f)
    elif label == "bottle":  # vertical bars
        m = (np.sin(xx * rng.uniform(0.08, 0.2) + rng.uniform(0, 6)) > 0).astype(np.float64)
    elif label == "can":  # checkerboard
        s = int(rng.randint(14, 30))
        m = ((xx // s + yy // s) % 2).astype(np.float64)
    else:  # diagonal gradient with a block
        m = (xx + yy) / (w + h)
        x0, y0 = int(rng.randint(0, w // 2)), int(rng.randint(0, h // 2))
        m[y0:y0 + h // 3, x0:x0 + w // 3] = 1.0
    img = img * (1 - m[:, :, None]) + ink * m[:, :, None]
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def on_backdrop(obj: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """The object photographed on a plain backdrop (MARGIN of the side on each edge): what a gallery photo is."""
    h, w = obj.shape[:2]
    mx, my = int(round(w * MARGIN)), int(round(h * MARGIN))
    canvas = np.full((h + 2 * my, w + 2 * mx, 3), 128.0) + rng.normal(0, 4, (h + 2 * my, w + 2 * mx, 3))
    canvas[my:my + h, mx:mx + w] = obj
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def perturbed(img: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """A gallery photo stretched to 640x640, brightened and noised."""
    import cv2

    big = cv2.resize(img, (QUERY_SIZE, QUERY_SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    big = big * rng.uniform(0.97, 1.03) + rng.uniform(-3, 3) + rng.normal(0, 2, big.shape)
    return np.clip(np.rint(big), 0, 255).astype(np.uint8)


def make(root: Path, queries: int = 3, seed: int = 11) -> Dataset:
    from PIL import Image

    rng = np.random.RandomState(seed)
    image_root = Path(root) / "gallery"
    items, images = [], []
    for label in LABELS:
        (image_root / label).mkdir(parents=True, exist_ok=True)
        for k in range(PER_LABEL):
            rel = f"{label}/{label}_{k}.png"
            img = on_backdrop(_pattern(label, rng), rng)
            Image.fromarray(img).save(image_root / rel)
            items.append((rel, label))
            images.append(img)
    data_file = image_root / "data_file.txt"
    data_file.write_text("".join(f"{rel}\t{label}\n" for rel, label in items), encoding="utf-8")
    picks = tuple(int(i) for i in rng.choice(len(items), size=queries, replace=False))
    query_dir = Path(root) / "queries"
    query_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, i in enumerate(picks):
        path = query_dir / f"query_{n}_{items[i][1]}.png"
        Image.fromarray(perturbed(images[i], rng)).save(path)
        paths.append(path)
    return Dataset(image_root, data_file, tuple(items), tuple(paths), picks)
