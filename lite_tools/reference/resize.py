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

Resize and crop are fused: `resize(..., window=(x, y, w, h))` computes only that window of the output, from only
the source rows and columns its taps read, a few source rows at a time. Every output pixel it computes has the
same taps, in the same order, as in the full resize, so the window is bit-identical to cropping the full result
(trailing zero-weight taps, which pad a row of the tap table to its widest row, add +-0.0 and change nothing).
An 8 KB 4000x1 PNG under a short-side resize of 256 and a 224 crop (a 1,024,000 x 256 resized image, 6 GB in
float64) costs a few KB this way.
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


def axis_taps(n_in: int, n_out: int, interp: Interp, antialias: bool, first: int = 0,
              count: int | None = None) -> tuple:
    """(indices [count, K] int32, weights [count, K] float64) of output pixels first .. first + count - 1 (all
    n_out by default); unused taps have weight 0 and index 0. A pixel's taps do not depend on which others are
    asked for."""
    scale = n_in / n_out
    count = n_out - first if count is None else count
    if not (0 <= first and count >= 1 and first + count <= n_out):
        raise ValueError(f"output pixels {first}..{first + count - 1} are not within 0..{n_out - 1}")
    wanted = range(first, first + count)
    if interp == Interp.NEAREST:
        idx = np.array([min(int(math.floor((i + 0.5) * scale if antialias else i * scale)), n_in - 1)
                        for i in wanted], dtype=np.int32)
        return idx[:, None], np.ones((count, 1))
    kernel, support = (_triangle, 1.0) if interp == Interp.BILINEAR else (_cubic(-0.5 if antialias else -0.75), 2.0)
    fs = max(scale, 1.0) if antialias else 1.0
    rows = []
    for i in wanted:
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
    idx = np.zeros((count, width), dtype=np.int32)
    wts = np.zeros((count, width))
    for i, r in enumerate(rows):
        for j, (k, w) in enumerate(r):
            idx[i, j], wts[i, j] = k, w
    return idx, wts


# Source rows per step of the horizontal pass: bounds its temporaries to CHUNK x window width x C values.
CHUNK_ROWS = 256


def _span(idx: np.ndarray, wts: np.ndarray) -> tuple:
    """(lo, hi): the source pixels the real (non-zero-weight) taps read, inclusive."""
    used = idx[wts != 0.0]
    if used.size == 0:  # cannot happen (each row's weights sum to 1), but stay in range
        return 0, 0
    return int(used.min()), int(used.max())


def resize(img: np.ndarray, out_w: int, out_h: int, interp: Interp, antialias: bool, window=None) -> np.ndarray:
    """HxWxC (any real dtype) -> out_h x out_w x C float64, as specified in the module docstring; with
    window=(x, y, w, h), only that part of it (h x w x C), bit-identical to resize(...)[y:y+h, x:x+w]."""
    src = np.asarray(img)
    if src.dtype.kind not in "biuf":
        src = src.astype(np.float64)
    h, w = src.shape[:2]
    x0, y0, cw, ch = window if window is not None else (0, 0, out_w, out_h)
    if not (0 <= x0 and 0 <= y0 and cw >= 1 and ch >= 1 and x0 + cw <= out_w and y0 + ch <= out_h):
        raise ValueError(f"window {cw}x{ch} at ({x0}, {y0}) is not inside the {out_w}x{out_h} output")
    ix, wx = axis_taps(w, out_w, interp, antialias, x0, cw)
    iy, wy = axis_taps(h, out_h, interp, antialias, y0, ch)
    # Only the source block the taps read; indices made relative to it (zero-weight padding taps clamped in).
    xlo, xhi = _span(ix, wx)
    ylo, yhi = _span(iy, wy)
    ix = np.clip(ix - xlo, 0, xhi - xlo)
    iy = np.clip(iy - ylo, 0, yhi - ylo)
    block = src[ylo:yhi + 1, xlo:xhi + 1]
    channels = src.shape[2]
    # Horizontal pass. src values times float64 weights are computed in float64 (the exact widening of any
    # integer or float32 value), so this equals converting the image to float64 first, without that copy.
    tmp = np.zeros((block.shape[0], cw, channels))
    for r0 in range(0, block.shape[0], CHUNK_ROWS):
        rows, acc = block[r0:r0 + CHUNK_ROWS], tmp[r0:r0 + CHUNK_ROWS]
        for k in range(ix.shape[1]):
            acc += rows[:, ix[:, k], :] * wx[:, k][None, :, None]
    out = np.zeros((ch, cw, channels))
    for k in range(iy.shape[1]):
        out += tmp[iy[:, k], :, :] * wy[:, k][:, None, None]
    return out
