package com.litetools.core;

/**
 * IPP's warpAffine with cubic interpolation (B = 0, C = 0.75, replicated border) on 8-bit RGB, as opencv-python
 * 4.6.0.66's cv2.resize runs it for INTER_CUBIC when fx / fy are not dsize / size (Cv2Resampler.PATH_IPP_WARP), at
 * a given cv2.setNumThreads count, bit for bit: lite_tools/reference/ipp_warp.py's warp_cubic (cv2_resize's step
 * 7), three channels (R, G, B) or four (R, G, B, A: alpha as the fourth, whose loops sum in other orders), found
 * by reading what the wheel's AVX2 code computes; with k0, what its AVX-512 code computes (ipp_warp.py step 7).
 * <p>
 * IPP splits the output into a fast rectangle, computed by the separable float32 kernel of its resize (only when fx
 * and fy are at least 2/3), and four border strips (top,
 * left, right, bottom) whose pixels it computes one by one from the inverse matrix: positions by chained float64
 * additions from a float64 fma start, weights from the position's fraction as a power-basis ("gather") or Horner
 * ("inner") polynomial, taps clamped or not, each kind with its own float32 sum order. Without a big enough fast
 * rectangle the whole output is one such strip. With several OpenCV threads, OpenCV cuts the output rows into
 * stripes, each its own IPP call (ipp_warp.py step 6): each stripe gets its own cut of the fast rectangle (or none
 * when that cut is too low) and its own strips, whose row positions start afresh. Every float32 operation is a
 * Java float operation, every float32 fma {@link Cv2Resampler#fma32}, every float64 fma
 * {@link Cv2Resampler#fma64}.
 * <p>
 * A plan holds the geometry and the fast rectangle's tap tables; {@link #run} computes the full output into a
 * caller's buffer with a caller's {@link Ring}, so a plan is safe to share between threads.
 */
final class IppWarpCubic {
    /** The smallest fast rectangle IPP takes (output columns, rows); below, everything is a border strip. */
    private static final int FAST_MIN_W = 31;
    private static final int FAST_MIN_H = 33;
    /**
     * A fast rectangle only when fx and fy are both at least 2/3 (float64 2/3 included); below (shrinking by more
     * than 1.5 on an axis) IPP computes the whole output as one border strip, pixel by pixel.
     */
    private static final double SEPARABLE_FROM = 2.0 / 3;
    /** The L2 cache size OpenCV assumes when IPP reports none (as on the AMD CPU the stripes were measured on). */
    static final int L2_CACHE = 1 << 18;
    /** The last inner column's bound takes outputs up to this far past the image of n - 2 (rows: none). */
    private static final double COLUMN_SLACK = 1e-13;
    /** Kinds of border pixel: clamped taps and power-basis weights; unclamped taps, Horner weights, pair sums. */
    private static final int GATHER = 0;
    private static final int INNER = 1;
    /**
     * The last inner pixel of an odd count (IPP takes inner pixels two at a time): three channels in the gather sum
     * order, four across first.
     */
    private static final int INNER1 = 2;
    /** The vertical sum orders of {@link #column}. */
    private static final int ORDER_3210 = 0;
    private static final int ORDER_3201 = 1;
    private static final int ORDER_3012 = 2;
    /** Channel c's bits in an ARGB pixel: R, G, B, then A. */
    private static final int[] SHIFT = {16, 8, 0, 24};
    /** The cubic's weights of taps -1, 0, 1, 2 as polynomials in t: coefficients of t^3, t^2, t, 1. */
    private static final float[] C3 = {-0.75f, 1.25f, -1.25f, 0.75f};
    private static final float[] C2 = {1.5f, -2.25f, 1.5f, -0.75f};
    private static final float[] C1 = {-0.75f, 0f, 0.75f, 0f};
    private static final float[] C0 = {0f, 1f, 0f, 0f};

    /** 3 (R, G, B) or 4 (R, G, B, A), interleaved in the output. */
    final int channels;
    final int srcW;
    final int srcH;
    final int dstW;
    final int dstH;
    /** The inverse matrix (x = m0 * dx + m2, y = m4 * dy + m5) as IPP derives it from OpenCV's forward matrix. */
    private final double m0;
    private final double m2;
    private final double m4;
    private final double m5;
    /** The inside columns (all four taps in the image, by the forward map); xlo = dstW, xhi = -1 when none. */
    private final int xlo;
    private final int xhi;
    /** The image's fast rectangle (its tables' rows), inclusive; fastX0 &gt; fastX1 when there is none. */
    private final int fastX0;
    private final int fastX1;
    private final int fastY0;
    /** The rows {y0, y1} of the fast rectangle each stripe runs (a part of the image's; a low stripe has none). */
    private final int[][] fastRuns;
    /** All stripes' border strips: {x0, x1, y0, y1, ytop, ymid} each (rows below ytop gather, up to ymid inner). */
    private final int[][] strips;
    /** The fast rectangle's taps (4 per column / row, clamped) and float32 weights. */
    private final int[] fastXTap;
    private final float[] fastXWeight;
    private final int[] fastYTap;
    private final float[] fastYWeight;
    /** IPP's AVX-512 ("k0") code instead of its AVX2 ("l9") one: other sums in the fast rectangle and gathers. */
    private final boolean k0;
    /** The fast rectangle's columns hTailFrom .. hTailTo - 1 take the horizontal pass's tail form (see below). */
    private final int hTailFrom;
    private final int hTailTo;
    /** k0, four channels: columns hMidFrom .. hMidTo - 1 (its remainder's whole pairs) take l9's interior form. */
    private final int hMidFrom;
    private final int hMidTo;
    /** Elements (channels interleaved) of a fast row from here on take the vertical pass's FMA-free tail. */
    private final int vTail;

    IppWarpCubic(int srcW, int srcH, int dstW, int dstH, double fx, double fy) {
        this(srcW, srcH, dstW, dstH, fx, fy, 1, L2_CACHE, 3);
    }

    /**
     * The plan for cv2 at `threads` OpenCV threads on a CPU whose L2 cache IPP reads as l2Cache bytes, on 3 (R, G,
     * B) or 4 (R, G, B, A) channels.
     */
    IppWarpCubic(int srcW, int srcH, int dstW, int dstH, double fx, double fy, int threads, int l2Cache,
                 int channels) {
        this(srcW, srcH, dstW, dstH, fx, fy, threads, l2Cache, channels, false);
    }

    /** The same plan for IPP's AVX-512 code ("k0", ipp_warp.py step 7) when k0, else its AVX2 code ("l9"). */
    IppWarpCubic(int srcW, int srcH, int dstW, int dstH, double fx, double fy, int threads, int l2Cache,
                 int channels, boolean k0) {
        this.k0 = k0;
        if (channels != 3 && channels != 4) {
            throw new IllegalArgumentException("3 or 4 channels, not " + channels);
        }
        this.channels = channels;
        this.srcW = srcW;
        this.srcH = srcH;
        this.dstW = dstW;
        this.dstH = dstH;
        // OpenCV's forward matrix (fx, 0, 0.5 fx - 0.5; 0, fy, 0.5 fy - 0.5), inverted as IPP does (det = fx fy)
        double c = 0.5 * fx - 0.5;
        double f = 0.5 * fy - 0.5;
        double det = fx * fy;
        m0 = fy / det;
        m2 = -(c * fy) / det;
        m4 = fx / det;
        m5 = -(fx * f) / det;
        // the inside outputs: the forward map d = f (s + 0.5) - 0.5 of source positions s = 1 and n - 2, rounded
        // inwards (IPP's own tables, not the inverse positions); the upper one as f * s + (0.5 f - 0.5), whose
        // rounding decides for rows where the image of n - 2 is an integer in exact arithmetic; columns take
        // outputs up to 1e-13 past it
        int lx = Math.max(0, (int) Math.ceil(fx * 1.5 - 0.5));
        int hx = Math.min(dstW - 1, (int) Math.floor(fx * (srcW - 2) + (0.5 * fx - 0.5) + COLUMN_SLACK));
        int ly = Math.max(0, (int) Math.ceil(fy * 1.5 - 0.5));
        int hy = Math.min(dstH - 1, (int) Math.floor(fy * (srcH - 2) + (0.5 * fy - 0.5)));
        int x0 = dstW;
        int x1 = -1;
        int y0 = dstH;
        int y1 = -1;
        if (lx <= hx && ly <= hy) {
            // IPP's fast rectangle: columns from one past the first inside one to one before the image of s = n - 3,
            // rows from the first inside one to the image of s = n - 3
            int a0 = lx + 1;
            int a1 = (int) Math.floor(fx * (srcW - 2.5) - 0.5) - 1;
            int b1 = (int) Math.floor(fy * (srcH - 2.5) - 0.5);
            if (a1 - a0 + 1 >= FAST_MIN_W && b1 - ly + 1 >= FAST_MIN_H && Math.min(fx, fy) >= SEPARABLE_FROM) {
                x0 = a0;
                x1 = a1;
                y0 = ly;
                y1 = b1;
            }
        }
        xlo = lx <= hx ? lx : dstW;
        xhi = lx <= hx ? hx : -1;
        int[] cut = stripes(srcW, srcH, dstW, dstH, channels, threads, l2Cache);
        java.util.List<int[]> runs = new java.util.ArrayList<int[]>();
        java.util.List<int[]> all = new java.util.ArrayList<int[]>();
        for (int i = 0; i + 1 < cut.length; i++) {
            int a = cut[i];
            int b = cut[i + 1] - 1;
            int c0 = Math.max(y0, a);
            int c1 = Math.min(y1, b);
            if (x0 <= x1 && c1 - c0 + 1 >= FAST_MIN_H) {
                runs.add(new int[] {c0, c1});
                all.add(new int[] {0, dstW - 1, a, c0 - 1, 0, -1});
                all.add(new int[] {0, x0 - 1, c0, c1, c0, c1});
                all.add(new int[] {x1 + 1, dstW - 1, c0, c1, c0, c1});
                all.add(new int[] {0, dstW - 1, c1 + 1, b, c1 + 1, hy});
            } else {
                all.add(new int[] {0, dstW - 1, a, b, ly <= hy ? ly : dstH, hy});
            }
        }
        fastRuns = runs.toArray(new int[0][]);
        strips = all.toArray(new int[0][]);
        fastX0 = x0;
        fastX1 = x1;
        fastY0 = y0;
        if (x0 > x1) {
            fastXTap = null;
            fastXWeight = null;
            fastYTap = null;
            fastYWeight = null;
            hTailFrom = 0;
            hTailTo = 0;
            hMidFrom = 0;
            hMidTo = 0;
            vTail = 0;
            return;
        }
        int nx = x1 - x0 + 1;
        fastXTap = new int[4 * nx];
        fastXWeight = new float[4 * nx];
        fastAxis(srcW, fx, x0, nx, fastXTap, fastXWeight);
        int ny = y1 - y0 + 1;
        fastYTap = new int[4 * ny];
        fastYWeight = new float[4 * ny];
        fastAxis(srcH, fy, y0, ny, fastYTap, fastYWeight);
        // IPP's kernel runs on columns x0 - 1 .. x1 + 1 (the strips overwrite those two) and counts its tails there.
        // l9: the last column of an odd count, the last (C n mod 8) mod 4 elements, both in column x1 + 1, so none
        // shows in the rectangle. k0: the last n mod 4 columns (four channels: their whole pairs in l9's interior
        // form, an odd last one in the tail form), the last (C n mod 4) elements. Kept general, in the rectangle's
        // columns / elements (end: one past the kernel's last column).
        int lead = 1;
        int n = nx + lead + 1;
        int end = n - lead;
        int left = n % (k0 ? 4 : 2);
        int mid = k0 && channels == 4 ? left - left % 2 : 0;
        hMidFrom = Math.min(nx, end - left);
        hMidTo = Math.min(nx, end - left + mid);
        hTailFrom = Math.min(nx, end - left + mid);
        hTailTo = Math.min(nx, end);
        int unfused = k0 ? n * channels % 4 : (n * channels % 8) % 4;
        vTail = Math.min(nx * channels, n * channels - unfused - lead * channels);
    }

    /**
     * The output row cuts a_0 = 0 &lt; a_1 &lt; ... &lt; a_n = dstH of OpenCV's stripes (ipp_warp.py step 6): T =
     * min(threads, work / l2Cache) threads for work = int(dstW dstH channels (1 + srcW srcH / (dstW dstH))) bytes,
     * n = min(4 T, dstH) stripes, a_i = (i dstH + n / 2) / n in integers; one stripe when T &lt;= 1 or dstH &lt; 64.
     */
    static int[] stripes(int srcW, int srcH, int dstW, int dstH, int channels, int threads, int l2Cache) {
        int used = 1;
        if (threads > 1 && dstH >= 64) {
            double out = (double) dstW * dstH;
            long work = (long) (out * channels * (1 + (double) srcW * srcH / out));
            used = (int) Math.max(1, Math.min(work / l2Cache, threads));
        }
        if (used <= 1) {
            return new int[] {0, dstH};
        }
        int n = Math.min(4 * used, dstH);
        int[] cut = new int[n + 1];
        for (int i = 0; i < n; i++) {
            cut[i] = (int) (((long) i * dstH + n / 2) / n);
        }
        cut[n] = dstH;
        return cut;
    }

    /**
     * The fast rectangle's taps and weights on one axis: IPP's resize arithmetic, Cv2Resampler.ippCubicAxis
     * (step 6, as the reference's ipp_interior takes it), copied into this plan's flat arrays.
     */
    private static void fastAxis(int n, double inv, int first, int count, int[] tap, float[] weight) {
        Cv2Resampler.Axis a = Cv2Resampler.ippCubicAxis(n, inv, first, count);
        for (int i = 0; i < 4 * count; i++) {
            tap[i] = a.index[i];
            weight[i] = (float) a.weight[i];  // float32 values held as doubles: exact
        }
    }

    /** One thread's buffers: the fast pass's horizontal sums of four source rows, and a pixel's taps and weights. */
    static final class Ring {
        final int[] tag = new int[4];
        final float[][] rows;
        final float[][] h = new float[4][];
        final int[] tapY = new int[4];
        /** tapY[k] * srcW: where tap row k starts in the ARGB pixels. */
        final int[] rowAt = new int[4];
        final float[] wy = new float[4];
        final int[] tapX = new int[4];
        final float[] wx = new float[4];

        Ring(IppWarpCubic plan) {
            int nx = plan.fastX0 <= plan.fastX1 ? plan.fastX1 - plan.fastX0 + 1 : 0;
            rows = new float[4][nx * plan.channels];
        }
    }

    /**
     * The full dstW x dstH output as interleaved R, G, B (, A) bytes into out, from ARGB pixels (alpha ignored with
     * three channels).
     */
    void run(int[] argb, byte[] out, Ring ring) {
        for (int[] f : fastRuns) {
            fast(argb, out, ring, f[0], f[1]);
        }
        for (int[] s : strips) {
            strip(argb, out, ring, s[0], s[1], s[2], s[3], s[4], s[5]);
        }
    }

    /**
     * The fast rectangle: per source row, H = fma(S0, w0, S3*w3) + fma(S1, w1, S2*w2) (the tail column fma(S1, w1,
     * fma(S3, w3, fma(S0, w0, S2*w2))), four channels fma(S1, w1, S2*w2) + fma(S3, w3, S0*w0)); per output element
     * fma(H0, b0, H1*b1) + fma(H2, b2, H3*b3) (the tail elements (H0*b0 + H1*b1) + (H2*b2 + H3*b3)). Source rows go
     * through a ring of four, slot r % 4: one output row's taps are at most four consecutive rows. Rows ya .. yb of
     * the rectangle (one stripe's). k0: the interior H = fma(S0, w0, S1*w1) + fma(S2, w2, S3*w3) (three channels)
     * or fma(S2, w2, S0*w0) + fma(S3, w3, S1*w1) (four), and its own tails (constructor).
     */
    private void fast(int[] argb, byte[] out, Ring ring, int ya, int yb) {
        int nx = fastX1 - fastX0 + 1;
        int ne = nx * channels;
        java.util.Arrays.fill(ring.tag, -1);
        float[][] h = ring.h;
        for (int i = ya - fastY0, y = ya; y <= yb; i++, y++) {
            for (int k = 0; k < 4; k++) {
                int r = fastYTap[4 * i + k];
                int slot = r & 3;
                if (ring.tag[slot] != r) {
                    ring.tag[slot] = r;
                    fastRow(argb, r * srcW, ring.rows[slot]);
                }
                h[k] = ring.rows[slot];
            }
            float b0 = fastYWeight[4 * i];
            float b1 = fastYWeight[4 * i + 1];
            float b2 = fastYWeight[4 * i + 2];
            float b3 = fastYWeight[4 * i + 3];
            float[] h0 = h[0];
            float[] h1 = h[1];
            float[] h2 = h[2];
            float[] h3 = h[3];
            int at = (y * dstW + fastX0) * channels;
            for (int e = 0; e < ne; e++) {
                float v = e < vTail
                        ? Cv2Resampler.fma32(h0[e], b0, h1[e] * b1) + Cv2Resampler.fma32(h2[e], b2, h3[e] * b3)
                        : (h0[e] * b0 + h1[e] * b1) + (h2[e] * b2 + h3[e] * b3);
                out[at + e] = (byte) level(v);
            }
        }
    }

    /** The fast pass's horizontal sums of one source row (from base) over the rectangle's columns, interleaved. */
    private void fastRow(int[] argb, int base, float[] dst) {
        int nx = fastX1 - fastX0 + 1;
        for (int j = 0; j < nx; j++) {
            int p0 = argb[base + fastXTap[4 * j]];
            int p1 = argb[base + fastXTap[4 * j + 1]];
            int p2 = argb[base + fastXTap[4 * j + 2]];
            int p3 = argb[base + fastXTap[4 * j + 3]];
            float w0 = fastXWeight[4 * j];
            float w1 = fastXWeight[4 * j + 1];
            float w2 = fastXWeight[4 * j + 2];
            float w3 = fastXWeight[4 * j + 3];
            int form = j >= hTailFrom && j < hTailTo ? 1 : (j >= hMidFrom && j < hMidTo || !k0 ? 0 : 2);
            for (int c = 0; c < channels; c++) {
                int shift = SHIFT[c];
                float s0 = (p0 >> shift) & 0xff;
                float s1 = (p1 >> shift) & 0xff;
                float s2 = (p2 >> shift) & 0xff;
                float s3 = (p3 >> shift) & 0xff;
                float v;
                if (form == 0) {
                    v = Cv2Resampler.fma32(s0, w0, s3 * w3) + Cv2Resampler.fma32(s1, w1, s2 * w2);
                } else if (form == 2 && channels == 3) {
                    v = Cv2Resampler.fma32(s0, w0, s1 * w1) + Cv2Resampler.fma32(s2, w2, s3 * w3);
                } else if (form == 2) {
                    v = Cv2Resampler.fma32(s2, w2, s0 * w0) + Cv2Resampler.fma32(s3, w3, s1 * w1);
                } else if (channels == 3) {
                    v = Cv2Resampler.fma32(s1, w1, Cv2Resampler.fma32(s3, w3, Cv2Resampler.fma32(s0, w0, s2 * w2)));
                } else {
                    v = Cv2Resampler.fma32(s1, w1, s2 * w2) + Cv2Resampler.fma32(s3, w3, s0 * w0);
                }
                dst[channels * j + c] = v;
            }
        }
    }

    /**
     * One border strip, columns x0..x1 and rows y0..y1: row positions chain from fma(y0, m4, m5) by + m4. Rows
     * above ytop are gathered with x positions chained from fma(x0, m0, m2); rows up to ymid split into a gather
     * run left of the inside columns (x from m2 + x0 * m0, two roundings), the inside columns (inner, their own
     * positions), and a gather run right of them (x from fma(hi + 1, m0, m2)); the rows below ymid are gathered
     * with the two-rounding x positions.
     */
    private void strip(int[] argb, byte[] out, Ring ring, int x0, int x1, int y0, int y1, int ytop, int ymid) {
        if (x0 > x1 || y0 > y1) {
            return;
        }
        int nx = x1 - x0 + 1;
        double[] rowStart = chain(Cv2Resampler.fma64(x0, m0, m2), m0, nx);
        double[] plain = chain(m2 + x0 * m0, m0, nx);
        int lo = Math.max(xlo, x0);
        int hi = Math.min(xhi, x1);
        double[] inner = lo <= hi ? innerPositions(lo, hi - lo + 1) : null;
        double[] right = lo <= hi && hi < x1 ? chain(Cv2Resampler.fma64(hi + 1, m0, m2), m0, x1 - hi) : null;
        double py = Cv2Resampler.fma64(y0, m4, m5);
        for (int r = y0; r <= y1; r++, py += m4) {
            if (r < ytop) {
                run(argb, out, ring, r, py, x0, x1, rowStart, GATHER);
            } else if (r <= ymid && lo <= hi) {
                run(argb, out, ring, r, py, x0, lo - 1, plain, GATHER);
                int n = hi - lo + 1;
                if (n % 2 == 1) {
                    run(argb, out, ring, r, py, lo, hi - 1, inner, INNER);
                    runAt(argb, out, ring, r, py, hi, inner[n - 1], INNER1);
                } else {
                    run(argb, out, ring, r, py, lo, hi, inner, INNER);
                }
                if (right != null) {
                    run(argb, out, ring, r, py, hi + 1, x1, right, GATHER);
                }
            } else {
                run(argb, out, ring, r, py, x0, x1, plain, GATHER);
            }
        }
    }

    /** start, start + step, (start + step) + step, ...: IPP's positions, one float64 addition per pixel. */
    private static double[] chain(double start, double step, int n) {
        double[] v = new double[n];
        double p = start;
        for (int i = 0; i < n; i++) {
            v[i] = p;
            p += step;
        }
        return v;
    }

    /**
     * The inside columns' positions from lo: IPP computes the first two by fma (fma(lo, m0, m2), fma(lo + 1, m0,
     * m2)) and advances each pair by 2 m0, so the even and the odd ones form two chains.
     */
    private double[] innerPositions(int lo, int n) {
        double[] v = new double[n];
        double step = 2 * m0;
        double even = Cv2Resampler.fma64(lo, m0, m2);
        double odd = Cv2Resampler.fma64(lo + 1, m0, m2);
        for (int i = 0; i < n; i += 2) {
            v[i] = even;
            even += step;
        }
        for (int i = 1; i < n; i += 2) {
            v[i] = odd;
            odd += step;
        }
        return v;
    }

    /** Output pixels (r, from .. to) of one kind, x positions pos[0 ..] (pos[0] is column from's). */
    private void run(int[] argb, byte[] out, Ring ring, int r, double py, int from, int to, double[] pos, int kind) {
        if (from > to) {
            return;
        }
        yTaps(py, kind, ring);
        for (int x = from; x <= to; x++) {
            pixel(argb, out, ring, r, x, pos[x - from], kind);
        }
    }

    private void runAt(int[] argb, byte[] out, Ring ring, int r, double py, int x, double px, int kind) {
        yTaps(py, kind, ring);
        pixel(argb, out, ring, r, x, px, kind);
    }

    private void yTaps(double py, int kind, Ring ring) {
        if (kind == GATHER) {
            gatherTaps(py, srcH, ring.tapY, ring.wy);
        } else {
            innerTaps(py, srcH, ring.tapY, ring.wy);
        }
        for (int k = 0; k < 4; k++) {
            ring.rowAt[k] = ring.tapY[k] * srcW;
        }
    }

    /**
     * Gather: i = round_half_even(p - 0.5), t = float32(p - i), taps i - 1 .. i + 2 clamped to the image; weights
     * by powers: t2 = t*t, t3 = t*t2, w = fma(t3, c3, fma(t2, c2, fma(t, c1, c0))).
     */
    private static void gatherTaps(double p, int n, int[] tap, float[] w) {
        double i = Math.rint(p - 0.5);
        float t = (float) (p - i);
        float t2 = t * t;
        float t3 = t * t2;
        int base = (int) i - 1;
        for (int k = 0; k < 4; k++) {
            int v = base + k;
            tap[k] = v < 0 ? 0 : (v > n - 1 ? n - 1 : v);
            w[k] = Cv2Resampler.fma32(t3, C3[k], Cv2Resampler.fma32(t2, C2[k], Cv2Resampler.fma32(t, C1[k], C0[k])));
        }
    }

    /**
     * Inner: i = trunc(p) clamped to [1, n - 3], t = float32(p - i), taps i - 1 .. i + 2 (inside by the clamp);
     * Horner weights w = fma(fma(fma(c3, t, c2), t, c1), t, c0).
     */
    private static void innerTaps(double p, int n, int[] tap, float[] w) {
        double i = Math.min(Math.max(p < 0 ? Math.ceil(p) : Math.floor(p), 1), n - 3);
        float t = (float) (p - i);
        int base = (int) i - 1;
        for (int k = 0; k < 4; k++) {
            tap[k] = base + k;
            w[k] = Cv2Resampler.fma32(Cv2Resampler.fma32(Cv2Resampler.fma32(C3[k], t, C2[k]), t, C1[k]), t, C0[k]);
        }
    }

    /**
     * One border pixel (r, x) at source position (ring's y taps, px): per tap column j the column sum V_j, then the
     * sum across; round half to even, clamp. Three channels: V_j inner fma(R3, b3, fma(R2, b2, fma(R1, b1,
     * R0*b0))), gather and inner1 fma(R3, b3, fma(R2, b2, fma(R0, b0, R1*b1))); across fma(V0, w0, V1*w1) + (V2*w2
     * + V3*w3). Four channels: {@link #pixel4}.
     */
    private void pixel(int[] argb, byte[] out, Ring ring, int r, int x, double px, int kind) {
        int[] tx = ring.tapX;
        float[] wx = ring.wx;
        if (kind == GATHER) {
            gatherTaps(px, srcW, tx, wx);
        } else {
            innerTaps(px, srcW, tx, wx);
        }
        if (channels == 4) {
            pixel4(argb, out, ring, r, x, kind);
            return;
        }
        int at = (r * dstW + x) * channels;
        int order = kind == INNER ? ORDER_3210 : ORDER_3201;
        for (int c = 0; c < channels; c++) {
            int shift = SHIFT[c];
            float v0 = column(argb, ring, tx[0], shift, order);
            float v1 = column(argb, ring, tx[1], shift, order);
            float v2 = column(argb, ring, tx[2], shift, order);
            float v3 = column(argb, ring, tx[3], shift, order);
            float a = Cv2Resampler.fma32(v0, wx[0], v1 * wx[1]);
            float b = v2 * wx[2] + v3 * wx[3];
            out[at + c] = (byte) level(a + b);
        }
    }

    /**
     * A four-channel border pixel. Gather: V_j = fma(R3, b3, fma(R2, b2, fma(R0, b0, R1*b1))) on tap columns 0, 2,
     * 3, fma(R3, b3, fma(R0, b0, fma(R1, b1, R2*b2))) on column 1, then fma(V1, w1, fma(V0, w0, fma(V2, w2,
     * V3*w3))). Inner: V_j = fma(R3, b3, fma(R2, b2, fma(R1, b1, R0*b0))), then fma(V0, w0, V1*w1) + fma(V2, w2,
     * V3*w3). Inner1 across first: per tap row H_k = fma(S3, w3, fma(S2, w2, fma(S0, w0, S1*w1))), then fma(H1,
     * b1, fma(H0, b0, fma(H2, b2, H3*b3))). k0: gathers sum column 1 in the order of the others too.
     */
    private void pixel4(int[] argb, byte[] out, Ring ring, int r, int x, int kind) {
        int[] tx = ring.tapX;
        float w0 = ring.wx[0];
        float w1 = ring.wx[1];
        float w2 = ring.wx[2];
        float w3 = ring.wx[3];
        float[] b = ring.wy;
        int[] rows = ring.rowAt;
        int at = (r * dstW + x) * 4;
        for (int c = 0; c < 4; c++) {
            int shift = SHIFT[c];
            float v;
            if (kind == INNER1) {
                float h0 = across4(argb, rows[0], tx, shift, w0, w1, w2, w3);
                float h1 = across4(argb, rows[1], tx, shift, w0, w1, w2, w3);
                float h2 = across4(argb, rows[2], tx, shift, w0, w1, w2, w3);
                float h3 = across4(argb, rows[3], tx, shift, w0, w1, w2, w3);
                v = Cv2Resampler.fma32(h1, b[1], Cv2Resampler.fma32(h0, b[0], Cv2Resampler.fma32(h2, b[2], h3 * b[3])));
            } else if (kind == INNER) {
                float v0 = column(argb, ring, tx[0], shift, ORDER_3210);
                float v1 = column(argb, ring, tx[1], shift, ORDER_3210);
                float v2 = column(argb, ring, tx[2], shift, ORDER_3210);
                float v3 = column(argb, ring, tx[3], shift, ORDER_3210);
                v = Cv2Resampler.fma32(v0, w0, v1 * w1) + Cv2Resampler.fma32(v2, w2, v3 * w3);
            } else {
                float v0 = column(argb, ring, tx[0], shift, ORDER_3201);
                float v1 = column(argb, ring, tx[1], shift, k0 ? ORDER_3201 : ORDER_3012);
                float v2 = column(argb, ring, tx[2], shift, ORDER_3201);
                float v3 = column(argb, ring, tx[3], shift, ORDER_3201);
                v = Cv2Resampler.fma32(v1, w1, Cv2Resampler.fma32(v0, w0, Cv2Resampler.fma32(v2, w2, v3 * w3)));
            }
            out[at + c] = (byte) level(v);
        }
    }

    /** A four-channel inner1 pixel's sum across the tap row at row: fma(S3, w3, fma(S2, w2, fma(S0, w0, S1*w1))). */
    private static float across4(int[] argb, int row, int[] tx, int shift, float w0, float w1, float w2, float w3) {
        float s0 = (argb[row + tx[0]] >> shift) & 0xff;
        float s1 = (argb[row + tx[1]] >> shift) & 0xff;
        float s2 = (argb[row + tx[2]] >> shift) & 0xff;
        float s3 = (argb[row + tx[3]] >> shift) & 0xff;
        return Cv2Resampler.fma32(s3, w3, Cv2Resampler.fma32(s2, w2, Cv2Resampler.fma32(s0, w0, s1 * w1)));
    }

    /**
     * The vertical sum of one tap column (source column col, the ring's tap rows and weights b0..b3) of one
     * channel, in the order ORDER_3210 fma(R3, b3, fma(R2, b2, fma(R1, b1, R0*b0))), ORDER_3201 fma(R3, b3, fma(R2,
     * b2, fma(R0, b0, R1*b1))) or ORDER_3012 fma(R3, b3, fma(R0, b0, fma(R1, b1, R2*b2))).
     */
    private static float column(int[] argb, Ring ring, int col, int shift, int order) {
        int[] rows = ring.rowAt;
        float b0 = ring.wy[0];
        float b1 = ring.wy[1];
        float b2 = ring.wy[2];
        float b3 = ring.wy[3];
        float s0 = (argb[rows[0] + col] >> shift) & 0xff;
        float s1 = (argb[rows[1] + col] >> shift) & 0xff;
        float s2 = (argb[rows[2] + col] >> shift) & 0xff;
        float s3 = (argb[rows[3] + col] >> shift) & 0xff;
        if (order == ORDER_3210) {
            return Cv2Resampler.fma32(s3, b3, Cv2Resampler.fma32(s2, b2, Cv2Resampler.fma32(s1, b1, s0 * b0)));
        }
        if (order == ORDER_3012) {
            return Cv2Resampler.fma32(s3, b3, Cv2Resampler.fma32(s0, b0, Cv2Resampler.fma32(s1, b1, s2 * b2)));
        }
        return Cv2Resampler.fma32(s3, b3, Cv2Resampler.fma32(s2, b2, Cv2Resampler.fma32(s0, b0, s1 * b1)));
    }

    /** Round half to even and clamp to 0..255. */
    private static int level(float v) {
        double r = Math.rint(v);
        return r <= 0 ? 0 : (r >= 255 ? 255 : (int) r);
    }
}
