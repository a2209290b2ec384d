"""cv2.resize on uint8 images, to the last bit: what PaddleClas's and PaddleDetection's Python deploy compute with
opencv-python(-headless) 4.6.0.66 (the version PaddleClas 2.6.0 installs), specified step by step for the Java port.

Entry: resize(img, width, height, interp, fx=None, fy=None, window=None, ipp=True) on HxWxC or HxW uint8.
interp: cv2's codes (0 nearest, 1 linear, 2 cubic, 3 area, 4 lanczos4) or their names.

0. Geometry (cv::resize). A non-empty (width, height) wins: inv_scale_x = width / w, inv_scale_y = height / h
   (float64). Otherwise (cv2.resize(im, None, fx=fx, fy=fy), PaddleDetection's call) dsize =
   (cvRound(w * fx), cvRound(h * fy)) (round half to even) and inv_scale = fx, fy themselves, not dsize / size.
   scale = 1 / inv_scale (float64). dsize == source size: a plain copy, whatever the interpolation.
1. Which kernel (hal::resize):
   - INTER_CUBIC with ipp=True and 1, 3 or 4 channels: Intel IPP (step 6) if the source is at least 4x4, or
     at least 2x2 when fx / fy differ from dsize / size by a relative 1e-10 on an axis (IPP's warpAffine).
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
   aarch64 wheels, run step 3 instead): Keys cubic A = -0.75 at the float64 position (d + 0.5) * scale - 0.5,
   taps clamped, float64 separable sums (horizontal, then vertical), round half to even, clamp. NOT bit-exact:
   the output differs by 1 wherever the real-valued result is a tie or within ~1e-4 of one. Ties are common at
   rational scales on smooth photos: on the 31 sample photos 1.5e-4 of the values differ at 224x224, 2.4e-4 at
   320x320, 4e-5 at PaddleDetection's keep-ratio 800/1333 (moon.png 512 -> 320: 1632 of 307200); integer
   enlargements such as x3 are worse. OpenCV's own cubic (step 3) differs from the wheel on ~2.5e-2 of the
   values. IPP's code is CPU-dispatched (2020.0 "l9", AVX2, in 4.6.0.66): the figures are for an AVX2 CPU
   without AVX-512. What probing the wheel has established (x3 enlargements, one axis at a time;
   tests/test_cv2_resize.py::test_ipp_cubic_recovered_arithmetic checks it on fresh random data):
   - Weights are float32, a few ulps from the exact Keys values (A = -0.75, i.e. IPP's B = 0, C = 0.75), not
     normalised, not fixed point. Recovered from the rounding of two-pixel probes (pixels a, b at two taps, zeros
     elsewhere, all 65536 pairs): phase 1/3: -0x1.c71c72p-4, 0x1.97b424p-1, 0x1.7b4262p-2, -0x1.c71c78p-5;
     phase 2/3: -0x1.c71c68p-5, 0x1.7b4258p-2, 0x1.97b428p-1, -0x1.c71c72p-4. They are the same at every
     output index of a phase (no accumulating position). They fit f = 0x1.555558p-2 and 0x1.555558p-1, 1 ulp
     above fl32(1/3), fl32(2/3) (as fl32(fl32((p + 0.5) * fl32(src / dst)) - 0.5) gives for p = 2, 3, but that
     rule fails at 160 -> 224), with the float32 tap forms w0 = (A*f)*((f-1)*(f-1)),
     w3 = A*(f*f - f*f*f), w1, w2 the Keys inner polynomial of f and 1 - f. At 160 -> 224 (phases k/7) the
     pair probes fit float32 Keys weights of a float32 f again, but f is 1-3 ulps off fl32 of the exact fraction
     (columns 30, 32, 34, 35: -1, 0, +3, +1 ulps, under the forms w0 = A*(f^3 - 2f^2 + f), w1 = ((A+2)f -
     (A+3))f^2 + 1, w2 = ((-(A+2)f + (2A+3))f - A)f, w3 = A*(f^2 - f^3) for f < 1/2 and the mirrored forms in
     1 - f above), and no position rule tried predicts those offsets (float32 (d + 0.5) * scale - 0.5, its
     affine form, a float32 DDA, the first period's float32 positions, the gcd-reduced integer remainder times fl32(1 / 2dst):
     offsets of 0 to 400 ulps). Both scales are periodic: the weights of output d equal those of d + dst / gcd
     (checked at 160 -> 224 for d = 30, 37, 44 and 32, 39), so IPP builds one table per phase; how it computes
     a phase's f is the open question. A lead: every recovered f is the nearest multiple of 2^-23 (phases 1/3,
     2/7, 5/7, 1/7) or of 2^-22 (2/3, 6/7) to the exact fraction, as the fractional part of a float32 in
     [1, 2) or [2, 4) would be; and phase 5/7's weights are phase 2/7's reversed (1 - f is exactly phase 2/7's
     f), so IPP may compute a phase and its mirror once.
   - Horizontal pass, interior columns: (S0*w0 + S1*w1) + (S2*w2 + S3*w3), each product and sum in float32
     (no FMA). The 4 leftmost output columns and the last 4-8 (which ones depends on the source width mod 4)
     use fused sums, fma(S0, w0, S2*w2) + fma(S1, w1, S3*w3) or + fma(S3, w3, S1*w1) depending on the column.
   - Vertical pass, interior rows and columns: fma(S0, w0, S1*w1) + fma(S2, w2, S3*w3) (FMA3 in the AVX2 code);
     the border rows and the first and last few columns of a row differ again (not recovered).
   - Final rounding: round half to even (exact float32 ties at x2, where the weights are dyadic, go to even),
     clamp to 0..255. Source mapping (d + 0.5) * scale - 0.5, replicated borders.
   Still unknown: the weights and position rule at general scales (downscales to 224, periods of gcd-reduced
   ratios, non-periodic ratios), the border-column and border-row sums, the intermediate between the passes
   (float32 assumed), 3-channel interleaving, and IPP's warpAffine path (fx / fy not equal to dsize / size).
   ~300 whole-image variants of position, weight and summation were tried before this per-tap probing. The
   method that works: two-pixel probes pin each float32 weight (the rounding of fl32(a*wi) + fl32(b*wj) over all
   65536 (a, b) admits one pair), then random rows pick the summation order column by column.

The SIMD paths of 4.6.0.66 that differ from its generic C++ are part of the steps above (step 3's cubic split);
the others (HResizeLinearVec_8u32s, ResizeAreaFastVec_SIMD_8u, the resizeNN AVX2 copies) are exact integers
equal to the scalar code.

window=(x, y, w, h) computes only that part of the output, from the source rows and columns its taps read, a
chunk of output rows at a time: every output pixel above depends only on its own coordinates (and, for the
cubic split, on the full output width), so the window equals cropping the full result bit for bit, and a
sliver image whose full resize is huge costs no more than its crop.
"""

from __future__ import annotations

import math

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
    affine = (abs(dst_w / src_w - inv_scale_x) / inv_scale_x > 1e-10
              or abs(dst_h / src_h - inv_scale_y) / inv_scale_y > 1e-10)
    return min(src_w, src_h) >= (2 if affine else 4)


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
    """Vertical pass: output row i combines rows h[pos[i, k]] with beta[i, k]. float_elems: boolean [w * C],
    the elements the cubic kernel computes in its float32 SIMD body (None for the other kernels). Linear
    shifts h in place (it is the caller's scratch)."""
    n, ksize = beta.shape
    b = beta.astype(np.int32)
    if interp in (INTER_LINEAR, INTER_AREA):
        h4 = h
        h4 >>= 4
        t = np.take(h4, pos[:, 0], axis=0)
        t *= b[:, 0, None]
        t >>= 16
        u = np.take(h4, pos[:, 1], axis=0)
        u *= b[:, 1, None]
        u >>= 16
        t += u
        t += 2
        t >>= 2
        return np.clip(t, 0, 255).astype(np.uint8)
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


def _separable(src, dst_w, dst_h, inv_x, inv_y, interp, window):
    x0, y0, cw, ch = window
    h_in, w_in, channels = src.shape
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


# ---------------------------------------------------------------------------------------------- IPP cubic

def _keys_cubic64(t: np.ndarray) -> np.ndarray:
    a = -0.75
    t = np.abs(t)
    return np.where(t < 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))


def ipp_cubic_axis(n_in: int, inv_scale: float, first: int, count: int) -> tuple:
    """(taps [count, 4] clamped, float64 weights [count, 4]): Keys a = -0.75 at the exact (float64) position."""
    d = np.arange(first, first + count, dtype=np.float64)
    pos = (d + 0.5) * (1.0 / inv_scale) - 0.5
    s = np.floor(pos)
    f = pos - s
    w = np.stack([_keys_cubic64(f + 1), _keys_cubic64(f), _keys_cubic64(1 - f), _keys_cubic64(2 - f)], axis=1)
    taps = s.astype(np.int64)[:, None] - 1 + np.arange(4)[None, :]
    return np.clip(taps, 0, n_in - 1), w


def _ipp_cubic(src, inv_x, inv_y, window):
    x0, y0, cw, ch = window
    h_in, w_in, channels = src.shape
    xt, wx = ipp_cubic_axis(w_in, inv_x, x0, cw)
    yt, wy = ipp_cubic_axis(h_in, inv_y, y0, ch)
    weights = np.repeat(wx.T, channels, axis=1)
    return _two_pass(src, xt, yt, lambda rows, elems: _hpass(rows, elems, weights),
                     lambda h, pos, r0: _vpass_rounded(h, pos, wy[r0:r0 + len(pos)]))


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

def resize(img: np.ndarray, width, height, interp, fx=None, fy=None, window=None, ipp: bool = True) -> np.ndarray:
    """cv2.resize(img, (width, height), fx=fx, fy=fy, interpolation=interp) of opencv 4.6.0.66 on a uint8 HxWxC
    or HxW image (width = height = 0 or None: the size comes from fx, fy); with window=(x, y, w, h), only that
    part of the output (bit-identical to cropping the full result). ipp=True: as the x86-64 wheel runs by
    default (INTER_CUBIC through Intel IPP, approximated: module docstring, step 6); ipp=False: OpenCV's own
    kernels, as with cv2.ipp.setUseIPP(False) or a wheel without IPP. Other interpolations: ipp changes nothing."""
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
        elif path == "ipp_cubic":
            out = _ipp_cubic(src, inv_x, inv_y, win)
        elif path == "area_fast":
            out = _area_fast(src, dst_w, dst_h, inv_x, inv_y, win)
        elif path == "area":
            out = _area(src, dst_w, dst_h, inv_x, inv_y, win)
        else:
            out = _separable(src, dst_w, dst_h, inv_x, inv_y, code, win)
    return out[:, :, 0] if flat else out
