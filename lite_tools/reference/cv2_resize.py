"""cv2.resize on uint8 images, to the last bit: what PaddleClas's and PaddleDetection's Python deploy compute with
opencv-python(-headless) 4.6.0.66 (the version PaddleClas 2.6.0 installs), specified step by step for the Java port.

Entry: resize(img, width, height, interp, fx=None, fy=None, window=None, ipp=True, consume=None) on HxWxC or HxW
uint8 (consume: receive the rows chunk by chunk instead of an array; see resize).
interp: cv2's codes (0 nearest, 1 linear, 2 cubic, 3 area, 4 lanczos4) or their names.

0. Geometry (cv::resize). A non-empty (width, height) wins: inv_scale_x = width / w, inv_scale_y = height / h
   (float64). Otherwise (cv2.resize(im, None, fx=fx, fy=fy), PaddleDetection's call) dsize =
   (cvRound(w * fx), cvRound(h * fy)) (round half to even) and inv_scale = fx, fy themselves, not dsize / size.
   scale = 1 / inv_scale (float64). dsize == source size: a plain copy, whatever the interpolation.
1. Which kernel (hal::resize):
   - INTER_CUBIC with ipp=True and 1, 3 or 4 channels: Intel IPP (step 6) if the source is at least 4x4, or
     at least 2x2 when fx / fy differ from dsize / size by a relative 1e-10 on an axis (IPP's warpAffine:
     step 7).
   - INTER_NEAREST: step 2.
   - iscale = cvRound(scale); "area fast" when |scale - iscale| < DBL_EPSILON on both axes.
     INTER_LINEAR with area fast and iscale 2 x 2 becomes INTER_AREA.
   - INTER_AREA with scale_x >= 1 and scale_y >= 1: area fast -> step 4, otherwise step 5.
   - everything else (INTER_LINEAR, INTER_CUBIC without IPP, INTER_LANCZOS4, INTER_AREA that enlarges along
     an axis): the separable fixed-point kernel of step 3.
2. Nearest: sx = min(floor(dx * (1 / inv_scale_x)), w - 1) in float64, same for y; copy the pixel.
3. Separable fixed point (INTER_RESIZE_COEF_BITS = 11, ONE = 2048); taps K = 2 (linear, area), 4 (cubic), 8
   (lanczos4). Per output index d of an axis, in float32 unless said:
   - position: f = float32((d + 0.5) * scale - 0.5) (float64 product, one rounding); s = floor(f); f -= s.
     INTER_AREA ("area mode", enlarging): s = floor(d * scale) (float64); f = float32((d + 1) - (s + 1) *
     inv_scale); f = 0 if f <= 0 else f - floor(f).
   - x axis, K = 2 only: s < 0 -> s = 0, f = 0; then s >= w - 1 -> s = w - 1, f = 0. Nothing is clamped on y,
     nor for K = 4, 8 (their f stays the unclamped one).
   - weights (float32 arithmetic, in this order): linear/area (1 - f, f). Cubic, A = -0.75:
     c0 = ((A*(f+1) - 5A)*(f+1) + 8A)*(f+1) - 4A; c1 = ((A+2)*f - (A+3))*f*f + 1;
     c2 = ((A+2)*(1-f) - (A+3))*(1-f)*(1-f) + 1; c3 = 1 - c0 - c1 - c2.
     Lanczos4: f < FLT_EPSILON -> (0, 0, 0, 1, 0, 0, 0, 0); else in float64 y0 = -(f+3)*pi/4, s0 = sin(y0),
     c0 = cos(y0), y_i = -(f+3-i)*pi/4, c_i = float32((cs_i[0]*s0 + cs_i[1]*c0) / y_i^2) with cs =
     (1,0), (-r,-r), (0,1), (r,-r), (-1,0), (r,r), (0,-1), (-r,r), r = 0.70710678118654752440084436210485; sum
     the c_i in float32, inv = 1 / sum, c_i *= inv (float32).
   - integer coefficient: saturate_cast<short>(c * 2048): round half to even, clamp to int16. The coefficients
     of a pixel need not sum to 2048.
   - taps s - K/2 + 1 + k, k = 0 .. K - 1, each clamped to [0, n - 1] (replicate border).
   Horizontal pass per source row, exact int32: H = sum_k src[tap_k] * alpha_k.
   Vertical pass, rows clamped the same way, per element of the output row:
   - linear/area: (((b0 * (H0 >> 4)) >> 16) + ((b1 * (H1 >> 4)) >> 16) + 2) >> 2 (arithmetic shifts), clamp to
     0..255 (VResizeLinearVec_32s8u; the scalar tail computes the same).
   - cubic: the elements x < floor(W' / 8) * 8 of the full output row (W' = dst_w * channels; 8 int16 lanes of
     the wheel's SSE3 baseline) go through VResizeCubicVec_32s8u in float32:
     t = H3*fb3; t = H2*fb2 + t; t = H1*fb1 + t; t = H0*fb0 + t, fb_k = b_k * 2^-22, H_k converted to float32,
     each product and sum rounded to float32 (no FMA); then round half to even, clamp to 0..255. The tail
     elements use the integer form below.
   - lanczos4 (and the cubic tail): clamp((sum_k H_k * b_k + 2^21) >> 22, 0, 255).
4. Area fast (integer scales kx, ky): the sum of the kx x ky block. 2 x 2 with 1, 3 or 4 channels:
   (sum + 2) >> 2; other scales: round_half_even(float32(sum) * float32(1 / (kx * ky))). Output pixels whose
   block leaves the image (dx >= w // kx, or dy * ky + ky > h): round_half_even(float32(sum) / float32(count))
   over the pixels inside (possible only with fx/fy sizes, e.g. fx = 0.5 on an odd width).
5. Area (scale >= 1, not integer), computeResizeAreaTab per axis in float64: for d, fsx1 = d * scale,
   fsx2 = fsx1 + scale, cell = min(scale, n - fsx1), sx1 = ceil(fsx1), sx2 = min(floor(fsx2), n - 1),
   sx1 = min(sx1, sx2); entries in order: (sx1 - 1, float32((sx1 - fsx1) / cell)) if sx1 - fsx1 > 1e-3;
   (sx, float32(1 / cell)) for sx1 <= sx < sx2; (sx2, float32(min(fsx2 - sx2, 1, cell) / cell)) if
   fsx2 - sx2 > 1e-3. Per source row, buf = sum of src * alpha over the x entries in order (float32, each
   product and sum rounded); per output row, sum = beta_0 * buf_0, then sum += beta_j * buf_j in the y
   entries' order (float32); output round_half_even(sum) clamped to 0..255.
6. IPP cubic (x86-64 wheels enable IPP by default; cv2.ipp.setUseIPP(False) and builds without IPP, such as the
   aarch64 wheels, run step 3 instead). OpenCV hands IPP B = 0, C = 0.75 (Mitchell-Netravali, equal to Keys
   A = -0.75) with a replicated border. Found by probing the wheel (two-pixel probes pin each float32 weight:
   the rounding of fl32(a*wi) + fl32(b*wj) over all 65536 (a, b) admits one pair; photos, whose exact ties
   are frequent, then pick the summation order). IPP's code is CPU-dispatched (2020.0 "l9", AVX2, in
   4.6.0.66): the sums below are those of an AVX2 CPU without AVX-512. CPUs with AVX-512 run its "k0" code,
   whose other sums the last item gives (ipp_dispatch="k0"; its warpAffine: reference/ipp_warp.py), and
   SSE4.2-only CPUs its "y8" code (no fma, not modelled), each 1 level off l9 on some pixels (31 photos at
   224x224: 71 and 186 of 4.7e6 values; warpAffine at keep-ratio 608: 64 and 83 of 2.9e7); OPENCV_IPP=avx2,
   set before cv2 is imported, makes an AVX-512 CPU run l9 (the tests pin it; scripts/measure_resize.py
   measures the host's own code). fma(a, b, c) is a float32 fused multiply-add (one rounding).
   - Position, per axis and output index d, in float64: x = fma(d + 0.5, src / dst, -0.5) with ONE rounding
     (a float64 fused multiply-add; src / dst the float64 scale of step 0), s = floor(x); then f32 =
     float32(x - s) and f = float32(1 + f32) - 1 (two roundings: f is a multiple of 2^-23, and the first
     rounding decides the ties of the second). The fma matters where x is an integer k in exact arithmetic
     but (d + 0.5) * (src / dst) is not exact: e.g. x3, d = 4: 4.5 * fl(1/3) = 1.5 - 8e-17, so x = 1 - 2^-53,
     s = 0, f = 1 (the two-step product would round to 1.5 and give x = 1, s = 1, f = 0). The pixel value is
     the same (weights (0, 0, 1, 0) on taps -1..2 = (0, 1, 0, 0) on 0..3) but that pixel is now a border
     pixel (its first tap is clamped), and the border and tail sets below follow from these taps (x3, x7,
     x9 have such an index, x5 does not: 7.5 * fl(1/5) is just above 1.5).
   - Weights, evaluated in float64 from f and rounded once to float32 (A = -0.75): w0 = A f (f - 1)^2,
     w1 = (A + 2) f^3 - (A + 3) f^2 + 1, w2 = -(A + 2) f^3 + (2A + 3) f^2 - A f, w3 = A (f^2 - f^3)
     (f^2 = f*f, f^3 = f^2*f). Taps s - 1 .. s + 2, clamped to the image.
   - Border pixels: an output column whose taps were clamped (the first tap is 0 twice, or the last is n - 1
     twice), an output row likewise; IPP computes every output pixel in such a row or column with other sums.
   - Horizontal pass per source row, float32, S_k the tap pixels: one channel (S0*w0 + S1*w1) + (S2*w2 +
     S3*w3), no FMA; three or four channels fma(S0, w0, S3*w3) + fma(S1, w1, S2*w2). One or three channels:
     border columns, and every column of a border row, fma(S0, w0, S2*w2) + fma(S3, w3, S1*w1) instead (four
     channels keep their form there). Tail: IPP takes the n interior columns of the full output row (neither
     border; counted on the whole row, whatever window is computed) 4 at a time with one channel, 2 at a time
     with three or four; the last n mod 4 (one channel) or n mod 2 (three, four) columns, in the rows that are
     not border rows, are one channel fma(S0, w0, S2*w2) + fma(S1, w1, S3*w3); three channels fma(S1, w1,
     fma(S3, w3, fma(S0, w0, S2*w2))); four channels fma(S1, w1, S2*w2) + fma(S3, w3, S0*w0) (in border rows
     the border-row form above, like their other columns). This holds for every scale; x3 shows it most, its
     weights (multiples of 1/108 nearly) making exact ties frequent.
   - Vertical pass on those float32 sums H_k (no rounding in between): fma(H0, b0, H1*b1) + fma(H2, b2,
     H3*b3) over the interior elements of the output row (those between the border columns, channels
     interleaved), 8 at a time, then 4 if 4 are left; the last (n mod 8) mod 4 of the n interior elements
     (H0*b0 + H1*b1) + (H2*b2 + H3*b3); border rows and columns fma(H3, b3, fma(H2, b2, fma(H0, b0, H1*b1))).
     Round half to even, clamp to 0..255.
   - k0 (AVX-512), found the same way on a Zen 4 CPU (the wheel at its default dispatch against this model):
     positions, weights and taps as above; only the sums differ. It has no border rows: every output row is
     computed like the others. Horizontal pass: the interior columns 4 at a time, one channel as above, three
     channels fma(S0, w0, S1*w1) + fma(S2, w2, S3*w3), four fma(S2, w2, S0*w0) + fma(S3, w3, S1*w1); the last
     (n mod 4) interior columns in the tail forms above, except that four channels take whole pairs of them in
     l9's interior form fma(S0, w0, S3*w3) + fma(S1, w1, S2*w2) and only an odd last one in the tail form;
     border columns, whatever the channel count, fma(S0, w0, S2*w2) + fma(S3, w3, S1*w1). Vertical pass over
     the whole output row, border columns included: fma(H0, b0, H1*b1) + fma(H2, b2, H3*b3), but the row's last
     (W' mod 4) elements (W' = dst_w * channels) (H0*b0 + H1*b1) + (H2*b2 + H3*b3). The photos' 224 and 320
     rows are multiples of 4 elements; odd widths show the last rule. Measured: 0 levels against the wheel's k0
     on the photos, 1, 3 and 4 channels, at 224x224, 320x320, 300, 640, resize-short-256, half, x1.5, x2, x3
     and x3 on one axis (8.9e8 values), and on 1.7e8 random values (few grey levels, any dsize); the l9 sums
     miss 2, 71 and 98 of those photo values at 224x224 (one, three, four channels).
   Measured against the wheel: 0 levels on the 31 sample photos (3 channels; 1 and 4 channels at 224 and 320)
   at 224x224, 320x320, resize-short-256, x1.5, x2 and x3, PaddleDetection's keep-ratio scale, whenever fx / fy
   equal dsize / size (3.8e8 values), and on the photos and their cut-outs, 1, 3 and 4 channels (1.8e9 values),
   enlarged x3 on one axis (the other unchanged, +5 / +7 pixels, x1.5, x2 or x6) or both, x5, x7 on one axis
   or both, x1.5, x2, x4, x6, x9 on both; on random images with the other axis unchanged (the sums of one pass
   straight into the output, where ties are frequent) at x3, x1.5, 5/3, 9/2, x6, 5/4, 7/4, 2/3, 3/5, 1/3
   across and x3, x1.5, 5/3, 2/3 down. IPP's warpAffine, which runs when fx / fy differ from dsize / size by
   more than 1e-10 relative (e.g. fx = 1.5 on an odd width, PaddleDetection's keep_ratio scales; OpenCV passes
   it the forward matrix (fx, 0, 0.5 fx - 0.5; 0, fy, 0.5 fy - 0.5), B = 0, C = 0.75, a replicated border),
   computes a fast rectangle with the arithmetic above and everything around it pixel by pixel: step 7
   (reference/ipp_warp.py), bit-exact on one, three and four channels. Its result depends on the thread count:
   OpenCV cuts the output rows into stripes (ippiSuggestThreadsNum: cv::getNumThreads(), the image size, the L2
   cache size), each its own IPP call with its own fast rectangle and border strips; with 4, 8 or 16 threads the
   photos differ from one thread in about 120, 1200, 1200 values. Step 7 models the stripes too (resize(...,
   threads=N)), bit-exact against the wheel at 1 to 16 threads.

The SIMD paths of 4.6.0.66 that differ from its generic C++ are part of the steps above (step 3's cubic split);
the others (HResizeLinearVec_8u32s, ResizeAreaFastVec_SIMD_8u, the resizeNN AVX2 copies) are exact integers
equal to the scalar code.

window=(x, y, w, h) computes only that part of the output, from the source rows and columns its taps read, a
chunk of output rows at a time: every output pixel above depends only on its own coordinates (and, for the
cubic split, on the full output width), so the window equals cropping the full result bit for bit, and a
sliver image whose full resize is huge costs no more than its crop. The two-tap kernels (linear, area
enlarging: _two_tap) keep a plan per geometry (taps, coefficients, chunks) and per-thread scratch arrays, so a
stream of same-size frames builds no tables and touches no fresh pages: a copy of the source rows read, one
gather per output column and source row (both taps, all channels) and in-place int32 passes are all the
per-frame work. The IPP cubic passes (step 6) likewise run on blocks of rows whose float64 temporaries
(IPP_BLOCK_ELEMS) stay in the CPU's cache, in per-thread scratch arrays; their float32 fma is emulated in float64
with a check for float32 midpoints, which the horizontal pass skips where the float64 sum is exact for every
pair of pixels (_exact_pair: nearly always), so the check costs the vertical pass only.
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

INTER_NEAREST, INTER_LINEAR, INTER_CUBIC, INTER_AREA, INTER_LANCZOS4 = 0, 1, 2, 3, 4
INTERPOLATIONS = {"nearest": INTER_NEAREST, "linear": INTER_LINEAR, "bilinear": INTER_LINEAR,
                  "cubic": INTER_CUBIC, "bicubic": INTER_CUBIC, "area": INTER_AREA, "lanczos4": INTER_LANCZOS4}
COEF_BITS = 11
COEF_SCALE = 1 << COEF_BITS
DBL_EPSILON = np.finfo(np.float64).eps
FLT_EPSILON = np.float32(np.finfo(np.float32).eps)
# The wheel's resize.cpp is compiled for its SSE3 baseline: 128-bit vectors, 8 int16 lanes.
INT16_LANES = 8
# Output rows per step of the separable paths: bounds the temporaries to a few rows of the window.
CHUNK_ROWS = 256
# The two-tap path (linear, area enlarging) sizes its chunks of output rows so that no scratch array exceeds this.
TWO_TAP_CHUNK_BYTES = 1 << 21
# Elements per block of rows in the IPP cubic passes: their float64 temporaries (512 KB) stay in the CPU's cache.
IPP_BLOCK_ELEMS = 1 << 16

F32 = np.float32


def _cv_round(x):
    """cvRound / saturate_cast<int>(double): round half to even (the FPU's default mode)."""
    return int(round(x))


def output_geometry(src_w: int, src_h: int, width, height, fx=None, fy=None) -> tuple:
    """(dst_w, dst_h, inv_scale_x, inv_scale_y) as cv::resize derives them: a non-empty dsize wins and the
    scales are dsize / ssize; otherwise dsize = (cvRound(src_w * fx), cvRound(src_h * fy)) and the scales are
    fx, fy themselves."""
    if width and height and width > 0 and height > 0:
        return int(width), int(height), width / src_w, height / src_h
    if not (fx and fy and fx > 0 and fy > 0):
        raise ValueError("cv2.resize needs a non-empty size or positive fx and fy")
    dw, dh = _cv_round(src_w * fx), _cv_round(src_h * fy)
    if dw <= 0 or dh <= 0:
        raise ValueError(f"{src_w}x{src_h} scaled by ({fx}, {fy}) is empty")
    return dw, dh, float(fx), float(fy)


def _interp_code(interp) -> int:
    if isinstance(interp, str):
        if interp.lower() not in INTERPOLATIONS:
            raise ValueError(f"unknown interpolation {interp!r}; known: {', '.join(INTERPOLATIONS)}")
        return INTERPOLATIONS[interp.lower()]
    code = int(interp)
    if code not in (INTER_NEAREST, INTER_LINEAR, INTER_CUBIC, INTER_AREA, INTER_LANCZOS4):
        raise ValueError(f"unsupported interpolation {interp!r}")
    return code


def uses_ipp(interp: int, src_w: int, src_h: int, dst_w: int, dst_h: int, inv_scale_x: float,
             inv_scale_y: float, channels: int) -> bool:
    """Whether the x86-64 wheel (IPP enabled) hands the resize to Intel IPP: INTER_CUBIC only (OpenCV declines
    IPP's nearest, 8-bit linear and area as inexact; lanczos4 never reaches it), 1, 3 or 4 channels, and a
    source of at least 4x4 for IPP's resize, or 2x2 for its warpAffine, which runs when the fx / fy given do
    not equal dsize / size (relative difference > 1e-10 on an axis). Found by probing the wheel."""
    if interp != INTER_CUBIC or channels not in (1, 3, 4):
        return False
    return min(src_w, src_h) >= (2 if _affine(src_w, src_h, dst_w, dst_h, inv_scale_x, inv_scale_y) else 4)


def _affine(src_w: int, src_h: int, dst_w: int, dst_h: int, inv_scale_x: float, inv_scale_y: float) -> bool:
    """Whether IPP's cubic runs as its warpAffine: fx / fy unequal to dsize / size (relative 1e-10)."""
    return (abs(dst_w / src_w - inv_scale_x) / inv_scale_x > 1e-10
            or abs(dst_h / src_h - inv_scale_y) / inv_scale_y > 1e-10)


def choose_path(interp: int, src_w: int, src_h: int, dst_w: int, dst_h: int, inv_scale_x: float,
                inv_scale_y: float, channels: int, ipp: bool = True) -> tuple:
    """(path, interp): which kernel runs. path is "nearest", "ipp_cubic", "area_fast", "area" or "separable"."""
    if ipp and uses_ipp(interp, src_w, src_h, dst_w, dst_h, inv_scale_x, inv_scale_y, channels):
        return "ipp_cubic", interp
    if interp == INTER_NEAREST:
        return "nearest", interp
    scale_x, scale_y = 1.0 / inv_scale_x, 1.0 / inv_scale_y
    iscale_x, iscale_y = _cv_round(scale_x), _cv_round(scale_y)
    area_fast = abs(scale_x - iscale_x) < DBL_EPSILON and abs(scale_y - iscale_y) < DBL_EPSILON
    if interp == INTER_LINEAR and area_fast and iscale_x == 2 and iscale_y == 2:
        interp = INTER_AREA
    if interp == INTER_AREA and scale_x >= 1 and scale_y >= 1:
        return ("area_fast" if area_fast else "area"), interp
    return "separable", interp


# ---------------------------------------------------------------------------------------------- nearest

def _nearest_index(n_in: int, inv_scale: float, first: int, count: int) -> np.ndarray:
    step = 1.0 / inv_scale
    d = np.arange(first, first + count, dtype=np.float64)
    return np.minimum(np.floor(d * step).astype(np.int64), n_in - 1)


# ---------------------------------------------------------------------------------------------- separable

def _cubic_coeffs(x: np.ndarray) -> np.ndarray:
    a = F32(-0.75)
    one, two, three, four, five, eight = F32(1), F32(2), F32(3), F32(4), F32(5), F32(8)
    x1 = x + one
    c0 = ((a * x1 - five * a) * x1 + eight * a) * x1 - four * a
    c1 = ((a + two) * x - (a + three)) * x * x + one
    y = one - x
    c2 = ((a + two) * y - (a + three)) * y * y + one
    c3 = one - c0 - c1 - c2
    return np.stack([c0, c1, c2, c3], axis=1)


_S45 = 0.70710678118654752440084436210485
_LANCZOS_CS = ((1, 0), (-_S45, -_S45), (0, 1), (_S45, -_S45), (-1, 0), (_S45, _S45), (0, -1), (-_S45, _S45))


def _lanczos4_coeffs(x: np.ndarray) -> np.ndarray:
    out = np.zeros((len(x), 8), dtype=np.float32)
    cache = {}
    for r, xf in enumerate(x):
        key = float(xf)
        if key not in cache:
            if xf < FLT_EPSILON:
                row = np.zeros(8, dtype=np.float32)
                row[3] = 1
            else:
                y0 = -(key + 3) * math.pi * 0.25
                s0, c0 = math.sin(y0), math.cos(y0)
                row = np.zeros(8, dtype=np.float32)
                total = F32(0)
                for i in range(8):
                    y = -(key + 3 - i) * math.pi * 0.25
                    row[i] = F32((_LANCZOS_CS[i][0] * s0 + _LANCZOS_CS[i][1] * c0) / (y * y))
                    total = F32(total + row[i])
                inv = F32(F32(1) / total)
                row = (row * inv).astype(np.float32)
            cache[key] = row
        out[r] = cache[key]
    return out


def axis_coeffs(n_in: int, inv_scale: float, interp: int, area_mode: bool, horizontal: bool, first: int,
                count: int) -> tuple:
    """(taps [count, K] int64 source indices clamped to the image, coefficients [count, K] int16) of output
    pixels first .. first + count - 1 of one axis, as resize.cpp's table loop builds them."""
    scale = 1.0 / inv_scale
    d = np.arange(first, first + count, dtype=np.float64)
    if not area_mode:
        f = ((d + 0.5) * scale - 0.5).astype(np.float32)
        s = np.floor(f).astype(np.int64)
        f = (f - s.astype(np.float32)).astype(np.float32)
    else:
        s = np.floor(d * scale).astype(np.int64)
        f = ((d + 1) - (s + 1) * inv_scale).astype(np.float32)
        f = np.where(f <= 0, F32(0), f - np.floor(f)).astype(np.float32)
    ksize = {INTER_CUBIC: 4, INTER_LANCZOS4: 8}.get(interp, 2)
    if horizontal and ksize == 2:
        low = s < 0
        f[low], s[low] = 0, 0
        high = s >= n_in - 1
        f[high], s[high] = 0, n_in - 1
    if interp == INTER_CUBIC:
        cbuf = _cubic_coeffs(f)
    elif interp == INTER_LANCZOS4:
        cbuf = _lanczos4_coeffs(f)
    else:
        cbuf = np.stack([F32(1) - f, f], axis=1)
    coef = np.clip(np.rint(cbuf * F32(COEF_SCALE)), -32768, 32767).astype(np.int16)
    taps = s[:, None] - (ksize // 2 - 1) + np.arange(ksize)[None, :]
    return np.clip(taps, 0, n_in - 1), coef


def _hpass(rows: np.ndarray, elems: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Horizontal pass: sum over taps k, in order, of rows[:, elems[k]] * weights[k], in the weights' dtype
    (int32: exact; float32 / float64: each product and sum rounded). rows: [R, span * C] uint8; elems,
    weights: [K, w * C], the element index and weight of each tap of each output element."""
    acc = np.multiply(np.take(rows, elems[0], axis=1), weights[0], dtype=weights.dtype)
    for k in range(1, len(elems)):
        acc += np.multiply(np.take(rows, elems[k], axis=1), weights[k], dtype=weights.dtype)
    return acc


def _vpass_rounded(h: np.ndarray, pos: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Vertical pass in beta's float dtype: sum_k h[pos[:, k]] * beta[:, k] in order, round half to even."""
    acc = np.take(h, pos[:, 0], axis=0) * beta[:, 0, None]
    for k in range(1, pos.shape[1]):
        acc += np.take(h, pos[:, k], axis=0) * beta[:, k, None]
    return np.clip(np.rint(acc), 0, 255).astype(np.uint8)


def _two_pass(src: np.ndarray, xt: np.ndarray, yt: np.ndarray, horizontal, vertical) -> np.ndarray:
    """The separable kernels' driver. xt [w, Kx] / yt [h, Ky]: source column / row of each tap of each window
    column / row. A chunk of output rows at a time, the distinct source rows its taps read are copied (only
    the column span the taps read, or whole rows when the image is C-contiguous and the span is most of it: a
    memcpy beats a strided copy) and go through horizontal(rows, elems) -> h, then vertical(h, pos, r0) ->
    uint8 [n, w * C], pos [n, Ky] being each tap's row in h."""
    h_in, w_in, channels = src.shape
    xlo, xhi = int(xt.min()), int(xt.max())
    if src.flags.c_contiguous and 2 * (xhi - xlo + 1) >= w_in:
        xlo, xhi = 0, w_in - 1
    span = src[:, xlo:xhi + 1]
    elems = (((xt - xlo) * channels).T[:, :, None] + np.arange(channels)).reshape(xt.shape[1], -1)
    ch, cw = len(yt), len(xt)
    out = np.empty((ch, cw * channels), dtype=np.uint8)
    for r0 in range(0, ch, CHUNK_ROWS):
        rows_t = yt[r0:r0 + CHUNK_ROWS]
        needed, pos = np.unique(rows_t, return_inverse=True)
        rows = np.take(span, needed, axis=0).reshape(len(needed), -1)
        out[r0:r0 + CHUNK_ROWS] = vertical(horizontal(rows, elems), pos.reshape(rows_t.shape), r0)
    return out.reshape(ch, cw, channels)


def _vpass(h: np.ndarray, pos: np.ndarray, beta: np.ndarray, interp: int, float_elems) -> np.ndarray:
    """Vertical pass of the cubic and lanczos4 kernels: output row i combines rows h[pos[i, k]] with beta[i, k].
    float_elems: boolean [w * C], the elements the cubic kernel computes in its float32 SIMD body (None for
    lanczos4). The two-tap kernels have their own path (_two_tap)."""
    n, ksize = beta.shape
    b = beta.astype(np.int32)
    acc = np.take(h, pos[:, 0], axis=0).astype(np.int64) * b[:, 0, None]
    for k in range(1, ksize):
        acc += np.take(h, pos[:, k], axis=0).astype(np.int64) * b[:, k, None]
    acc += 1 << (2 * COEF_BITS - 1)
    acc >>= 2 * COEF_BITS
    out = np.clip(acc, 0, 255).astype(np.uint8)
    if float_elems is not None and float_elems.any():
        cols = np.nonzero(float_elems)[0]
        sub = np.take(h, cols, axis=1)
        fb = beta.astype(np.float32) * F32(1.0 / (COEF_SCALE * COEF_SCALE))
        t = np.take(sub, pos[:, 3], axis=0).astype(np.float32) * fb[:, 3, None]
        for k in (2, 1, 0):
            t = np.take(sub, pos[:, k], axis=0).astype(np.float32) * fb[:, k, None] + t
        out[:, cols] = np.clip(np.rint(t), 0, 255).astype(np.uint8)
    return out


def _separable(src, dst_w, dst_h, inv_x, inv_y, interp, window, consume=None):
    x0, y0, cw, ch = window
    h_in, w_in, channels = src.shape
    if interp in (INTER_LINEAR, INTER_AREA):
        return _two_tap(src, _two_tap_plan(h_in, w_in, channels, inv_x, inv_y, interp, tuple(window)), consume)
    area_mode = interp == INTER_AREA
    xt, alpha = axis_coeffs(w_in, inv_x, interp, area_mode, True, x0, cw)
    yt, beta = axis_coeffs(h_in, inv_y, interp, area_mode, False, y0, ch)
    alpha_e = np.repeat(alpha.T.astype(np.int32), channels, axis=1)
    float_elems = None
    if interp == INTER_CUBIC:
        # VResizeCubicVec_32s8u runs over whole vectors of the full output row; the tail is integer C++.
        float_elems = x0 * channels + np.arange(cw * channels) < (dst_w * channels // INT16_LANES) * INT16_LANES
    return _two_pass(src, xt, yt, lambda rows, elems: _hpass(rows, elems, alpha_e),
                     lambda h, pos, r0: _vpass(h, pos, beta[r0:r0 + len(pos)], interp, float_elems))


# ---------------------------------------------------------------------------------------------- two taps

_SCRATCH = threading.local()


def scratch(name: str, shape: tuple, dtype) -> np.ndarray:
    """A reusable per-thread array for temporaries of a few MB per call (the two-tap path's, the normalisation's
    indices): fresh allocations of that size are often new pages from the OS on every call, whose page faults
    cost more than the arithmetic. The contents are garbage. Each name keeps its largest size so far (for the
    two-tap path at most TWO_TAP_CHUNK_BYTES, or two rows of a wider image)."""
    pool = _SCRATCH.__dict__.setdefault("pool", {})
    size = math.prod(shape)
    buf = pool.get((name, dtype))
    if buf is None or buf.size < size:
        buf = pool[(name, dtype)] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


@functools.lru_cache(maxsize=32)
def _two_tap_plan(h_in: int, w_in: int, channels: int, inv_x: float, inv_y: float, interp: int,
                  window: tuple) -> tuple:
    """Everything of a two-tap resize that depends on the geometry only, computed once per geometry (same-size
    frames are the norm): the column span (lo, hi) of the source the taps read (whole rows when they are most of
    it: one memcpy each), each output column's first tap relative to lo and the int32 coefficients of its two taps
    ([w, 1] each), and per chunk of output rows (r0, the source rows of tap 0 then of tap 1, and their int32
    coefficients [n] each)."""
    x0, y0, cw, ch = window
    area_mode = interp == INTER_AREA
    xt, alpha = axis_coeffs(w_in, inv_x, interp, area_mode, True, x0, cw)
    yt, beta = axis_coeffs(h_in, inv_y, interp, area_mode, False, y0, ch)
    lo, hi = int(xt.min()), int(xt.max()) + 1
    if 2 * (hi - lo) >= w_in:
        lo, hi = 0, w_in
    alpha_x = tuple(alpha[:, k, None].astype(np.int32) for k in range(2))
    per_row = max(2 * (hi - lo) * channels, 16 * channels * cw)  # bytes of the largest scratch per output row
    per_chunk = max(1, TWO_TAP_CHUNK_BYTES // per_row)
    per_chunk = -(-ch // -(-ch // per_chunk))  # the same number of chunks, of even size
    chunks = tuple((r0, np.ascontiguousarray(yt[r0:r0 + per_chunk].T).reshape(-1),
                    beta[r0:r0 + per_chunk, 0].astype(np.int32), beta[r0:r0 + per_chunk, 1].astype(np.int32))
                   for r0 in range(0, ch, per_chunk))
    return (lo, hi), xt[:, 0] - lo, alpha_x, chunks


def _two_tap(src: np.ndarray, plan: tuple, consume=None) -> np.ndarray | None:
    """Step 3 for K = 2 (INTER_LINEAR; INTER_AREA enlarging), a chunk of output rows at a time: the source rows of
    both vertical taps are copied; each output column's two horizontal taps are adjacent pixels (s, s + 1), so one
    gather of a 2C-byte window per column and row (a uint64 for C <= 4) reads both, and H = (S0 * a0 + S1 * a1)
    >> 4 follows in int32, channel-planar [C, w, rows]; then each output row is (((b0 * H0) >> 16) +
    ((b1 * H1) >> 16) + 2) >> 2. The coefficients of a pixel are >= 0 and sum to 2047..2049, so H >> 4 <= 32655,
    b * (H >> 4) < 2^31 and the result is 0..255 without clamping. Where s is clamped to the last column its
    window runs past the row, into bytes whose coefficient is 0 (the spare bytes after the last row). Returns the
    uint8 window, or with consume, hands it each chunk's int32 rows (resize) and returns None."""
    (lo, hi), starts, (a0, a1), chunks = plan
    h_in, w_in, channels = src.shape
    cw, span = len(starts), hi - lo
    row_bytes = span * channels
    pair = np.dtype(np.uint64) if channels <= 4 else np.dtype((np.void, 2 * channels))
    out = None if consume else np.empty((chunks[-1][0] + len(chunks[-1][1]) // 2, cw, channels), dtype=np.uint8)
    whole_rows = (lo, hi) == (0, w_in) and src.flags.c_contiguous
    for r0, rows, b0, b1 in chunks:
        m, n = len(rows), len(rows) // 2
        buf = scratch("rows", (m * row_bytes + pair.itemsize,), np.uint8)
        block = buf[:m * row_bytes].reshape(m, row_bytes)
        if whole_rows:
            np.take(src.reshape(h_in, w_in * channels), rows, axis=0, out=block, mode="clip")
        else:  # a narrow span or a strided image: a fancy index copies just that
            block.reshape(m, span, channels)[...] = src[rows, lo:hi]
        windows = np.ndarray((span, m), pair, buffer=buf, strides=(channels, row_bytes))
        pairs = windows[starts].view(np.uint8).reshape(cw, m, pair.itemsize)[:, :, :2 * channels]
        taps = scratch("taps", (2, channels, cw, m), np.int32)
        np.copyto(taps, pairs.reshape(cw, m, 2, channels).transpose(2, 3, 0, 1))
        h, t = taps
        h *= a0
        t *= a1
        h += t
        h >>= 4
        v = scratch("v", (2, channels, cw, n), np.int32)
        np.multiply(h[:, :, :n], b0, out=v[0])
        np.multiply(h[:, :, n:], b1, out=v[1])
        v >>= 16
        v0 = v[0]
        v0 += v[1]
        v0 += 2
        v0 >>= 2
        if consume:
            consume(r0, v0.transpose(2, 1, 0))
        else:
            for c in range(channels):
                np.copyto(out[r0:r0 + n, :, c], v0[c].T, casting="unsafe")
    return out


# ---------------------------------------------------------------------------------------------- IPP cubic

def _round_fma(s: np.ndarray, x, y, z, bits: np.ndarray, half: np.ndarray) -> None:
    """Make s (float64, = x*y + z rounded once, x*y exact) round to float32 as the exact x*y + z does: the two
    roundings can differ only where s sits exactly halfway between two floats (its low 29 mantissa bits
    1000...0) and the sum was inexact; there the exact error (TwoSum) moves s off the midpoint towards the exact
    value. bits (int64) and half (bool), of s's shape: scratch for the test."""
    np.bitwise_and(s.view(np.int64), 0x1FFFFFFF, out=bits)
    np.equal(bits, 0x10000000, out=half)
    if half.any():
        i = np.nonzero(half)
        si = s[i]
        pi = np.broadcast_to(x, s.shape)[i].astype(np.float64) * np.broadcast_to(y, s.shape)[i]
        zi = np.broadcast_to(z, s.shape)[i].astype(np.float64)
        back = si - zi
        e = (pi - back) + (zi - (si - back))
        s[i] = np.where(e == 0, si, np.nextafter(si, np.where(e > 0, np.inf, -np.inf)))


def _fma32(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """float32 fused multiply-add, correctly rounded, of float32 values (uint8 pixels and float64 copies of
    float32 weights are exact stand-ins): x*y is exact in float64 (24 x 24 bits), s = x*y + z is rounded once to
    float64, and _round_fma settles the rare double-rounding cases."""
    s = np.multiply(x, y, dtype=np.float64)
    s += z
    _round_fma(s, x, y, z, np.empty(s.shape, np.int64), np.empty(s.shape, bool))
    return s.astype(np.float32)


def _exact_pair(wa: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """Per weight pair (float32), whether S*wa + float32(T*wb) is exact in float64 for all pixels S, T in 0..255:
    S*wa is a multiple of ulp(wa) below 2^(ea+9), float32(T*wb) one of ulp(wb) (T >= 1) below 2^(eb+9), so the
    sum needs at most |ea - eb| + 33 bits (e: binary exponents); a zero weight leaves one exact term. Where it is
    exact, rounding the float64 sum to float32 is the fma; elsewhere _round_fma must check it."""
    ea, eb = np.frexp(wa)[1], np.frexp(wb)[1]
    return (wa == 0) | (wb == 0) | (np.abs(ea - eb) <= 20)


def _split(v):
    """Veltkamp's split of float64 values into two halves of at most 26 bits each (hi + lo == v exactly)."""
    t = v * 134217729.0  # 2^27 + 1
    hi = t - (t - v)
    return hi, v - hi


def product_error(a, b, p):
    """Dekker's TwoProduct: the exact a * b - p for p = a * b rounded (float64; Veltkamp halves)."""
    (ah, al), (bh, bl) = _split(a), _split(b)
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma_position(a: np.ndarray, scale: float) -> np.ndarray:
    """IPP's source position fma(a, scale, -0.5) in float64 with one rounding (a = d + 0.5). Dekker's TwoProduct
    gives a * scale = p + e exactly; p - 0.5 is exact for p >= 0.25 (Sterbenz), so (p - 0.5) + e is the one
    rounding. Below 0.25 (the first outputs of a > 2x enlargement, left of the image: border pixels) TwoSum's
    error joins e, which the float32 f derived from the result cannot tell from the fma."""
    p = a * scale
    e = product_error(a, np.float64(scale), p)
    s = p - 0.5
    t = (p - (s + 0.5)) + (-0.5 - (s - p))  # TwoSum error, 0 where p - 0.5 is exact
    return s + (t + e)


def ipp_cubic_axis(n_in: int, inv_scale: float, first: int, count: int) -> tuple:
    """(taps [count, 4] clamped, float32 weights [count, 4]) of IPP's cubic along one axis (step 6)."""
    d = np.arange(first, first + count, dtype=np.float64)
    pos = _fma_position(d + 0.5, 1.0 / inv_scale)
    s = np.floor(pos)
    f32 = (pos - s).astype(np.float32)
    f = ((F32(1) + f32) - F32(1)).astype(np.float64)  # f rounded through 1 + f in float32
    a = -0.75
    f2 = f * f
    f3 = f2 * f
    w = np.stack([a * f * ((f - 1) * (f - 1)), (a + 2) * f3 - (a + 3) * f2 + 1,
                  -(a + 2) * f3 + (2 * a + 3) * f2 - a * f, a * (f2 - f3)], axis=1).astype(np.float32)
    taps = s.astype(np.int64)[:, None] - 1 + np.arange(4)[None, :]
    return np.clip(taps, 0, n_in - 1), w


class _IppBlock:
    """Scratch arrays for one block of rows of an IPP pass (a few hundred KB, so the float64 temporaries stay in
    the CPU's cache): the four taps (gathered in one take: [n, 4 * width] for the horizontal pass, [4 * n, width]
    for the vertical one), a float32 product, a float64 sum, a second float32 sum and the midpoint test's int64 /
    bool arrays. view(n) gives those of the first n rows, the taps as four [n, width] arrays."""

    def __init__(self, name: str, rows: int, width: int, tap_dtype, taps_in_row: bool):
        self.taps_in_row = taps_in_row
        self.arrays = (scratch(name + ".taps", (4 * rows * width,), tap_dtype),
                       scratch(name + ".p", (rows, width), F32), scratch(name + ".s", (rows, width), np.float64),
                       scratch(name + ".q", (rows, width), F32), scratch(name + ".bits", (rows, width), np.int64),
                       scratch(name + ".half", (rows, width), bool))

    def view(self, n: int) -> tuple:
        taps, *rest = self.arrays
        width = rest[0].shape[1]
        taps = taps[:4 * n * width]
        if self.taps_in_row:
            flat = taps.reshape(n, 4 * width)
            g = [flat[:, k * width:(k + 1) * width] for k in range(4)]
        else:
            flat = taps.reshape(4 * n, width)
            g = list(flat.reshape(4, n, width))
        return (flat, g) + tuple(a[:n] for a in rest)


def _fma_into(out, x, y64, z, s, bits, half, check) -> None:
    """out (float32) = fma(x, y, z) through the float64 scratch s; check: None (every sum is exact), True, or the
    column indices whose sums may be inexact (_round_fma runs on those)."""
    np.multiply(x, y64, out=s)
    s += z
    if check is True:
        _round_fma(s, x, y64, z, bits, half)
    elif check is not None and len(check):
        sub = s[:, check]
        _round_fma(sub, x[:, check], y64[..., check], z[:, check], bits[:, :len(check)], half[:, :len(check)])
        s[:, check] = sub
    np.copyto(out, s, casting="same_kind")


# IPP's horizontal fma pairs per dispatch and channel count ((a, b), (c, d): fma(Sa, wa, Sb*wb) + fma(Sc, wc, Sd*wd);
# None: (S0*w0 + S1*w1) + (S2*w2 + S3*w3) without FMA), for the vector loop over the interior columns.
_IPP_H_PAIRS = {"l9": {1: None, 3: ((0, 3), (1, 2)), 4: ((0, 3), (1, 2))},
                "k0": {1: None, 3: ((0, 1), (2, 3)), 4: ((2, 0), (3, 1))}}
_IPP_BORDER_PAIRS = ((0, 2), (3, 1))
IPP_DISPATCHES = tuple(_IPP_H_PAIRS)


class _IppRows:
    """IPP's horizontal pass for one window (step 6): float32 weights [4, w * C] and their float64 copies, the
    border elements, the tail elements (left over by the vector loop over the interior), k0's four-channel pair
    elements (mid: its remainder's whole pairs of columns), and for each fma pair the elements whose float64 sums
    may be inexact."""

    def __init__(self, wx: np.ndarray, channels: int, border: np.ndarray, tail: np.ndarray, dispatch: str = "l9",
                 mid=None):
        self.w = np.ascontiguousarray(np.repeat(wx.T, channels, axis=1))
        self.tail_cols = np.nonzero(np.repeat(tail, channels))[0]
        self.mid_cols = np.nonzero(np.repeat(mid, channels))[0] if mid is not None else np.zeros(0, np.int64)
        self.w64 = self.w.astype(np.float64)
        self.channels = channels
        self.pairs = _IPP_H_PAIRS[dispatch][channels]
        self.border = np.repeat(border, channels)
        own_border = channels != 4 or dispatch == "k0"  # l9's four channels keep their interior form there
        self.border_cols = np.nonzero(self.border)[0] if own_border else np.zeros(0, dtype=np.int64)
        used = {_IPP_BORDER_PAIRS[0], _IPP_BORDER_PAIRS[1], *(self.pairs or ())}
        self.risky = {(a, b): np.nonzero(~_exact_pair(self.w[a], self.w[b]))[0] for a, b in used}

    def sums(self, rows: np.ndarray, elems: np.ndarray, edge_form: bool = False) -> np.ndarray:
        """IPP's horizontal sum in float32: the interior in self.pairs' form (l9: one channel (S0*w0 + S1*w1) +
        (S2*w2 + S3*w3), no FMA; three or four channels fma(S0, w0, S3*w3) + fma(S1, w1, S2*w2); k0: step 6);
        border elements (l9: one or three channels, and all of them with edge_form, for border output rows; k0:
        every channel count) fma(S0, w0, S2*w2) + fma(S3, w3, S1*w1); the tail elements of other rows _tail's
        forms, k0's mid elements l9's interior form."""
        n_rows, width = len(rows), elems.shape[1]
        out = np.empty((n_rows, width), F32)
        step = max(1, IPP_BLOCK_ELEMS // width)
        block = _IppBlock("ipp.h", min(step, n_rows), width, np.uint8, True)
        edge = edge_form and self.channels != 4
        all_taps = elems.reshape(-1)
        for r in range(0, n_rows, step):
            n = min(step, n_rows - r)
            flat, g, p, s, q, bits, half = block.view(n)
            np.take(rows[r:r + n], all_taps, axis=1, out=flat, mode="clip")
            o = out[r:r + n]
            if self.pairs is None and not edge:
                np.multiply(g[0], self.w[0], out=o)
                np.multiply(g[1], self.w[1], out=p)
                o += p
                np.multiply(g[2], self.w[2], out=p)
                np.multiply(g[3], self.w[3], out=q)
                p += q
                o += p
            else:
                (a, b), (c, d) = _IPP_BORDER_PAIRS if edge else self.pairs
                np.multiply(g[b], self.w[b], out=p)
                _fma_into(o, g[a], self.w64[a], p, s, bits, half, self.risky[a, b])
                np.multiply(g[d], self.w[d], out=p)
                _fma_into(q, g[c], self.w64[c], p, s, bits, half, self.risky[c, d])
                o += q
        cols = self.border_cols
        if not edge and len(cols):  # few columns: once for all rows
            out[:, cols] = self._border([np.take(rows, elems[k, cols], axis=1) for k in range(4)], cols)
        cols = self.tail_cols
        if not edge_form and len(cols):
            out[:, cols] = self._tail([np.take(rows, elems[k, cols], axis=1) for k in range(4)], cols)
        cols = self.mid_cols
        if not edge_form and len(cols):
            out[:, cols] = self._pairs([np.take(rows, elems[k, cols], axis=1) for k in range(4)], cols,
                                       _IPP_H_PAIRS["l9"][4])
        return out

    def _tail(self, s: list, cols: np.ndarray) -> np.ndarray:
        """The tail form on the columns cols: one channel fma(S0, w0, S2*w2) + fma(S1, w1, S3*w3), three
        fma(S1, w1, fma(S3, w3, fma(S0, w0, S2*w2))), four fma(S1, w1, S2*w2) + fma(S3, w3, S0*w0)."""
        if self.channels == 3:
            w, w64 = self.w[:, cols], self.w64[:, cols]
            return _fma32(s[1], w64[1], _fma32(s[3], w64[3], _fma32(s[0], w64[0], np.multiply(s[2], w[2], dtype=F32))))
        return self._pairs(s, cols, ((0, 2), (1, 3)) if self.channels == 1 else ((1, 2), (3, 0)))

    def _border(self, s: list, cols: np.ndarray) -> np.ndarray:
        """The border form on the columns cols, from their taps s[k] (uint8 [R, len(cols)])."""
        return self._pairs(s, cols, _IPP_BORDER_PAIRS)

    def _pairs(self, s: list, cols: np.ndarray, pairs: tuple) -> np.ndarray:
        """fma(Sa, wa, Sb*wb) + fma(Sc, wc, Sd*wd) on the columns cols, pairs = ((a, b), (c, d))."""
        w, w64 = self.w[:, cols], self.w64[:, cols]
        (a, b), (c, d) = pairs
        return (_fma32(s[a], w64[a], np.multiply(s[b], w[b], dtype=F32))
                + _fma32(s[c], w64[c], np.multiply(s[d], w[d], dtype=F32)))


def _ipp_vpass(h: np.ndarray, pos: np.ndarray, beta: np.ndarray, edge_cols: np.ndarray,
               tail_cols: np.ndarray, chain_all: bool = False) -> np.ndarray:
    """IPP's vertical sum on the float32 rows: fma(H0, b0, H1*b1) + fma(H2, b2, H3*b3); the tail elements (left
    over by its vector loop) (H0*b0 + H1*b1) + (H2*b2 + H3*b3); the border elements (edge_cols, indices; all with
    chain_all, for border rows; none for k0) fma(H3, b3, fma(H2, b2, fma(H0, b0, H1*b1))). Then round half to
    even."""
    n_rows, width = len(pos), h.shape[1]
    out = np.empty((n_rows, width), np.uint8)
    step = max(1, IPP_BLOCK_ELEMS // width)
    block = _IppBlock("ipp.v", min(step, n_rows), width, F32, False)
    beta64 = beta.astype(np.float64)
    for r in range(0, n_rows, step):
        n = min(step, n_rows - r)
        flat, g, p, s, q, bits, half = block.view(n)
        np.take(h, pos[r:r + n].T.reshape(-1), axis=0, out=flat, mode="clip")
        b, b64 = beta[r:r + n, :, None], beta64[r:r + n, :, None]
        acc = q
        np.multiply(g[1], b[:, 1], out=p)
        if chain_all:
            _fma_into(acc, g[0], b64[:, 0], p, s, bits, half, True)
            _fma_into(acc, g[2], b64[:, 2], acc, s, bits, half, True)
            _fma_into(acc, g[3], b64[:, 3], acc, s, bits, half, True)
        else:
            _fma_into(acc, g[0], b64[:, 0], p, s, bits, half, True)
            o = scratch("ipp.v.o", (n, width), F32)
            np.multiply(g[3], b[:, 3], out=p)
            _fma_into(o, g[2], b64[:, 2], p, s, bits, half, True)
            acc += o
        np.rint(acc, out=acc)
        np.clip(acc, 0, 255, out=acc)
        np.copyto(out[r:r + n], acc, casting="unsafe")
    if not chain_all and len(tail_cols) + len(edge_cols):  # few columns: once for all rows
        b, b64 = beta[:, :, None], beta64[:, :, None]
        for cols, chain in ((tail_cols, False), (edge_cols, True)):
            if len(cols):
                e = [np.take(h[:, cols], pos[:, k], axis=0) for k in range(4)]
                if chain:
                    v = _fma32(e[3], b64[:, 3], _fma32(e[2], b64[:, 2], _fma32(e[0], b64[:, 0], e[1] * b[:, 1])))
                else:
                    v = (e[0] * b[:, 0] + e[1] * b[:, 1]) + (e[2] * b[:, 2] + e[3] * b[:, 3])
                out[:, cols] = np.clip(np.rint(v), 0, 255)
    return out


def ipp_interior(src, inv_x, inv_y, window, span, dispatch="l9"):
    """IPP warpAffine's fast rectangle `window` (ipp_warp step 3): step 6's arithmetic, its tails counted on the
    output columns span = (first, last) instead of the whole row's interior (k0: its vertical tail too)."""
    return _ipp_cubic(src, inv_x, inv_y, window, np.arange(span[0], span[1] + 1), dispatch)


def _ipp_cubic(src, inv_x, inv_y, window, inner=None, dispatch="l9"):
    x0, y0, cw, ch = window
    h_in, w_in, channels = src.shape
    xt, wx = ipp_cubic_axis(w_in, inv_x, x0, cw)
    yt, wy = ipp_cubic_axis(h_in, inv_y, y0, ch)
    k0 = dispatch == "k0"
    y_border = _ipp_border(yt, h_in) & (not k0)  # k0 has no border rows of its own
    dst_w = int(round(w_in * inv_x))  # = output_geometry's width, for a dsize and for fx alike
    # The interior pixels of a row (between the border columns): the horizontal pass takes them 4 at a time (one
    # channel) or 2 at a time (three, four), the last (count mod 4) or (count mod 2) in its tail form; the
    # vertical pass takes their elements 8-wide, then one 4-wide FMA step, and sums the last (count mod 8) mod 4
    # without FMA.
    span = inner
    if inner is None:
        inner = np.nonzero(~_ipp_border(ipp_cubic_axis(w_in, inv_x, 0, dst_w)[0], w_in))[0]
    # k0 (AVX-512) takes the interior 4 columns at a time; what is left (count mod 4) goes in the tail form,
    # except with four channels, whose remainder runs l9's loop: pairs of columns in l9's interior form, then one
    # column in the tail form. Its vertical pass covers the whole output row (border columns too) in the FMA form
    # and sums only the row's last (w * C mod 4) elements without FMA.
    htail = np.zeros(dst_w, dtype=bool)
    hmid = np.zeros(dst_w, dtype=bool)
    if len(inner):
        end = inner[-1] + 1
        left = len(inner) % (4 if channels == 1 or k0 else 2)
        if k0 and channels == 4:
            hmid[end - left:end - left % 2] = True
            left %= 2
        htail[end - left:end] = True
    hor = _IppRows(wx, channels, _ipp_border(xt, w_in), htail[x0:x0 + cw], dispatch, hmid[x0:x0 + cw])
    tail_elems = np.zeros(dst_w * channels, dtype=bool)
    if k0:
        row_end = dst_w if span is None else span[-1] + 1  # a warp's kernel row is its span
        row_len = dst_w if span is None else len(span)
        tail_elems[row_end * channels - row_len * channels % 4:row_end * channels] = True
    elif len(inner):
        end = (inner[-1] + 1) * channels
        tail_elems[end - (len(inner) * channels % 8) % 4:end] = True
    tail_cols = np.nonzero(tail_elems[x0 * channels:(x0 + cw) * channels])[0]
    edge_cols = np.nonzero(hor.border)[0] if not k0 else np.zeros(0, dtype=np.int64)

    def horizontal(rows, elems):
        return rows, elems, hor.sums(rows, elems)

    def vertical(sums, pos, r0):
        rows, elems, h = sums
        rb = y_border[r0:r0 + len(pos)]
        beta = wy[r0:r0 + len(pos)]
        out = np.empty((len(pos), cw * channels), dtype=np.uint8)
        if not rb.all():
            out[~rb] = _ipp_vpass(h, pos[~rb], beta[~rb], edge_cols, tail_cols)
        if rb.any():  # border output rows: every column in the border sums, from their own source rows
            need, at = np.unique(pos[rb], return_inverse=True)
            edge = hor.sums(rows[need], elems, edge_form=True)
            out[rb] = _ipp_vpass(edge, at.reshape(-1, 4), beta[rb], edge_cols, tail_cols, chain_all=True)
        return out
    return _two_pass(src, xt, yt, horizontal, vertical)


def _ipp_border(taps: np.ndarray, n_in: int) -> np.ndarray:
    """Output indices whose taps leave the image (clamped): IPP computes those pixels in other sums."""
    return (taps[:, 0] == 0) & (taps[:, 1] == 0) | (taps[:, 3] == n_in - 1) & (taps[:, 2] == n_in - 1)


# ---------------------------------------------------------------------------------------------- area

def _area_fast(src, dst_w, dst_h, inv_x, inv_y, window):
    x0, y0, cw, ch = window
    h_in, w_in, channels = src.shape
    kx, ky = _cv_round(1.0 / inv_x), _cv_round(1.0 / inv_y)
    sx = (x0 + np.arange(cw)) * kx
    sy = (y0 + np.arange(ch)) * ky
    total = np.zeros((ch, cw, channels), dtype=np.int64)
    count = np.zeros((ch, cw, 1), dtype=np.int64)
    for j in range(ky):
        ry = sy + j
        oky = ry < h_in
        ryc = np.minimum(ry, h_in - 1)
        for i in range(kx):
            rx = sx + i
            okx = rx < w_in
            rxc = np.minimum(rx, w_in - 1)
            ok = (oky[:, None] & okx[None, :])[:, :, None]
            total += np.where(ok, src[np.ix_(ryc, rxc)].astype(np.int64), 0)
            count += ok
    full_x = (x0 + np.arange(cw)) < w_in // kx
    full_y = (sy + ky) <= h_in
    full = (full_y[:, None] & full_x[None, :])[:, :, None]
    if kx == 2 and ky == 2 and channels in (1, 3, 4):
        inner = (total + 2) >> 2
    else:
        inner = np.rint(total.astype(np.float32) * F32(1.0 / (kx * ky)))
    with np.errstate(invalid="ignore", divide="ignore"):
        border = np.rint(total.astype(np.float32) / count.astype(np.float32))
    border = np.where(count > 0, border, 0)
    return np.clip(np.where(full, inner, border), 0, 255).astype(np.uint8)


def area_table(n_in: int, n_out: int, scale: float, first: int, count: int) -> tuple:
    """(source indices [count, K], float32 weights [count, K]) in computeResizeAreaTab's order; padding entries
    have weight 0 and repeat the last index."""
    rows = []
    for dx in range(first, first + count):
        fsx1 = dx * scale
        fsx2 = fsx1 + scale
        cell = min(scale, n_in - fsx1)
        sx1, sx2 = math.ceil(fsx1), math.floor(fsx2)
        sx2 = min(sx2, n_in - 1)
        sx1 = min(sx1, sx2)
        row = []
        if sx1 - fsx1 > 1e-3:
            row.append((sx1 - 1, F32((sx1 - fsx1) / cell)))
        for s in range(sx1, sx2):
            row.append((s, F32(1.0 / cell)))
        if fsx2 - sx2 > 1e-3:
            row.append((sx2, F32(min(min(fsx2 - sx2, 1.0), cell) / cell)))
        rows.append(row)
    width = max(len(r) for r in rows)
    idx = np.zeros((count, width), dtype=np.int64)
    wts = np.zeros((count, width), dtype=np.float32)
    for i, r in enumerate(rows):
        for j, (s, w) in enumerate(r):
            idx[i, j], wts[i, j] = s, w
        idx[i, len(r):] = r[-1][0]
    return idx, wts


def _area(src, dst_w, dst_h, inv_x, inv_y, window):
    x0, y0, cw, ch = window
    h_in, w_in, channels = src.shape
    xi, xw = area_table(w_in, dst_w, 1.0 / inv_x, x0, cw)
    yi, yw = area_table(h_in, dst_h, 1.0 / inv_y, y0, ch)
    weights = np.repeat(xw.T, channels, axis=1)  # float32: buf += src * alpha, rounded at each step
    return _two_pass(src, xi, yi, lambda rows, elems: _hpass(rows, elems, weights),
                     lambda h, pos, r0: _vpass_rounded(h, pos, yw[r0:r0 + len(pos)]))


# ---------------------------------------------------------------------------------------------- entry

def resize(img: np.ndarray, width, height, interp, fx=None, fy=None, window=None, ipp: bool = True,
           consume=None, threads: int = 1, ipp_dispatch: str = "l9", l2_cache: int | None = None) -> np.ndarray | None:
    """cv2.resize(img, (width, height), fx=fx, fy=fy, interpolation=interp) of opencv 4.6.0.66 on a uint8 HxWxC
    or HxW image (width = height = 0 or None: the size comes from fx, fy); with window=(x, y, w, h), only that
    part of the output (bit-identical to cropping the full result). ipp=True: as the x86-64 wheel runs by
    default (INTER_CUBIC through Intel IPP: module docstring, step 6); ipp=False: OpenCV's own
    kernels, as with cv2.ipp.setUseIPP(False) or a wheel without IPP. Other interpolations: ipp changes nothing.
    consume: instead of returning the image, hand it to consume(r0, rows) (rows: output rows r0 .. r0 + n - 1 of
    the window, [n, w, C] even for an HxW image, values 0..255): the two-tap path calls it per chunk with its int32
    results (a scratch array, valid during the call only), saving the normaliser an 8-bit copy; the other paths
    once, with the uint8 image. threads: cv2.getNumThreads() of the run to reproduce, and l2_cache the L2 size IPP
    reads on its CPU (None: none reported, as on AMD, where OpenCV assumes ipp_warp.L2_CACHE); only IPP's warpAffine
    (step 7) depends on them (its row stripes: reference/ipp_warp.py step 6).
    ipp_dispatch: which of IPP's CPU-specific codes step 6 reproduces: "l9" (AVX2, the default) or "k0" (AVX-512,
    what the wheel runs on an AVX-512 CPU), for IPP's resize and its warpAffine (step 7) alike."""
    if threads < 1 or (l2_cache is not None and l2_cache < 1):
        raise ValueError(f"threads ({threads}) and l2_cache ({l2_cache}) must be at least 1")
    if ipp_dispatch not in IPP_DISPATCHES:
        raise ValueError(f"ipp_dispatch must be one of {', '.join(IPP_DISPATCHES)}, not {ipp_dispatch!r}")
    src = np.asarray(img)
    if src.dtype != np.uint8:
        raise ValueError(f"cv2_resize reproduces uint8 images only, not {src.dtype}")
    flat = src.ndim == 2
    if flat:
        src = src[:, :, None]
    h_in, w_in = src.shape[:2]
    code = _interp_code(interp)
    dst_w, dst_h, inv_x, inv_y = output_geometry(w_in, h_in, width, height, fx, fy)
    x0, y0, cw, ch = window if window is not None else (0, 0, dst_w, dst_h)
    if not (0 <= x0 and 0 <= y0 and cw >= 1 and ch >= 1 and x0 + cw <= dst_w and y0 + ch <= dst_h):
        raise ValueError(f"window {cw}x{ch} at ({x0}, {y0}) is not inside the {dst_w}x{dst_h} output")
    win = (x0, y0, cw, ch)
    if (dst_w, dst_h) == (w_in, h_in):
        out = src[y0:y0 + ch, x0:x0 + cw].copy()
    else:
        path, code = choose_path(code, w_in, h_in, dst_w, dst_h, inv_x, inv_y, src.shape[2], ipp)
        if path == "nearest":
            xs = _nearest_index(w_in, inv_x, x0, cw)
            ys = _nearest_index(h_in, inv_y, y0, ch)
            out = src[np.ix_(ys, xs)]
        elif path == "ipp_cubic" and _affine(w_in, h_in, dst_w, dst_h, inv_x, inv_y):
            from . import ipp_warp  # step 7

            out = ipp_warp.warp_cubic(src, inv_x, inv_y, threads, l2_cache or ipp_warp.L2_CACHE,
                                      dispatch=ipp_dispatch)[y0:y0 + ch, x0:x0 + cw]
        elif path == "ipp_cubic":
            out = _ipp_cubic(src, inv_x, inv_y, win, dispatch=ipp_dispatch)
        elif path == "area_fast":
            out = _area_fast(src, dst_w, dst_h, inv_x, inv_y, win)
        elif path == "area":
            out = _area(src, dst_w, dst_h, inv_x, inv_y, win)
        else:
            out = _separable(src, dst_w, dst_h, inv_x, inv_y, code, win, consume)
    if consume is not None:
        if out is not None:  # the two-tap path has handed its rows over already
            consume(0, out)
        return None
    return out[:, :, 0] if flat else out
