"""Our image resampler, specified here so that the generated Java can reproduce it to the last bit.

Separable: first along x, then along y. For an axis of `n_in` pixels resized to `n_out`:
  scale = n_in / n_out; output pixel i has its centre at c = (i + 0.5) * scale in input coordinates, where input
  pixel k covers [k, k + 1).
  - nearest: k = floor(c) with antialias (PIL), floor(i * scale) without (OpenCV); clamped to [0, n_in - 1].
  - bilinear (triangle, support 1) and bicubic (Keys cubic, support 2; a = -0.5 with antialias as PIL,
    a = -0.75 without as OpenCV): with antialias the kernel is widened by fs = max(scale, 1) when shrinking
    (PIL); without, fs = 1 (OpenCV's INTER_LINEAR/INTER_CUBIC do not filter when shrinking).
    Taps k = floor(c - support * fs) .. ceil(c + support * fs) with weight K((k + 0.5 - c) / fs), then
    normalised to sum 1 (in that order, float64). Outside the image: without antialias the tap index is clamped
    to the edge (OpenCV's replicate border); with antialias the tap is dropped before normalising (PIL).
  Each output value is acc = 0.0; for each tap in order: acc += pixel * weight (float64, no FMA), no rounding
  between passes or at the end (the values stay float64 in 0..255 up to overshoot).
"""

from __future__ import annotations

import math

import numpy as np

from ..config import Interp


def _triangle(x: float) -> float:
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def _cubic(a: float):
    def k(x: float) -> float:
        x = abs(x)
        if x < 1.0:
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        if x < 2.0:
            return (((x - 5.0) * x + 8.0) * x - 4.0) * a
        return 0.0
    return k


def axis_taps(n_in: int, n_out: int, interp: Interp, antialias: bool) -> tuple:
    """(indices [n_out, K] int32, weights [n_out, K] float64); unused taps have weight 0 and index 0."""
    scale = n_in / n_out
    if interp == Interp.NEAREST:
        idx = np.array([min(int(math.floor((i + 0.5) * scale if antialias else i * scale)), n_in - 1)
                        for i in range(n_out)], dtype=np.int32)
        return idx[:, None], np.ones((n_out, 1))
    kernel, support = (_triangle, 1.0) if interp == Interp.BILINEAR else (_cubic(-0.5 if antialias else -0.75), 2.0)
    fs = max(scale, 1.0) if antialias else 1.0
    rows = []
    for i in range(n_out):
        c = (i + 0.5) * scale
        taps = []
        for k in range(int(math.floor(c - support * fs)), int(math.ceil(c + support * fs)) + 1):
            w = kernel((k + 0.5 - c) / fs)
            if w == 0.0:
                continue
            if 0 <= k < n_in:
                taps.append((k, w))
            elif not antialias:
                taps.append((min(max(k, 0), n_in - 1), w))
        total = 0.0
        for _, w in taps:
            total += w
        rows.append([(k, w / total) for k, w in taps])
    width = max(len(r) for r in rows)
    idx = np.zeros((n_out, width), dtype=np.int32)
    wts = np.zeros((n_out, width))
    for i, r in enumerate(rows):
        for j, (k, w) in enumerate(r):
            idx[i, j], wts[i, j] = k, w
    return idx, wts


def resize(img: np.ndarray, out_w: int, out_h: int, interp: Interp, antialias: bool) -> np.ndarray:
    """HxWxC (any dtype) -> out_h x out_w x C float64, as specified in the module docstring."""
    src = np.asarray(img, dtype=np.float64)
    h, w = src.shape[:2]
    ix, wx = axis_taps(w, out_w, interp, antialias)
    iy, wy = axis_taps(h, out_h, interp, antialias)
    tmp = np.zeros((h, out_w, src.shape[2]))
    for k in range(ix.shape[1]):
        tmp += src[:, ix[:, k], :] * wx[:, k][None, :, None]
    out = np.zeros((out_h, out_w, src.shape[2]))
    for k in range(iy.shape[1]):
        out += tmp[iy[:, k], :, :] * wy[:, k][:, None, None]
    return out
