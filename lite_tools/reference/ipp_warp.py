"""IPP's warpAffine INTER_CUBIC on uint8 (1, 3 and 4 channels), bit for bit: what cv2.resize(img, None, fx=fx, fy=fy,
interpolation=cv2.INTER_CUBIC) of opencv-python(-headless) 4.6.0.66 computes, at any OpenCV thread count (step 6),
when fx / fy differ from dsize / size by more than 1e-10 relative (PaddleDetection's keep_ratio scales, fx = 1.5 on
an odd width). OpenCV then hands IPP's warpAffine the forward matrix (fx, 0, 0.5 fx - 0.5; 0, fy, 0.5 fy - 0.5)
with B = 0, C = 0.75 and a replicated border. Found by reading what the wheel's AVX2 code computes (hardware
watchpoints on output pixels in gdb led to the routines that write them) and checked against the wheel; step 7 of
cv2_resize's spec, for the Java port (IppWarpCubic):

1. Geometry. dsize = (cvRound(w * fx), cvRound(h * fy)). The inverse matrix, in float64: det = fx * fy,
   m0 = fy / det, m2 = -((0.5 fx - 0.5) * fy) / det, m4 = fx / det, m5 = -(fx * (0.5 fy - 0.5)) / det
   (source x = m0 * dx + m2, y = m4 * dy + m5; m1 = m3 = 0).
2. Ranges, per axis, by the forward map d = f s + (f / 2 - 1 / 2), in float64: the inner outputs (all four taps
   inside the image) lo = max(0, ceil(1.5 f - 0.5)) .. hi = min(n_out - 1, floor(f * (n - 2) + (0.5 f - 0.5)))
   for rows (the product, then the offset, as written: where the image of n - 2 is an integer in exact
   arithmetic, its rounding decides whether that row is inner; f (n - 1.5) - 0.5 rounds otherwise), and for
   columns the same plus 1e-13 (there such a column is always inner, and one 1.1e-13 past it is not). The fast
   rectangle: columns lo + 1 .. floor(fx (w - 2.5) - 0.5) - 1, rows lo_y .. floor(fy (h - 2.5) - 0.5). It exists
   when both axes have inner outputs, it is at least FAST_MIN_W columns by FAST_MIN_H rows and fx, fy are both at
   least 2/3 (float64 2/3 included); else one call covers the whole output (below, with ytop = lo_y, ymid = hi_y;
   ytop = dsize height when no row is inner): shrinking by more than 1.5 on an axis, everything is per pixel.
3. The fast rectangle is IPP's resize arithmetic (cv2_resize step 6: positions, weights, the horizontal and
   vertical sums; no pixel there is a border pixel), except for its tails: IPP's kernel runs on the columns
   lo .. R + 1, one more on each side (which the border strips then overwrite), and counts its tails there, not
   on the whole row's interior (with three channels the tails all fall in column R + 1).
4. Around it, four calls in this order, each (x0 .. x1, y0 .. y1, ytop, ymid): the rows above it (all columns;
   ytop = 0, ymid = -1), the columns left of it and right of it (its rows; ytop = lo_y, ymid = B), the rows below
   it (all columns; ytop = B + 1, ymid = hi_y). Per call: source rows yb(r) = m5 + m4 * y0 by a float64 fma, then
   + m4 per row (sequential float64 additions). Source columns: "row" positions fma(x0, m0, m2) then + m0 per
   column; "plain" positions (m2 + x0 * m0, two roundings) then + m0 per column. A row r < ytop: every column a
   gather pixel at its row position. ytop <= r <= ymid: columns x0 .. lo - 1 gather pixels at their plain
   positions; the inner columns lo' .. hi' (lo' = max(lo, x0), hi' = min(hi, x1)) inner pixels, at positions
   P0 = fma(lo', m0, m2), P1 = fma(lo' + 1, m0, m2): one channel P0, P1, P0 + 2 m0, P1 + 2 m0, each then + 4 m0
   every 4 columns; three or four channels P0, P1, each + 2 m0 every 2 columns, and the last of an odd count an
   "inner1" pixel; columns hi' + 1 .. x1 gather pixels at fma(hi' + 1, m0, m2) then + m0 per column. Rows r >
   ymid: every column a gather pixel at its plain position. (Where no column is inner: all plain gathers.)
5. A pixel at (py, px): gather: i = rint(p - 0.5) (half to even), t = float32(p - i), taps i - 1 .. i + 2 clamped
   to the image, weights in the power basis, t2 = t*t, t3 = t*t2 (float32), w_k = fma(t3, c3_k, fma(t2, c2_k,
   fma(t, c1_k, c0_k))); inner and inner1: i = trunc(p) clamped to [1, n - 3], t = float32(p - i), weights by
   Horner, w_k = fma(fma(fma(c3_k, t, c2_k), t, c1_k), t, c0_k). c3 = (-0.75, 1.25, -1.25, 0.75), c2 = (1.5,
   -2.25, 1.5, -0.75), c1 = (-0.75, 0, 0.75, 0), c0 = (0, 1, 0, 0) (float32). Vertical first, per tap column j
   (R_k: the tap rows' pixels), then across the four column sums V_j:
   - one channel: gather fma(R0, v0, fma(R2, v2, fma(R3, v3, R1*v1))), inner fma(R0, v0, fma(R1, v1, fma(R2,
     v2, R3*v3))); across (V0*w0 + V1*w1) + (V2*w2 + V3*w3) (products rounded, no fma).
   - three channels: inner fma(R3, v3, fma(R2, v2, fma(R1, v1, R0*v0))), gather and inner1 fma(R3, v3, fma(R2,
     v2, fma(R0, v0, R1*v1))); across fma(V0, w0, V1*w1) + (V2*w2 + V3*w3).
   - four channels (one pixel, 4 floats, per vector in the gather and inner1 loops, two in the inner loop):
     gather fma(R3, v3, fma(R2, v2, fma(R0, v0, R1*v1))) on tap columns 0, 2, 3 but fma(R3, v3, fma(R0, v0,
     fma(R1, v1, R2*v2))) on column 1, across fma(V1, w1, fma(V0, w0, fma(V2, w2, V3*w3))); inner fma(R3, v3,
     fma(R2, v2, fma(R1, v1, R0*v0))), across fma(V0, w0, V1*w1) + fma(V2, w2, V3*w3); inner1 the other way
     round: across each tap row first, H_k = fma(S3, w3, fma(S2, w2, fma(S0, w0, S1*w1))), then down, fma(H1,
     v1, fma(H0, v0, fma(H2, v2, H3*v3))).
   Round half to even, clamp to 0..255. Positions, kinds and the fast rectangle are the same for three and four
   channels (the fast rectangle's four-channel sums are cv2_resize step 6's).
6. Threads. OpenCV may run the warp as several IPP calls, one per stripe of output rows. It uses T =
   min(cv::getNumThreads(), work // L2) threads, work = int(dw * dh * C * (1 + (w * h) / (dw * dh))) bytes (C
   channels), L2 the L2 cache size IPP reports, 256 KiB when it reports none (this AMD EPYC: the thread counts at
   which the wheel's result moves put L2 between 260823 and 262377); one call when T <= 1, when getNumThreads() is
   1 or when dh < 64. Otherwise n = min(4 T, dh) stripes, stripe i the rows [a_i, a_(i+1)), a_i = (i * dh + n // 2)
   // n (integer division), a_n = dh; OpenCV's pthreads pool hands them out one at a time (up to 25 threads;
   beyond, it may merge neighbours as timing has it), so the cut is deterministic. Each stripe is one call of steps
   2-5 with the same matrix, the same per-axis ranges (lo, hi, the rectangle's column bounds) and absolute output
   coordinates; only the rows differ: the fast rectangle is the image's cut to the stripe's rows and must itself
   have FAST_MIN_H rows (else the stripe is one per-pixel call over its rows, with the image's ytop = lo_y, ymid =
   hi_y), and every border call starts its row positions afresh at its own first row (fma(y0, m4, m5), then + m4).
   So short stripes (under about 33 rows: T >= 5 for 608 output rows, T >= 7 for 800) are per pixel
   throughout, and the result moves by a level where a tie sits on the difference.
7. k0 (warp_cubic(..., dispatch="k0")): what the wheel computes on an AVX-512 CPU (IPP's "k0" code; Zen 4
   here), found by running the wheel at its default dispatch against this model and by watchpoints on the
   values it missed. Geometry, stripes, positions, weights, kinds and every other order are l9's (steps 1-6);
   two things differ. The fast rectangle takes cv2_resize step 6's k0 sums (its k0 item), its horizontal tails
   counted on the kernel's columns lo .. R + 1 as above and its vertical tail, the last (n C mod 4) elements of
   the n = R - lo + 2 columns it runs on, unfused (this matters for one channel only: with three, those
   elements all fall in column R + 1, which the strips overwrite; with four there are none). Images built so
   that the vertical sums decide each value (rows constant, fy 1.5 or 2.5 on odd heights) tell it apart from a
   tail past column R, the whole row's tail or one counted on the rectangle's own columns: 0 levels on 5.6e7
   values, against 43, 43 and 89 missed (47 for one on lo + 1 .. R + 1; tests/test_cv2_resize.py keeps
   ten). Four-channel gathers sum all four tap columns in the one order fma(R3, v3, fma(R2, v2, fma(R0, v0,
   R1*v1))) (no column 1 exception); across as l9.
   Measured against the wheel's k0, one thread: 0 levels on the 31 photos at keep-ratio 608 and x1.5 (1, 3 and
   4 channels, wherever fx differs from dsize / size: 1.0e8 values, the l9 model misses 804 with three channels
   and 1461 with four), on 2600 random images of 2..90 pixels (few levels, scales 0.4..3.2: 4.9e7 values, l9
   misses 96) and 150 of 40..420 pixels (7.6e7 values, l9 misses 219); with stripes at 2, 5 and 8 threads 0
   on the photos (1.0e8 values each).
Measured against the wheel's AVX2 code (one thread): 0 levels on 9.6e7 values of the
sample photos (one and three channels) at keep-ratio 608, 800 (1333 cap), 320 on the long side and x1.5, on shrinks
from x0.37 to x0.93 both sides of 2/3, and on over 1000 random images of 2..90 pixels a side at scales 0.4..3.2
(tests/test_cv2_resize.py keeps a part of each); tie-rich cut-outs (few levels) at x1.25 .. x3.5: 0 of 3.6e7
values. With stripes (step 6), at every thread count 1..16: 0 levels on the 31 photos at keep-ratio 608, 800 and
x1.5 (1.0e8 values per count; without step 6, up to 1256 miss) and on 161 random images of 40..420 pixels that get
cut (noise and few levels, scales 0.4..3.2; 1.5e8 values per count, up to 617 missed without it), and on noise
frames (640x480 to 607, 608, 1067 and 1333 wide, 1281x721 x1.5, 1920x1081 to 608 wide and to 800 high: up to 393
missed without it).
Four channels (the orders read from the wheel's AVX2 loops under gdb watchpoints), one thread: 0 levels on 2.2e8
values of the photos with an alpha channel (keep-ratio 800, 320 on the long side, x0.56 .. x1.5) and on 1.6e8
values of 7700 random images (2..90 pixels, scales 0.4..3.2 and dyadic ones, half with few levels; 200x150 at
x0.56, x0.74, x1.25, x1.5). The bounds hi, on images built so that each marked value tells an inner row (column)
from a clamped one, where f (n - 1.5) - 0.5 is an integer in exact arithmetic: 471 rows (n = 8..121; 51 of them
clamped) and 1229 columns (n = 8..119, all inner) agree; columns whose source position is n - 2 + d are inner up
to f d = 1e-13 (9.8e-14 inner, 1.07e-13 clamped). Photo crops of 50..120 pixels at x0.55 .. x0.65: 0 of 8e6
values (48 with the former bound f (n - 1.5) - 0.5). CPUs with AVX-512 run IPP's AVX-512 code (cv2.ipp.
getIppVersion() names "k0"), step 7 (dispatch="k0"); OPENCV_IPP=avx2 in the environment before cv2 is imported
makes them run l9.
"""

from __future__ import annotations

import math

import numpy as np

from .cv2_resize import IPP_DISPATCHES, _fma32 as fma32, ipp_interior, product_error

F32 = np.float32
F64 = np.float64
SEPARABLE_FROM = 2 / 3  # a fast rectangle only when fx and fy are both >= 2/3 (else one call does everything)
FAST_MIN_W = 31  # the smallest fast rectangle IPP runs (narrower or lower: one call does everything)
FAST_MIN_H = 33
L2_CACHE = 1 << 18  # what OpenCV assumes when IPP reports no L2 size (as on this AMD EPYC: its splits show 256 KiB)
COLUMN_SLACK = 1e-13  # the last inner column's bound takes outputs up to 1e-13 past the image of n - 2 (rows: none)
C3 = np.array([-0.75, 1.25, -1.25, 0.75], F32)
C2 = np.array([1.5, -2.25, 1.5, -0.75], F32)
C1 = np.array([-0.75, 0.0, 0.75, 0.0], F32)
C0 = np.array([0.0, 1.0, 0.0, 0.0], F32)


def fma64(a, b, c):
    """float64 a * b + c with one rounding (Dekker's TwoProduct for a * b = p + e, TwoSum for p + c = s + t, then
    s + (t + e)); the Java core computes the same expression."""
    a, b, c = (np.asarray(v, F64) for v in (a, b, c))
    p = a * b
    e = product_error(a, b, p)
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    return s + (t + e)


def _fma32(x, y, z):
    """cv2_resize's float32 fma on float32 (or uint8) operands."""
    return fma32(np.asarray(x, F32), np.asarray(y, F32).astype(F64), np.asarray(z, F32))


def _mul32(x, y):
    return np.multiply(np.asarray(x, F32), np.asarray(y, F32), dtype=F32)


def chain(start: float, step: float, n: int) -> np.ndarray:
    """start, start + step, (start + step) + step, ...: sequential float64 additions, as IPP steps positions."""
    v = np.full(n, step, F64)
    if n:
        v[0] = start
        np.add.accumulate(v, out=v)
    return v


def inverse(fx: float, fy: float) -> tuple:
    """(m0, m2, m4, m5) of step 1."""
    c, f = 0.5 * fx - 0.5, 0.5 * fy - 0.5
    det = fx * fy
    return fy / det, -(c * fy) / det, fx / det, -(fx * f) / det


def stripes(w: int, h: int, dw: int, dh: int, channels: int, threads: int = 1, l2_cache: int = L2_CACHE) -> list:
    """Step 6: the [a, b) output row ranges OpenCV hands IPP, one call each, at `threads` OpenCV threads."""
    if threads <= 1 or dh < 64:
        return [(0, dh)]
    work = int(dw * dh * channels * (1 + (w * h) / (dw * dh)))
    used = max(1, min(work // l2_cache, threads))
    if used <= 1:
        return [(0, dh)]
    n = min(4 * used, dh)
    cut = [(i * dh + n // 2) // n for i in range(n)] + [dh]
    return list(zip(cut[:-1], cut[1:]))


def forward(f: float, s: float) -> float:
    """The forward map of source position s, f * s + (0.5 f - 0.5), rounded as written (float64): where the image
    of s = n - 2 is an integer in exact arithmetic, its rounding decides whether that output row is inner."""
    return f * s + (0.5 * f - 0.5)


def plan(h: int, w: int, dh: int, dw: int, fx: float, fy: float, rows: tuple | None = None) -> tuple:
    """(the fast rectangle (x0, x1, y0, y1) or None, (lo, hi) of the inner columns or None, the calls of step 4 as
    (x0, x1, y0, y1, ytop, ymid)) of the IPP call for output rows [a, b) = rows (all rows by default). Step 2's
    bounds by the forward map, in float64 as IPP's tables have them; a stripe keeps the image's bounds and cuts
    the fast rectangle to its rows (step 6)."""
    a, b = rows if rows is not None else (0, dh)
    xlo, xhi = max(0, math.ceil(fx * 1.5 - 0.5)), min(dw - 1, math.floor(forward(fx, w - 2) + COLUMN_SLACK))
    ylo, yhi = max(0, math.ceil(fy * 1.5 - 0.5)), min(dh - 1, math.floor(forward(fy, h - 2)))
    xin = (xlo, xhi) if xlo <= xhi else None
    fast = None
    if xin and ylo <= yhi:
        x0, x1 = xlo + 1, math.floor(fx * (w - 2.5) - 0.5) - 1
        y0, y1 = max(ylo, a), min(math.floor(fy * (h - 2.5) - 0.5), b - 1)
        if x1 - x0 + 1 >= FAST_MIN_W and y1 - y0 + 1 >= FAST_MIN_H and min(fx, fy) >= SEPARABLE_FROM:
            fast = (x0, x1, y0, y1)
    if fast is None:
        ytop, ymid = (ylo, yhi) if ylo <= yhi else (dh, yhi)
        return None, xin, [(0, dw - 1, a, b - 1, ytop, ymid)]
    x0, x1, y0, y1 = fast
    return fast, xin, [(0, dw - 1, a, y0 - 1, 0, -1), (0, x0 - 1, y0, y1, y0, y1),
                       (x1 + 1, dw - 1, y0, y1, y0, y1), (0, dw - 1, y1 + 1, b - 1, y1 + 1, yhi)]


def _taps(p: np.ndarray, n: int, kind: str) -> tuple:
    """Step 5's (taps [N, 4], float32 t, weights [N, 4]) for positions p along an axis of n pixels."""
    if kind == "gather":
        i = np.rint(p - 0.5)
        t = (p - i).astype(F32)[:, None]
        t2 = _mul32(t, t)
        w = _fma32(_mul32(t, t2), C3, _fma32(t2, C2, _fma32(t, C1, C0)))
        return np.clip(i.astype(np.int64)[:, None] + np.arange(-1, 3), 0, n - 1), w
    i = np.clip(np.trunc(p), 1, n - 3)
    t = (p - i).astype(F32)[:, None]
    w = _fma32(_fma32(_fma32(C3, t, C2), t, C1), t, C0)
    return i.astype(np.int64)[:, None] + np.arange(-1, 3), w


# Step 5's vertical orders, per (channels, kind): for each tap column j the order (a, b, c, d) of
# fma(Ra, va, fma(Rb, vb, fma(Rc, vc, Rd*vd))). Four-channel gathers sum their second tap column in another order.
VERTICAL = {(1, "gather"): ((0, 2, 3, 1),) * 4, (1, "inner"): ((0, 1, 2, 3),) * 4,
            (3, "gather"): ((3, 2, 0, 1),) * 4, (3, "inner1"): ((3, 2, 0, 1),) * 4, (3, "inner"): ((3, 2, 1, 0),) * 4,
            (4, "gather"): ((3, 2, 0, 1), (3, 0, 1, 2), (3, 2, 0, 1), (3, 2, 0, 1)), (4, "inner"): ((3, 2, 1, 0),) * 4}
# k0 (AVX-512): the same, except that four-channel gathers sum every tap column in the one order.
VERTICAL_K0 = {**VERTICAL, (4, "gather"): ((3, 2, 0, 1),) * 4}


def _chain(x: list, w: list, order: tuple):
    """fma(xa, wa, fma(xb, wb, fma(xc, wc, xd*wd))) for order (a, b, c, d), float32."""
    a, b, c, d = order
    return _fma32(x[a], w[a], _fma32(x[b], w[b], _fma32(x[c], w[c], _mul32(x[d], w[d]))))


def _across(cols: list, u: list, channels: int, kind: str):
    """Step 5's horizontal sum of the four vertical sums."""
    if channels == 1:
        return (_mul32(cols[0], u[0]) + _mul32(cols[1], u[1])) + (_mul32(cols[2], u[2]) + _mul32(cols[3], u[3]))
    if channels == 3:
        return _fma32(cols[0], u[0], _mul32(cols[1], u[1])) + (_mul32(cols[2], u[2]) + _mul32(cols[3], u[3]))
    if kind == "gather":
        return _chain(cols, u, (1, 0, 2, 3))
    return _fma32(cols[0], u[0], _mul32(cols[1], u[1])) + _fma32(cols[2], u[2], _mul32(cols[3], u[3]))


def pixels(src: np.ndarray, py: np.ndarray, px: np.ndarray, kind: str, dispatch: str = "l9") -> np.ndarray:
    """Step 5 for the output pixels at source rows py (one per output row) and columns px (one per output
    column): uint8 [len(py), len(px), C]. Each vertical sum depends on its output row, its source column and its
    order only, so it is computed once per (row, distinct tap column, order) and shared by the output columns
    that read it."""
    h, w, channels = src.shape
    ty, wy = _taps(py, h, kind)
    tx, wx = _taps(px, w, kind)
    if channels == 4 and kind == "inner1":
        return _inner1_rows_first(src, ty, wy, tx, wx)
    used, at = np.unique(tx, return_inverse=True)
    at = at.reshape(tx.shape)
    orders = (VERTICAL_K0 if dispatch == "k0" else VERTICAL)[channels, kind]
    u = [wx[:, j][None, :, None] for j in range(4)]
    out = np.empty((len(py), len(px), channels), np.uint8)
    step = max(1, (1 << 16) // max(1, len(used) * channels))  # rows per block: float64 temporaries of ~0.5 MB
    for r0 in range(0, len(py), step):
        rows = slice(r0, r0 + step)
        taps = [src[ty[rows, k]][:, used] for k in range(4)]  # [n, U, C] uint8
        v = [wy[rows, k][:, None, None] for k in range(4)]
        col = {o: _chain(taps, v, o) for o in set(orders)}
        cols = [col[orders[j]][:, at[:, j]] for j in range(4)]  # [n, len(px), C] float32
        out[rows] = np.clip(np.rint(_across(cols, u, channels, kind)), 0, 255)
    return out


def _inner1_rows_first(src, ty, wy, tx, wx):
    """A four-channel inner1 pixel sums across first, each tap row k: H_k = fma(S3, w3, fma(S2, w2, fma(S0, w0,
    S1*w1))), then down: fma(H1, v1, fma(H0, v0, fma(H2, v2, H3*v3)))."""
    u = [wx[:, j][None, :, None] for j in range(4)]
    rows = [[src[ty[:, k]][:, tx[:, j]] for j in range(4)] for k in range(4)]  # [len(py), len(px), C] each
    across = [_chain(rows[k], u, (3, 2, 0, 1)) for k in range(4)]
    total = _chain(across, [wy[:, k][:, None, None] for k in range(4)], (1, 0, 2, 3))
    return np.clip(np.rint(total), 0, 255).astype(np.uint8)


def _segments(x0: int, x1: int, xin, channels: int, m0: float, m2: float, row_kind: str) -> list:
    """The (kind, columns, source x) runs of one row of a call (step 4); row_kind "row" (r < ytop), "mid" or
    "plain" (r > ymid)."""
    nx = x1 - x0 + 1
    cols = np.arange(x0, x1 + 1)
    plain = chain(m2 + x0 * m0, m0, nx)
    if row_kind == "row":
        return [("gather", cols, chain(float(fma64(x0, m0, m2)), m0, nx))]
    lo, hi = (max(xin[0], x0), min(xin[1], x1)) if xin else (1, 0)
    if row_kind == "plain" or lo > hi:
        return [("gather", cols, plain)]
    runs = [("gather", cols[:lo - x0], plain[:lo - x0])] if lo > x0 else []
    n = hi - lo + 1
    p0, p1 = float(fma64(lo, m0, m2)), float(fma64(lo + 1, m0, m2))
    pos = np.empty(n, F64)
    starts = (p0, p1, p0 + 2 * m0, p1 + 2 * m0) if channels == 1 else (p0, p1)
    for j, start in enumerate(starts):
        pos[j::len(starts)] = chain(start, len(starts) * m0, len(range(j, n, len(starts))))
    inner_cols = np.arange(lo, hi + 1)
    if channels != 1 and n % 2:
        runs += [("inner", inner_cols[:-1], pos[:-1]), ("inner1", inner_cols[-1:], pos[-1:])]
    else:
        runs.append(("inner", inner_cols, pos))
    if hi < x1:
        runs.append(("gather", np.arange(hi + 1, x1 + 1), chain(float(fma64(hi + 1, m0, m2)), m0, x1 - hi)))
    return runs


def warp_cubic(src: np.ndarray, fx: float, fy: float, threads: int = 1, l2_cache: int = L2_CACHE,
               dispatch: str = "l9") -> np.ndarray:
    """The whole dsize output (HxWxC uint8 in, same channels out) of steps 1-6, as the wheel computes it with
    `threads` OpenCV threads (cv2.getNumThreads()) on a CPU whose L2 size IPP reads as l2_cache; dispatch "l9"
    (AVX2) or "k0" (AVX-512, step 7)."""
    if dispatch not in IPP_DISPATCHES:
        raise ValueError(f"dispatch must be one of {', '.join(IPP_DISPATCHES)}, not {dispatch!r}")
    h, w, channels = src.shape
    dw, dh = int(round(w * fx)), int(round(h * fy))
    m0, m2, m4, m5 = inverse(fx, fy)
    out = np.empty((dh, dw, channels), np.uint8)
    for rows in stripes(w, h, dw, dh, channels, threads, l2_cache):
        _call(src, out, fx, fy, (m0, m2, m4, m5), plan(h, w, dh, dw, fx, fy, rows), dispatch)
    return out


def _call(src: np.ndarray, out: np.ndarray, fx: float, fy: float, m: tuple, planned: tuple,
          dispatch: str = "l9") -> None:
    """One IPP call (steps 3-5) into out."""
    m0, m2, m4, m5 = m
    fast, xin, calls = planned
    channels = src.shape[2]
    if fast is not None:
        x0, x1, y0, y1 = fast
        # IPP's kernel runs on columns x0 - 1 .. x1 + 1 and counts its tails there; the strips overwrite those two
        out[y0:y1 + 1, x0:x1 + 1] = ipp_interior(src, fx, fy, (x0, y0, x1 - x0 + 1, y1 - y0 + 1), (x0 - 1, x1 + 1),
                                                 dispatch)
    for x0, x1, y0, y1, ytop, ymid in calls:
        if x0 > x1 or y0 > y1:
            continue
        yb = chain(float(fma64(y0, m4, m5)), m4, y1 - y0 + 1)
        rows = np.arange(y0, y1 + 1)
        for row_kind, mask in (("row", rows < ytop), ("mid", (rows >= ytop) & (rows <= ymid)),
                               ("plain", rows > max(ymid, ytop - 1))):
            if not mask.any():
                continue
            rs, ys = rows[mask], yb[mask]
            for kind, cols, xs in _segments(x0, x1, xin, channels, m0, m2, row_kind):
                if len(cols):
                    out[rs[0]:rs[-1] + 1, cols[0]:cols[-1] + 1] = pixels(src, ys, xs, kind, dispatch)
