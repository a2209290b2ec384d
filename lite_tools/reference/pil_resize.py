"""Pillow's `Image.resize` on uint8 images, reproduced to the last bit (issue 12), so that the Java core can
compute the tensor PaddleClas's `ResizeImage(backend="pil")` computes. Target: Pillow 12.3.0 (PaddleClas 2.6.0
asks for pillow>=9.0.0, unpinned), on x86-64 (see "Platform" below). Learned from Pillow's `Image.resize`
(src/PIL/Image.py), `_resize` (src/_imaging.c), `ImagingResample` (src/libImaging/Resample.c) and
`ImagingScaleAffine` (src/libImaging/Geometry.c); written anew in numpy.

What `np.asarray(Image.fromarray(img).resize((width, height), f))` computes, for img HxWx3 (mode RGB) or HxW
(mode L) uint8, box=None, reducing_gap=None:

0. Before any resampling (Image.resize): the same size returns a copy. Since Pillow 12.2.0 (PR #9524), a source
   taller than 100 times its width whose height shrinks is resized in two calls, (W, H) -> (W, height) ->
   (width, height): the vertical pass runs first (step 4); Pillow 9.0 to 12.1 always run the horizontal pass
   first (tall_first=False). Other modes (RGBA, P, 1, I;16, F) take other paths and are refused here.
1. NEAREST does not convolve (`_resize` -> ImagingTransform -> ImagingScaleAffine), per axis of n_in -> n_out:
   step = double(n_in) / n_out; p = 0.0 + step * 0.5; output pixel i reads input floor(p_i), where p_0 = p and
   p_(i+1) = p_i + step, accumulated one addition at a time in double (not (i + 0.5) * step: the accumulated
   rounding can cross an integer). An index outside 0..n_in - 1 would give 0 (the fill); it does not happen.
2. The other filters, per axis, coefficients in double (precompute_coeffs), for output pixel i:
   K(x), support s: BOX 1 on (-0.5, 0.5], s 0.5; BILINEAR 1 - |x| on |x| < 1, s 1; HAMMING 1 at 0, 0 at
   |x| >= 1, else sin(y) / y * (0.54f + 0.46f * cos(y)) with y = |x| * pi and the two constants float32 (widened);
   BICUBIC a = -0.5: |x| < 1: ((1.5 |x| - 2.5) |x|) |x| + 1; |x| < 2: (((|x| - 5) |x| + 8) |x| - 4) * -0.5;
   LANCZOS on [-3, 3) (half open): sinc(x) * sinc(x / 3), sinc(x) = sin(x pi) / (x pi), sinc(0) = 1.
   scale = double(n_in) / n_out; fs = max(scale, 1) (the support widens when shrinking); support = s * fs;
   K = ceil(support) * 2 + 1 table columns; center = 0.0 + (i + 0.5) * scale;
   xmin = max(trunc(center - support + 0.5), 0); xmax = min(trunc(center + support + 0.5), n_in) (C casts:
   truncation toward zero); taps x = 0 .. xmax - xmin - 1 read input xmin + x with
   w_x = K(((xmin + x) - center + 0.5) * (1.0 / fs)) (times the reciprocal, in that order);
   ww = w_0 + w_1 + ... (in order); w_x = w_x / ww unless ww == 0; then fixed point, PRECISION_BITS = 22:
   c_x = trunc(w_x * 2**22 + 0.5) if w_x >= 0 else trunc(w_x * 2**22 - 0.5) (int32); columns past the last tap 0.
3. One pass over an axis (ImagingResample{Horizontal,Vertical}_8bpc), each channel alike:
   acc = 2**21 + sum_x v[xmin + x] * c_x in int32 (cannot overflow: |acc| < 2**31 for these kernels);
   out = clip(acc >> 22, 0, 255) (arithmetic shift: floor). The result of a pass is uint8.
4. Two passes: horizontal first (its uint8 result is the input of the vertical pass), except in the tall case
   of step 0 (vertical first). A pass is skipped when its axis keeps its size. The horizontal pass only computes
   the source rows the vertical taps read (ymin of the first output row .. ymax of the last); that saves work,
   it changes no value.

Resize and crop are fused as in `reference.resize`: `resize(..., window=(x, y, w, h))` computes only that output
window: the first pass only for the source rows and columns the window's taps read (for the horizontal-first
order: the intermediate rows the window's vertical taps read, over the window's columns), a few rows at a time.
Each value has the same taps as in the full resize, and integer arithmetic has no order, so the window equals
the full result's crop bit for bit.

Implementation: the sums of step 3 are float64 matrix products over blocks of BLOCK outputs (a dense band of
the coefficient table times the input span the block reads, converted to float64 per block and CHUNK rows, so
memory is bounded by the block, not the axis): every product (< 2**31) and partial sum (< 2**53) is an integer
that float64 holds exactly, so any summation order (BLAS, FMA) gives the exact int32 sum; acc >> 22 is
floor(acc * 2**-22).

Platform: coefficients follow IEEE double without contraction (x86-64 builds). A Pillow built with fused
multiply-add (gcc contracts by default where the CPU has it, e.g. aarch64) or a libm whose sin/cos differ in the
last bit (HAMMING, LANCZOS) may round a weight differently. A Java port uses plain double arithmetic (no
Math.fma); Java 17's Math.sin/cos and StrictMath.sin/cos gave the same fixed-point HAMMING and LANCZOS tables as
this module for every n_in, n_out in 1..80 and for 1920->455, 1080->256, 640->384, 427->256, 1411->256,
256->1024, 600->256, 4000->224.
"""

from __future__ import annotations

import dataclasses
import enum
import math

import numpy as np

PRECISION_BITS = 22
# Output pixels per dense coefficient block (step 3): wider blocks multiply more zeros, narrower ones make more
# and smaller matrix products.
BLOCK = 16
# Rows (or columns) of the non-resampled axis per step: bounds the float64 temporaries to CHUNK x span x C.
CHUNK = 256
# Image.resize resizes sources taller than this many times their width vertically first (step 0).
TALL_RATIO = 100


class Filter(enum.IntEnum):
    """Pillow's resampling filters, numbered as PIL.Image.Resampling (its constants can be passed as they are)."""
    NEAREST = 0
    LANCZOS = 1
    BILINEAR = 2
    BICUBIC = 3
    BOX = 4
    HAMMING = 5


def filter_of(resample) -> Filter:
    """A Filter from itself, Pillow's number, or a name ("bicubic", Interp.BICUBIC)."""
    if isinstance(resample, str):
        name = str(resample.value if isinstance(resample, enum.Enum) else resample).upper()
        if name in Filter.__members__:
            return Filter[name]
    elif isinstance(resample, (int, np.integer)) and not isinstance(resample, bool) and int(resample) in set(Filter):
        return Filter(int(resample))
    raise ValueError(f"unknown Pillow resampling filter {resample!r}; use one of "
                     f"{', '.join(f.name.lower() for f in Filter)}")


def _box(x):
    return np.where((x > -0.5) & (x <= 0.5), 1.0, 0.0)


def _bilinear(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _bicubic(x):
    x = np.abs(x)
    near = (1.5 * x - 2.5) * x * x + 1.0
    far = (((x - 5.0) * x + 8.0) * x - 4.0) * -0.5
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


# Pillow writes these as float constants (0.54f, 0.46f); C widens them to double.
_HAMMING_A = float(np.float32(0.54))
_HAMMING_B = float(np.float32(0.46))


def _hamming_scalar(x: float) -> float:
    x = abs(x)
    if x == 0.0:
        return 1.0
    if x >= 1.0:
        return 0.0
    y = x * math.pi
    return math.sin(y) / y * (_HAMMING_A + _HAMMING_B * math.cos(y))


def _sinc(x: float) -> float:
    if x == 0.0:
        return 1.0
    y = x * math.pi
    return math.sin(y) / y


def _lanczos_scalar(x: float) -> float:
    return _sinc(x) * _sinc(x / 3) if -3.0 <= x < 3.0 else 0.0


def _elementwise(scalar):
    """A kernel through Python's math (the C library's sin/cos, as Pillow; numpy's own may differ in the last bit)."""
    ufunc = np.frompyfunc(scalar, 1, 1)
    return lambda x: ufunc(x).astype(np.float64)


# filter -> (kernel on float64 arrays, support)
_KERNELS = {
    Filter.BOX: (_box, 0.5),
    Filter.BILINEAR: (_bilinear, 1.0),
    Filter.HAMMING: (_elementwise(_hamming_scalar), 1.0),
    Filter.BICUBIC: (_bicubic, 2.0),
    Filter.LANCZOS: (_elementwise(_lanczos_scalar), 3.0),
}


@dataclasses.dataclass(frozen=True)
class AxisTaps:
    """Step 2's table for some output pixels of one axis: pixel j reads input start[j] + t with the fixed-point
    weight fixed[j, t] (2**22 is 1.0) for t < count[j]; fixed[j, t] == 0 past that."""
    start: np.ndarray  # [n] int64
    count: np.ndarray  # [n] int64
    fixed: np.ndarray  # [n, K] int64

    def span(self) -> tuple:
        """(lo, hi): the input pixels lo .. hi - 1 that these taps read."""
        return int(self.start.min()), int((self.start + self.count).max())


def _window(n_out: int, first: int, count) -> np.ndarray:
    count = n_out - first if count is None else count
    if not (0 <= first and count >= 1 and first + count <= n_out):
        raise ValueError(f"output pixels {first}..{first + count - 1} are not within 0..{n_out - 1}")
    return np.arange(first, first + count, dtype=np.int64)


def axis_taps(n_in: int, n_out: int, resample, first: int = 0, count: int | None = None) -> AxisTaps:
    """Step 2 for output pixels first .. first + count - 1 (all by default) of an axis of n_in resized to n_out
    (not NEAREST). A pixel's taps do not depend on which others are asked for."""
    kernel, support = _KERNELS[filter_of(resample)]
    out = _window(n_out, first, count)
    scale = float(n_in) / n_out
    fs = max(scale, 1.0)
    support = support * fs
    width = int(math.ceil(support)) * 2 + 1
    center = 0.0 + (out + 0.5) * scale
    start = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    stop = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n_in)
    taps = np.arange(width, dtype=np.int64)
    real = taps[None, :] < (stop - start)[:, None]
    w = np.where(real, kernel(((start[:, None] + taps[None, :]) - center[:, None] + 0.5) * (1.0 / fs)), 0.0)
    total = np.zeros(out.size)
    for t in range(width):  # in tap order, as the C loop (the padding adds +0.0)
        total += w[:, t]
    w = np.where(total[:, None] != 0.0, w / np.where(total == 0.0, 1.0, total)[:, None], w)
    one = float(1 << PRECISION_BITS)
    fixed = np.where(w < 0, np.trunc(-0.5 + w * one), np.trunc(0.5 + w * one)).astype(np.int64)
    return AxisTaps(start, stop - start, np.where(real, fixed, 0))


def nearest_indices(n_in: int, n_out: int, first: int = 0, count: int | None = None) -> np.ndarray:
    """Step 1 for output pixels first .. first + count - 1: the input index each reads (-1: outside, reads 0).
    The positions are accumulated from pixel 0, CHUNK * 256 at a time (bounded memory for any first)."""
    out = _window(n_out, first, count)
    step = float(n_in) / n_out
    pos = 0.0 + step * 0.5
    found = []
    run = CHUNK * 256
    end = int(out[-1]) + 1
    for c0 in range(0, end, run):
        seq = np.full(min(run, end - c0), step)
        seq[0] = pos
        acc = np.add.accumulate(seq)  # one addition at a time, as the C loop
        pos = float(acc[-1]) + step
        if c0 + acc.size > out[0]:
            found.append(acc[max(int(out[0]) - c0, 0):])
    p = np.concatenate(found)
    idx = np.where(p < 0, -1, np.floor(p)).astype(np.int64)
    return np.where(idx < n_in, idx, -1)


def _blocks(taps: AxisTaps, lo: int) -> list:
    """[(b0, b1, s0, s1, A)]: outputs b0..b1-1 are A @ input[s0:s1] (relative to lo), A dense float64."""
    blocks = []
    width = taps.fixed.shape[1]
    for b0 in range(0, taps.start.size, BLOCK):
        b1 = min(b0 + BLOCK, taps.start.size)
        start = taps.start[b0:b1] - lo
        s0, s1 = int(start.min()), int((start + taps.count[b0:b1]).max())
        dense = np.zeros((b1 - b0, s1 - s0 + width))
        dense[np.arange(b1 - b0)[:, None], (start - s0)[:, None] + np.arange(width)] = taps.fixed[b0:b1]
        blocks.append((b0, b1, s0, s1, dense[:, :s1 - s0]))
    return blocks


def _to_uint8(acc: np.ndarray) -> np.ndarray:
    """Step 3's rounding: clip((acc + 2**21) >> 22, 0, 255), acc holding exact integers."""
    return np.clip(np.floor((acc + float(1 << (PRECISION_BITS - 1))) * 2.0 ** -PRECISION_BITS), 0, 255).astype(
        np.uint8)


def _pass(planes: np.ndarray, taps: AxisTaps, lo: int, axis: int) -> np.ndarray:
    """Step 3 over `axis` (0: vertical, 2: horizontal) of planes [rows, C, cols] uint8 (any strides), whose index 0
    on that axis is input pixel lo; the other axis CHUNK at a time. Each block converts only the input it reads
    to float64 (memory bounded by the block's span, not the axis's) and is one matrix product."""
    rows, channels, cols = planes.shape
    n = taps.start.size
    blocks = _blocks(taps, lo)
    if axis == 2:
        out = np.empty((rows, channels, n), np.uint8)
        for r0 in range(0, rows, CHUNK):
            o = out[r0:r0 + CHUNK].reshape(-1, n)
            for b0, b1, s0, s1, dense in blocks:
                x = np.ascontiguousarray(planes[r0:r0 + CHUNK, :, s0:s1], dtype=np.float64).reshape(-1, s1 - s0)
                o[:, b0:b1] = _to_uint8(x @ dense.T)
        return out
    out = np.empty((n, channels, cols), np.uint8)
    for c0 in range(0, cols, CHUNK):
        part = min(CHUNK, cols - c0)
        for b0, b1, s0, s1, dense in blocks:
            x = np.ascontiguousarray(planes[s0:s1, :, c0:c0 + part], dtype=np.float64).reshape(s1 - s0, -1)
            out[b0:b1, :, c0:c0 + part] = _to_uint8(dense @ x).reshape(b1 - b0, channels, part)
    return out


def _check(img, width: int, height: int, window) -> tuple:
    src = np.asarray(img)
    if src.dtype != np.uint8 or not (src.ndim == 2 or (src.ndim == 3 and src.shape[2] == 3)) or 0 in src.shape:
        raise ValueError(f"expected an HxW or HxWx3 uint8 image, got {src.dtype} {src.shape}")
    if width < 1 or height < 1:
        raise ValueError(f"cannot resize to {width}x{height}")
    x0, y0, w, h = window if window is not None else (0, 0, width, height)
    if not (0 <= x0 and 0 <= y0 and w >= 1 and h >= 1 and x0 + w <= width and y0 + h <= height):
        raise ValueError(f"window {w}x{h} at ({x0}, {y0}) is not inside the {width}x{height} output")
    return src, (int(x0), int(y0), int(w), int(h))


def resize(img, width: int, height: int, resample, window=None, tall_first: bool = True) -> np.ndarray:
    """np.asarray(Image.fromarray(img).resize((width, height), resample)) for an HxWx3 (RGB) or HxW (L) uint8
    image, as the module docstring specifies; with window=(x, y, w, h) only that part of it (h x w [x 3]),
    bit-identical to the full result's [y:y+h, x:x+w]. tall_first: Pillow >= 12.2's pass order for tall
    sources (step 0); False gives Pillow 9.0 to 12.1's."""
    src, (x0, y0, w, h) = _check(img, width, height, window)
    f = filter_of(resample)
    src_h, src_w = src.shape[:2]
    if (width, height) == (src_w, src_h):
        return src[y0:y0 + h, x0:x0 + w].copy()
    pixels = src if src.ndim == 3 else src[:, :, None]
    if f == Filter.NEAREST:
        xi = nearest_indices(src_w, width, x0, w)
        yi = nearest_indices(src_h, height, y0, h)
        out = pixels[np.maximum(yi, 0)[:, None], np.maximum(xi, 0)[None, :]]
        out[(yi < 0)[:, None] | (xi < 0)[None, :]] = 0
    else:
        out = _convolve(pixels, width, height, f, (x0, y0, w, h), tall_first)
    return out if src.ndim == 3 else out[:, :, 0]


def _convolve(pixels: np.ndarray, width: int, height: int, f: Filter, window: tuple, tall_first: bool) -> np.ndarray:
    """Steps 2-4 for the window of pixels [H, W, C] resized to width x height."""
    x0, y0, w, h = window
    src_h, src_w = pixels.shape[:2]
    cols = axis_taps(src_w, width, f, x0, w) if width != src_w else None
    rows = axis_taps(src_h, height, f, y0, h) if height != src_h else None
    xlo, xhi = cols.span() if cols else (x0, x0 + w)
    ylo, yhi = rows.span() if rows else (y0, y0 + h)
    planes = pixels[ylo:yhi, xlo:xhi].transpose(0, 2, 1)  # [rows, C, cols], a view
    passes = [(cols, xlo, 2), (rows, ylo, 0)]
    if tall_first and src_h > src_w * TALL_RATIO and height < src_h:
        passes.reverse()
    for taps, lo, axis in passes:
        if taps is not None:
            planes = _pass(planes, taps, lo, axis)
    return np.ascontiguousarray(planes.transpose(0, 2, 1))
