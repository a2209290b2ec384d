package com.litetools.core;

/**
 * cv2.resize of opencv-python 4.6.0.66 on 8-bit RGB, as lite_tools/reference/cv2_resize.py specifies it step by step
 * (its module docstring; the step numbers below are its): the uint8 image PaddleClas's and PaddleDetection's Python
 * deploy compute, bit for bit, so that the app's tensor starts from the same pixels. Every float32 operation of the
 * spec is a Java float operation (IEEE single, no fused multiply-add), every "float64 product, one rounding" a
 * double expression cast to float once, every fma of step 6 {@link #fma32} (API 23 has no Math.fma); round half to
 * even is Math.rint; shifts are arithmetic.
 * <p>
 * A plan (one source size, one output geometry, one output window) holds the per-axis coefficient tables of the
 * window's columns and rows only; {@link #resize(int[], byte[], int)} reads ARGB pixels (Bitmap.getPixels layout,
 * alpha ignored) and writes the window as interleaved R, G, B bytes, or the Preprocessor's overload writes it
 * straight into the normalised float tensor. Only the source rows and columns the window's taps read are touched,
 * through a ring of a few horizontally resampled rows: no intermediate of the full frame (but for IPP's
 * warpAffine, whose pixels depend on where they fall in the full output: it computes that, once per call). A plan
 * is safe to share between threads: each thread keeps its own ring and row buffers in the plan, reused call after
 * call, so a camera frame allocates nothing. The fixed-point kernels run channel by channel over whole int arrays (a
 * gather of the taps' pixels, then plain arithmetic the JIT vectorises); integer sums have no order, so this
 * computes OpenCV's integers exactly.
 * <p>
 * Equal to the reference bit for bit on every path, IPP's cubic (the x86-64 wheel's default, {@code ipp} true,
 * step 6, as IPP's AVX2 code computes it) included. IPP's warpAffine (INTER_CUBIC with fx / fy that are not dsize /
 * size, step 7) is {@link #PATH_IPP_WARP}: {@link IppWarpCubic}, cv2 at a given cv2.setNumThreads bit for bit, also
 * on four channels ({@link #resizeRgba}).
 */
public final class Cv2Resampler {
    public static final int INTER_NEAREST = 0;
    public static final int INTER_LINEAR = 1;
    public static final int INTER_CUBIC = 2;
    public static final int INTER_AREA = 3;
    public static final int INTER_LANCZOS4 = 4;

    /** The kernel a plan runs (step 1), as the reference's choose_path names them, plus a plain copy. */
    public static final int PATH_COPY = 0;
    public static final int PATH_NEAREST = 1;
    public static final int PATH_IPP_CUBIC = 2;
    public static final int PATH_AREA_FAST = 3;
    public static final int PATH_AREA = 4;
    public static final int PATH_SEPARABLE = 5;
    /** IPP's warpAffine (step 6's exception): the full output by {@link IppWarpCubic}, then the window copied. */
    public static final int PATH_IPP_WARP = 6;

    private static final int CHANNELS = 3;
    private static final int COEF_BITS = 11;
    private static final int COEF_SCALE = 1 << COEF_BITS;
    /** The wheel's SSE3 baseline: 128-bit vectors of 8 int16 lanes (the cubic float32 split, step 3). */
    private static final int INT16_LANES = 8;
    private static final double DBL_EPSILON = Math.ulp(1.0);
    private static final float FLT_EPSILON = Math.ulp(1.0f);
    /** The sums of IPP's horizontal pass (hColumnsIpp): interior, tail and border columns. */
    private static final int FORM_INTERIOR = 0;
    private static final int FORM_TAIL = 1;
    private static final int FORM_BORDER = 2;
    private static final int FORM_INTERIOR_K0 = 3;
    private static final double S45 = 0.70710678118654752440084436210485;
    private static final double[][] LANCZOS_CS = {
        {1, 0}, {-S45, -S45}, {0, 1}, {S45, -S45}, {-1, 0}, {S45, S45},
        {0, -1}, {-S45, S45}
    };

    /** Output size and scales as cv::resize derives them (step 0). */
    public static final class Geometry {
        public final int width;
        public final int height;
        public final double invScaleX;
        public final double invScaleY;

        Geometry(int width, int height, double invScaleX, double invScaleY) {
            this.width = width;
            this.height = height;
            this.invScaleX = invScaleX;
            this.invScaleY = invScaleY;
        }
    }

    /**
     * The taps of output pixels first .. first + count - 1 of one axis: output first + i reads source indices
     * {@code index[start[i]] .. index[start[i + 1] - 1]} (clamped to the image) with, by kernel, the fixed-point
     * the fixed-point {@code coef} (step 3) or the float {@code weight} (null for nearest): the float32 weights
     * of step 5 (area) or step 6 (IPP cubic), held exactly as doubles.
     */
    public static final class Axis {
        public final int first;
        public final int count;
        final int[] start;
        final int[] index;
        final int[] coef;
        final double[] weight;

        Axis(int first, int count, int[] start, int[] index, int[] coef, double[] weight) {
            this.first = first;
            this.count = count;
            this.start = start;
            this.index = index;
            this.coef = coef;
            this.weight = weight;
        }

        /** The widest range of source indices one output pixel reads: the rows a ring must hold at once. */
        int maxSpan() {
            int span = 1;
            for (int i = 0; i < count; i++) {
                int lo = Integer.MAX_VALUE;
                int hi = Integer.MIN_VALUE;
                for (int k = start[i]; k < start[i + 1]; k++) {
                    lo = Math.min(lo, index[k]);
                    hi = Math.max(hi, index[k]);
                }
                span = Math.max(span, hi - lo + 1);
            }
            return span;
        }
    }

    private final int srcW;
    private final int srcH;
    private final int path;
    private final int interp;
    private final int winX;
    private final int winY;
    private final int winW;
    private final int winH;
    private final Axis xAxis;
    private final Axis yAxis;
    /** INTER_AREA fast path: the integer block size. */
    private final int kx;
    private final int ky;
    /** Cubic: window elements below this go through the float32 vector body (step 3), the rest are integer. */
    private final int floatElems;
    private final int fullBlocksX;
    /** The ring's size: the widest range of source rows one window row reads. */
    private final int ringRows;
    /**
     * Separable kernels and IPP cubic: xAxis's taps by tap (tap k of window column j at [k][j]), so that the
     * horizontal pass runs one channel at a time over separate contiguous arrays, in loops the JIT vectorises.
     */
    private final int[][] tapIndex;
    private final int[][] tapCoef;
    /** Two taps at every column, the second the pixel after the first: one index read per column. */
    private final boolean adjacentPairs;
    /**
     * Separable 2-tap (linear, area): all weights are non-negative and each pixel's pair sums to at most 2048, so
     * H &lt;= 255 * 2048, H / 16 &lt;= 32640, and the vertical sum
     * (((b0 * (H0 / 16)) / 65536) + ((b1 * (H1 / 16)) / 65536) + 2) / 4 (floors) &lt;= (2048 * 32640 / 65536 + 2) / 4
     * = 255, and &gt;= 0: the clamp cannot change a value and is skipped.
     */
    private final boolean inRange;
    /**
     * Cubic: each window row's float32 vertical weights, coef / 2^22 (step 3's float body); IPP cubic: its
     * float32 weights (step 6). Indexed like yAxis.index.
     */
    private final float[] rowWeights;
    /** IPP cubic (step 6): xAxis's float32 weights by tap, like tapIndex. */
    private final float[][] tapWeight;
    /**
     * IPP cubic: the window rows whose taps were clamped (border pixels, summed in other orders), and the window
     * columns likewise (a list, as every window column in allCols).
     */
    private final boolean[] borderRows;
    private final int[] borderColList;
    private final int[] allCols;
    /** IPP cubic: the interior window columns whose horizontal fma sums a double may not hold exactly (exactPair). */
    private final int[] inexactCols;
    /** IPP cubic: the window column of the horizontal pass's tail (the last interior pixel if their count is odd). */
    private final int[] hTailCols;
    /** IPP cubic: window columns tailFrom[c] .. tailTo[c] - 1 of channel c are the vertical pass's FMA-free tail. */
    private final int[] tailFrom;
    private final int[] tailTo;
    /** IPP cubic: IPP's AVX-512 code ("k0", step 6's k0 item) instead of its AVX2 one ("l9"). */
    private final boolean k0;
    /** IPP's warpAffine: the full output's plan (null on the other paths), and its four-channel twin, made on first use. */
    private final IppWarpCubic warp;
    private volatile IppWarpCubic warpRgba;
    private final Geometry geometry;
    private final int threads;
    private final int l2Cache;
    private final ThreadLocal<Work> works = new ThreadLocal<Work>();

    private Cv2Resampler(int srcW, int srcH, Geometry g, int interp, boolean ipp, int winX, int winY, int winW,
                         int winH, int threads, int l2Cache, boolean k0) {
        this.srcW = srcW;
        this.k0 = k0;
        this.geometry = g;
        this.threads = threads;
        this.l2Cache = l2Cache;
        this.srcH = srcH;
        this.winX = winX;
        this.winY = winY;
        this.winW = winW;
        this.winH = winH;
        double scaleX = 1.0 / g.invScaleX;
        double scaleY = 1.0 / g.invScaleY;
        int[] chosen = choosePath(interp, srcW, srcH, g, ipp);
        int p = chosen[0];
        interp = chosen[1];
        this.path = p;
        this.interp = interp;
        int bx = 0;
        int by = 0;
        Axis ax = null;
        Axis ay = null;
        if (p == PATH_NEAREST) {
            ax = nearestAxis(srcW, g.invScaleX, winX, winW);
            ay = nearestAxis(srcH, g.invScaleY, winY, winH);
        } else if (p == PATH_IPP_CUBIC) {
            ax = ippCubicAxis(srcW, g.invScaleX, winX, winW);
            ay = ippCubicAxis(srcH, g.invScaleY, winY, winH);
        } else if (p == PATH_AREA_FAST) {
            bx = (int) Math.rint(scaleX);
            by = (int) Math.rint(scaleY);
        } else if (p == PATH_AREA) {
            ax = areaAxis(srcW, scaleX, winX, winW);
            ay = areaAxis(srcH, scaleY, winY, winH);
        } else if (p == PATH_SEPARABLE) {
            boolean areaMode = interp == INTER_AREA;
            ax = separableAxis(srcW, g.invScaleX, interp, areaMode, true, winX, winW);
            ay = separableAxis(srcH, g.invScaleY, interp, areaMode, false, winY, winH);
        }
        this.warp = p == PATH_IPP_WARP ? new IppWarpCubic(srcW, srcH, g.width, g.height, g.invScaleX, g.invScaleY,
                threads, l2Cache, CHANNELS, k0) : null;
        this.kx = bx;
        this.ky = by;
        this.fullBlocksX = bx > 0 ? srcW / bx : 0;
        this.xAxis = ax;
        this.yAxis = ay;
        int limit = (int) ((long) g.width * CHANNELS / INT16_LANES * INT16_LANES);
        this.floatElems = p == PATH_SEPARABLE && interp == INTER_CUBIC
                ? Math.max(0, Math.min(winW * CHANNELS, limit - winX * CHANNELS)) : 0;
        this.ringRows = ay != null ? ay.maxSpan() : 1;
        if (p == PATH_SEPARABLE) {
            int k = ax.start[1];
            tapIndex = new int[k][winW];
            tapCoef = new int[k][winW];
            for (int j = 0; j < winW; j++) {
                for (int t = 0; t < k; t++) {
                    tapIndex[t][j] = ax.index[j * k + t];
                    tapCoef[t][j] = ax.coef[j * k + t];
                }
            }
            inRange = k == 2 && nonNegativeAtMostOne(ax) && nonNegativeAtMostOne(ay);
            boolean adjacent = k == 2;
            for (int j = 0; adjacent && j < winW; j++) {
                adjacent = tapIndex[1][j] == tapIndex[0][j] + 1;
            }
            adjacentPairs = adjacent;
            rowWeights = interp == INTER_CUBIC ? new float[ay.coef.length] : null;
            float fScale = (float) (1.0 / (COEF_SCALE * COEF_SCALE));
            for (int t = 0; rowWeights != null && t < rowWeights.length; t++) {
                rowWeights[t] = (float) ay.coef[t] * fScale;
            }
        } else {
            tapIndex = p == PATH_IPP_CUBIC ? new int[4][winW] : null;
            tapCoef = null;
            adjacentPairs = false;
            inRange = false;
            rowWeights = p == PATH_IPP_CUBIC ? new float[ay.weight.length] : null;
        }
        if (p == PATH_IPP_CUBIC) {
            tapWeight = new float[4][winW];
            for (int j = 0; j < winW; j++) {
                for (int t = 0; t < 4; t++) {
                    tapIndex[t][j] = ax.index[4 * j + t];
                    tapWeight[t][j] = (float) ax.weight[4 * j + t];
                }
            }
            for (int t = 0; t < rowWeights.length; t++) {
                rowWeights[t] = (float) ay.weight[t];
            }
            boolean[] border = ippBorder(ax, srcW);
            boolean[] inexact = new boolean[winW];
            for (int j = 0; j < winW; j++) {
                inexact[j] = !border[j] && !(k0 ? exactPair(tapWeight[0][j], tapWeight[1][j])
                        && exactPair(tapWeight[2][j], tapWeight[3][j]) : exactPair(tapWeight[0][j], tapWeight[3][j])
                        && exactPair(tapWeight[1][j], tapWeight[2][j]));
            }
            borderColList = trueIndices(border);
            inexactCols = trueIndices(inexact);
            allCols = new int[winW];
            for (int j = 0; j < winW; j++) {
                allCols[j] = j;
            }
            borderRows = k0 ? new boolean[winH] : ippBorder(ay, srcH);  // k0 has no border rows of its own
            tailFrom = new int[CHANNELS];
            tailTo = new int[CHANNELS];
            hTailCols = ippTail(srcW, g, winX, winW, tailFrom, tailTo, k0);
        } else {
            hTailCols = null;
            tapWeight = null;
            borderColList = null;
            inexactCols = null;
            allCols = null;
            borderRows = null;
            tailFrom = null;
            tailTo = null;
        }
    }

    /** Whether every output's fixed-point weights are non-negative and sum to at most 1 (2048). */
    private static boolean nonNegativeAtMostOne(Axis a) {
        for (int i = 0; i < a.count; i++) {
            int sum = 0;
            for (int t = a.start[i]; t < a.start[i + 1]; t++) {
                if (a.coef[t] < 0) {
                    return false;
                }
                sum += a.coef[t];
            }
            if (sum > COEF_SCALE) {
                return false;
            }
        }
        return true;
    }

    /**
     * A plan for a srcW x srcH image: (width, height) when both are positive (cv2.resize(im, (w, h))), else
     * fx, fy (cv2.resize(im, None, fx=fx, fy=fy)); the window (x, y, w, h) of that output. ipp: as the x86-64
     * wheel runs by default (only INTER_CUBIC changes, step 6); false: OpenCV's own kernels, as on aarch64. cv2 at
     * one OpenCV thread.
     */
    public static Cv2Resampler plan(int srcW, int srcH, int width, int height, double fx, double fy, int interp,
                                    boolean ipp, int x, int y, int w, int h) {
        return plan(srcW, srcH, width, height, fx, fy, interp, ipp, x, y, w, h, 1);
    }

    /**
     * The plan for cv2 at `threads` OpenCV threads (cv2.getNumThreads()) on a CPU for which IPP reports no L2 cache
     * size (as on AMD: OpenCV then assumes {@link IppWarpCubic#L2_CACHE}).
     */
    public static Cv2Resampler plan(int srcW, int srcH, int width, int height, double fx, double fy, int interp,
                                    boolean ipp, int x, int y, int w, int h, int threads) {
        return plan(srcW, srcH, width, height, fx, fy, interp, ipp, x, y, w, h, threads, IppWarpCubic.L2_CACHE);
    }

    /**
     * The plan for cv2 at `threads` OpenCV threads on a CPU whose L2 cache IPP reads as l2Cache bytes: only IPP's
     * warpAffine ({@link #PATH_IPP_WARP}) depends on them, through OpenCV's row stripes (ipp_warp.py step 6).
     */
    public static Cv2Resampler plan(int srcW, int srcH, int width, int height, double fx, double fy, int interp,
                                    boolean ipp, int x, int y, int w, int h, int threads, int l2Cache) {
        return plan(srcW, srcH, width, height, fx, fy, interp, ipp, x, y, w, h, threads, l2Cache, false);
    }

    /**
     * The plan for an x86-64 CPU with AVX-512 when k0 (IPP's "k0" code, whose cubic sums differ: step 6's k0 item,
     * ipp_warp.py step 7), else with AVX2 only ("l9", the other overloads); only IPP's cubic paths depend on it.
     */
    public static Cv2Resampler plan(int srcW, int srcH, int width, int height, double fx, double fy, int interp,
                                    boolean ipp, int x, int y, int w, int h, int threads, int l2Cache, boolean k0) {
        if (threads < 1 || l2Cache < 1) {
            throw new IllegalArgumentException("threads " + threads + " and L2 size " + l2Cache + " must be >= 1");
        }
        if (srcW < 1 || srcH < 1) {
            throw new IllegalArgumentException("empty source " + srcW + "x" + srcH);
        }
        if (interp < INTER_NEAREST || interp > INTER_LANCZOS4) {
            throw new IllegalArgumentException("unsupported interpolation " + interp);
        }
        Geometry g = geometry(srcW, srcH, width, height, fx, fy);
        if (x < 0 || y < 0 || w < 1 || h < 1 || x > g.width - w || y > g.height - h) {
            throw new IllegalArgumentException("window " + w + "x" + h + " at (" + x + ", " + y
                    + ") is not inside the " + g.width + "x" + g.height + " output");
        }
        return new Cv2Resampler(srcW, srcH, g, interp, ipp, x, y, w, h, threads, l2Cache, k0);
    }

    /** Step 0: a non-empty (width, height) wins with scales size / source; else cvRound(size * f) and f itself. */
    public static Geometry geometry(int srcW, int srcH, int width, int height, double fx, double fy) {
        if (width > 0 && height > 0) {
            return new Geometry(width, height, (double) width / srcW, (double) height / srcH);
        }
        if (!(fx > 0 && fy > 0)) {
            throw new IllegalArgumentException("cv2.resize needs a non-empty size or positive fx and fy");
        }
        double dw = Math.rint(srcW * fx);
        double dh = Math.rint(srcH * fy);
        if (dw <= 0 || dh <= 0 || dw > Integer.MAX_VALUE || dh > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(srcW + "x" + srcH + " scaled by (" + fx + ", " + fy + ") is empty");
        }
        return new Geometry((int) dw, (int) dh, fx, fy);
    }

    /**
     * Step 1, the reference's choose_path: {path, interpolation run}. Linear at exactly x0.5 on both axes
     * becomes area (its 2 x 2 fast path); area that enlarges along an axis runs the separable kernel.
     */
    static int[] choosePath(int interp, int srcW, int srcH, Geometry g, boolean ipp) {
        if (g.width == srcW && g.height == srcH) {
            return new int[] {PATH_COPY, interp};
        }
        if (ipp && usesIpp(interp, srcW, srcH, g)) {
            return new int[] {affine(srcW, srcH, g) ? PATH_IPP_WARP : PATH_IPP_CUBIC, interp};
        }
        if (interp == INTER_NEAREST) {
            return new int[] {PATH_NEAREST, interp};
        }
        double scaleX = 1.0 / g.invScaleX;
        double scaleY = 1.0 / g.invScaleY;
        double isx = Math.rint(scaleX);
        double isy = Math.rint(scaleY);
        boolean areaFast = Math.abs(scaleX - isx) < DBL_EPSILON && Math.abs(scaleY - isy) < DBL_EPSILON;
        if (interp == INTER_LINEAR && areaFast && isx == 2 && isy == 2) {
            interp = INTER_AREA;
        }
        if (interp == INTER_AREA && scaleX >= 1 && scaleY >= 1) {
            return new int[] {areaFast ? PATH_AREA_FAST : PATH_AREA, interp};
        }
        return new int[] {PATH_SEPARABLE, interp};
    }

    /** Step 1: INTER_CUBIC goes to IPP from 4x4 sources, or 2x2 when fx / fy are not size / source (warpAffine). */
    static boolean usesIpp(int interp, int srcW, int srcH, Geometry g) {
        if (interp != INTER_CUBIC) {
            return false;
        }
        return Math.min(srcW, srcH) >= (affine(srcW, srcH, g) ? 2 : 4);
    }

    /** Whether fx / fy differ from dsize / size by more than 1e-10 relative: OpenCV then calls IPP's warpAffine. */
    static boolean affine(int srcW, int srcH, Geometry g) {
        return Math.abs((double) g.width / srcW - g.invScaleX) / g.invScaleX > 1e-10
                || Math.abs((double) g.height / srcH - g.invScaleY) / g.invScaleY > 1e-10;
    }

    /** The kernel this plan runs: one of the PATH_ constants. */
    public int path() {
        return path;
    }

    public int windowWidth() {
        return winW;
    }

    public int windowHeight() {
        return winH;
    }

    private static int[] uniformStart(int count, int taps) {
        int[] start = new int[count + 1];
        for (int i = 0; i <= count; i++) {
            start[i] = i * taps;
        }
        return start;
    }

    private static int clamp(int v, int lo, int hi) {
        return v < lo ? lo : (v > hi ? hi : v);
    }

    /** Step 2: floor(d * (1 / inv_scale)) in float64, at most n - 1. */
    static Axis nearestAxis(int nIn, double invScale, int first, int count) {
        double step = 1.0 / invScale;
        int[] index = new int[count];
        for (int i = 0; i < count; i++) {
            index[i] = (int) Math.min(Math.floor((first + i) * step), nIn - 1);
        }
        return new Axis(first, count, uniformStart(count, 1), index, null, null);
    }

    /** Step 3's weights of one position f, in float32 and in the spec's order, into c[0 .. K - 1]. */
    private static void kernelWeights(int interp, float f, float[] c) {
        if (interp == INTER_CUBIC) {
            float a = -0.75f;
            float x1 = f + 1f;
            c[0] = ((a * x1 - 5f * a) * x1 + 8f * a) * x1 - 4f * a;
            c[1] = ((a + 2f) * f - (a + 3f)) * f * f + 1f;
            float y = 1f - f;
            c[2] = ((a + 2f) * y - (a + 3f)) * y * y + 1f;
            c[3] = 1f - c[0] - c[1] - c[2];
        } else if (interp == INTER_LANCZOS4) {
            if (f < FLT_EPSILON) {
                for (int i = 0; i < 8; i++) {
                    c[i] = i == 3 ? 1f : 0f;
                }
                return;
            }
            // StrictMath: fdlibm on every JVM and on Android, so the phone computes what the tests' JVM does. Its
            // sin / cos differ from glibc's (numpy's, OpenCV's) by an ulp on ~3% of positions, which never reached
            // the float32 coefficients on 200,000 random float32 positions.
            double key = f;
            double y0 = -(key + 3) * Math.PI * 0.25;
            double s0 = StrictMath.sin(y0);
            double c0 = StrictMath.cos(y0);
            float total = 0f;
            for (int i = 0; i < 8; i++) {
                double y = -(key + 3 - i) * Math.PI * 0.25;
                c[i] = (float) ((LANCZOS_CS[i][0] * s0 + LANCZOS_CS[i][1] * c0) / (y * y));
                total += c[i];
            }
            float inv = 1f / total;
            for (int i = 0; i < 8; i++) {
                c[i] *= inv;
            }
        } else {
            c[0] = 1f - f;
            c[1] = f;
        }
    }

    /** saturate_cast&lt;short&gt;(c * 2048): round half to even, clamp to int16. */
    private static int fixedPoint(float c) {
        double v = Math.rint(c * (float) COEF_SCALE);
        return (int) Math.max(-32768.0, Math.min(32767.0, v));
    }

    /** Step 3's table of one axis (the reference's axis_coeffs): K = 2 (linear, area), 4 (cubic), 8 (lanczos4). */
    static Axis separableAxis(int nIn, double invScale, int interp, boolean areaMode, boolean horizontal, int first,
                              int count) {
        int ksize = interp == INTER_CUBIC ? 4 : (interp == INTER_LANCZOS4 ? 8 : 2);
        double scale = 1.0 / invScale;
        int[] index = new int[count * ksize];
        int[] coef = new int[count * ksize];
        float[] c = new float[ksize];
        for (int i = 0; i < count; i++) {
            int d = first + i;
            int s;
            float f;
            if (!areaMode) {
                f = (float) ((d + 0.5) * scale - 0.5);
                s = (int) Math.floor(f);
                f = f - (float) s;
            } else {
                s = (int) Math.floor(d * scale);
                f = (float) ((d + 1) - (s + 1) * invScale);
                f = f <= 0 ? 0f : f - (float) Math.floor(f);
            }
            if (horizontal && ksize == 2) {
                if (s < 0) {
                    s = 0;
                    f = 0f;
                }
                if (s >= nIn - 1) {
                    s = nIn - 1;
                    f = 0f;
                }
            }
            kernelWeights(interp, f, c);
            for (int k = 0; k < ksize; k++) {
                index[i * ksize + k] = clamp(s - (ksize / 2 - 1) + k, 0, nIn - 1);
                coef[i * ksize + k] = fixedPoint(c[k]);
            }
        }
        return new Axis(first, count, uniformStart(count, ksize), index, coef, null);
    }

    /** Step 5: computeResizeAreaTab's entries, in its order, for outputs first .. first + count - 1. */
    static Axis areaAxis(int nIn, double scale, int first, int count) {
        int cap = count * ((int) Math.ceil(scale) + 2);
        int[] start = new int[count + 1];
        int[] index = new int[cap];
        double[] weight = new double[cap];
        int used = 0;
        for (int i = 0; i < count; i++) {
            double fsx1 = (first + i) * scale;
            double fsx2 = fsx1 + scale;
            double cell = Math.min(scale, nIn - fsx1);
            int sx1 = (int) Math.ceil(fsx1);
            int sx2 = (int) Math.min(Math.floor(fsx2), nIn - 1);
            sx1 = Math.min(sx1, sx2);
            if (sx1 - fsx1 > 1e-3) {
                index[used] = sx1 - 1;
                weight[used++] = (float) ((sx1 - fsx1) / cell);
            }
            for (int sx = sx1; sx < sx2; sx++) {
                index[used] = sx;
                weight[used++] = (float) (1.0 / cell);
            }
            if (fsx2 - sx2 > 1e-3) {
                index[used] = sx2;
                weight[used++] = (float) (Math.min(Math.min(fsx2 - sx2, 1.0), cell) / cell);
            }
            start[i + 1] = used;
        }
        return new Axis(first, count, start, index, null, weight);
    }

    /**
     * Step 6's position and weights: x = fma(d + 0.5, scale, -0.5) in float64 (one rounding, {@link
     * #fmaPosition}), s = floor(x), f = float32(1 + float32(x - s)) - 1; the Mitchell-Netravali (B = 0, C = 0.75)
     * polynomials in f evaluated in float64 (the reference's order) and rounded once to float32; taps s - 1 .. s + 2
     * clamped.
     */
    static Axis ippCubicAxis(int nIn, double invScale, int first, int count) {
        double scale = 1.0 / invScale;
        double a = -0.75;
        int[] index = new int[count * 4];
        double[] weight = new double[count * 4];
        for (int i = 0; i < count; i++) {
            double pos = fmaPosition(first + i + 0.5, scale);
            double s = Math.floor(pos);
            double f = (1f + (float) (pos - s)) - 1f;
            double f2 = f * f;
            double f3 = f2 * f;
            weight[4 * i] = (float) (a * f * ((f - 1) * (f - 1)));
            weight[4 * i + 1] = (float) ((a + 2) * f3 - (a + 3) * f2 + 1);
            weight[4 * i + 2] = (float) (-(a + 2) * f3 + (2 * a + 3) * f2 - a * f);
            weight[4 * i + 3] = (float) (a * (f2 - f3));
            for (int k = 0; k < 4; k++) {
                index[4 * i + k] = clamp((int) s - 1 + k, 0, nIn - 1);
            }
        }
        return new Axis(first, count, uniformStart(count, 4), index, null, weight);
    }

    /**
     * fma(a, scale, -0.5) in double with one rounding, without Math.fma (API 23 lacks it), as the reference's
     * _fma_position: Dekker's TwoProduct a * scale = p + e exactly (Veltkamp halves); p - 0.5 is exact for p &gt;=
     * 0.25, so (p - 0.5) + e is the one rounding; below, TwoSum's error joins e (border pixels only).
     */
    static double fmaPosition(double a, double scale) {
        double p = a * scale;
        double e = productError(a, scale, p);
        double s = p - 0.5;
        double t = (p - (s + 0.5)) + (-0.5 - (s - p));
        return s + (t + e);
    }

    /** Dekker's TwoProduct: the exact a * b - p for p = a * b rounded (Veltkamp halves), as the reference's. */
    static double productError(double a, double b, double p) {
        double ta = a * 134217729.0;  // 2^27 + 1
        double ah = ta - (ta - a);
        double al = a - ah;
        double tb = b * 134217729.0;
        double bh = tb - (tb - b);
        double bl = b - bh;
        return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    }

    /**
     * fma(a, b, c) in double with one rounding, without Math.fma (API 23 lacks it), the expression of
     * reference/ipp_warp.py's fma64 (IPP warpAffine's positions): TwoProduct a * b = p + e exactly (Veltkamp
     * halves), TwoSum p + c = s + t exactly, then s + (t + e) (equal to the JDK's Math.fma on 1.2e7 position-like
     * and random arguments; the model computes this same expression wherever the two could differ).
     */
    static double fma64(double a, double b, double c) {
        double p = a * b;
        double e = productError(a, b, p);
        double s = p + c;
        double bb = s - p;
        double t = (p - (s - bb)) + (c - bb);
        return s + (t + e);
    }

    /** Step 6's border pixels: the first two taps both clamped to 0, or the last two to n - 1. */
    private static boolean[] ippBorder(Axis a, int nIn) {
        boolean[] border = new boolean[a.count];
        for (int i = 0; i < a.count; i++) {
            int[] t = a.index;
            border[i] = t[4 * i] == 0 && t[4 * i + 1] == 0 || t[4 * i + 3] == nIn - 1 && t[4 * i + 2] == nIn - 1;
        }
        return border;
    }

    /**
     * Whether S * wa + float32(T * wb) is exact in double for all pixels S, T in 0..255 (the reference's
     * _exact_pair): S * wa is a multiple of ulp(wa) below 2^(ea + 9), float32(T * wb) (T &gt;= 1) one of ulp(wb)
     * below 2^(eb + 9), so the sum needs at most |ea - eb| + 33 bits; a zero weight leaves one exact term. There
     * the double sum rounded to float is the fma.
     */
    static boolean exactPair(float wa, float wb) {
        if (wa == 0 || wb == 0) {
            return true;
        }
        if (Math.abs(wa) < Float.MIN_NORMAL || Math.abs(wb) < Float.MIN_NORMAL) {
            return false;
        }
        return Math.abs(Math.getExponent(wa) - Math.getExponent(wb)) <= 20;
    }

    /** The indices where flags is true. */
    private static int[] trueIndices(boolean[] flags) {
        int m = 0;
        for (boolean f : flags) {
            m += f ? 1 : 0;
        }
        int[] out = new int[m];
        for (int i = 0, k = 0; i < flags.length; i++) {
            if (flags[i]) {
                out[k++] = i;
            }
        }
        return out;
    }

    /**
     * Step 6's tails, as window columns: the interior (non-border) elements of a full output row go through IPP's
     * 8-wide, then one 4-wide FMA step of the vertical pass; the last (count mod 8) mod 4 of them, ending at the
     * last interior element, are summed without FMA (from[c] .. to[c] - 1 per channel). The horizontal pass takes
     * the interior pixels two at a time (three channels): returns the window column of the last one when their
     * count is odd (empty otherwise, or outside the window). k0: the horizontal pass takes them 4 at a time, the
     * last (count mod 4) in the tail form (all returned, in the window); the vertical pass covers the whole row
     * and sums its last (width * 3 mod 4) elements without FMA.
     */
    private static int[] ippTail(int srcW, Geometry g, int winX, int winW, int[] from, int[] to, boolean k0) {
        boolean[] border = ippBorder(ippCubicAxis(srcW, g.invScaleX, 0, g.width), srcW);
        int inner = 0;
        int last = -1;
        for (int d = 0; d < g.width; d++) {
            if (!border[d]) {
                inner++;
                last = d;
            }
        }
        int end = (last + 1) * CHANNELS;
        int begin = end - ((int) ((long) inner * CHANNELS % 8)) % 4;
        if (k0) {
            end = g.width * CHANNELS;
            begin = end - (int) ((long) g.width * CHANNELS % 4);
        }
        for (int c = 0; c < CHANNELS; c++) {
            from[c] = winW;
            to[c] = 0;
            for (int j = 0; j < winW; j++) {
                int e = (winX + j) * CHANNELS + c;
                if (e >= begin && e < end) {
                    from[c] = Math.min(from[c], j);
                    to[c] = j + 1;
                }
            }
        }
        if (k0) {
            boolean[] tail = new boolean[winW];
            for (int d = last + 1 - inner % 4; inner > 0 && d <= last; d++) {
                if (d - winX >= 0 && d - winX < winW) {
                    tail[d - winX] = true;
                }
            }
            return trueIndices(tail);
        }
        int j = last - winX;
        return inner % 2 == 1 && j >= 0 && j < winW ? new int[] {j} : new int[0];
    }

    /**
     * fma(x, y, z) in float32 with one rounding, without Math.fma (API 23 lacks it): x * y is exact in double
     * (24 + 24 bits), so s = x * y + z is the exact sum rounded once to double; rounding s to float is then
     * right unless s sits exactly on a float tie (its low 29 bits 1 and 28 zeros) while the exact sum does not,
     * or s is below the float normals (fewer float bits): there the exact error of s (TwoSum) moves s one double
     * ulp towards the exact sum (round to odd), which the float rounding then resolves correctly.
     */
    static float fma32(float x, float y, float z) {
        double p = (double) x * y;
        double s = p + z;
        long bits = Double.doubleToRawLongBits(s);
        if ((bits & 0x1fffffffL) == 0x10000000L || Math.abs(s) < 0x1p-125) {
            double zz = s - p;
            double e = (p - (s - zz)) + (z - zz);
            if (e != 0 && (bits & 1) == 0) {
                s = Double.longBitsToDouble(bits + ((e > 0) == (s > 0) ? 1 : -1));
            }
        }
        return (float) s;
    }

    /** The window as interleaved RGB bytes (winW * winH * 3). */
    public byte[] resize(int[] argb) {
        byte[] out = new byte[winW * winH * CHANNELS];
        resize(argb, out, 0);
        return out;
    }

    /** Writes the window's R, G, B bytes row by row into out from offset; argb holds srcW * srcH pixels. */
    public void resize(int[] argb, byte[] out, int offset) {
        if (out.length - offset < winW * winH * CHANNELS || offset < 0) {
            throw new IllegalArgumentException("output holds " + (out.length - offset) + " bytes, window needs "
                    + winW * winH * CHANNELS);
        }
        Work w = work(argb);
        w.bytes = out;
        w.offset = offset;
        run(argb, w);
    }

    /**
     * The window as interleaved R, G, B, A bytes (winW * winH * 4), alpha the fourth channel: what cv2.resize
     * computes on a four-channel image. IPP's warpAffine plans ({@link #PATH_IPP_WARP}) only: its four-channel loops
     * sum in other orders than three channels', and the other paths' four-channel arithmetic is not ported. Allocates
     * the full output per call.
     */
    public byte[] resizeRgba(int[] argb) {
        if (path != PATH_IPP_WARP) {
            throw new UnsupportedOperationException("four channels only on IPP's warpAffine path, not path " + path);
        }
        if (argb.length < srcW * srcH) {
            throw new IllegalArgumentException("pixel array holds " + argb.length + " values, image is " + srcW
                    + "x" + srcH);
        }
        IppWarpCubic plan4 = warpRgba;
        if (plan4 == null) {
            plan4 = new IppWarpCubic(srcW, srcH, geometry.width, geometry.height, geometry.invScaleX,
                    geometry.invScaleY, threads, l2Cache, 4, k0);
            warpRgba = plan4;
        }
        byte[] full = new byte[plan4.dstW * plan4.dstH * 4];
        plan4.run(argb, full, new IppWarpCubic.Ring(plan4));
        byte[] out = new byte[winW * winH * 4];
        for (int i = 0; i < winH; i++) {
            System.arraycopy(full, ((winY + i) * plan4.dstW + winX) * 4, out, i * winW * 4, winW * 4);
        }
        return out;
    }

    /**
     * The window straight into a float NCHW tensor, without an 8-bit copy: value v of channel c (0 R, 1 G, 2 B) of
     * window pixel (i, j) becomes tables[c][v] at tensor[planes[c] + i * winW + j] (the Preprocessor's
     * normalisation, channel order included).
     */
    public void resize(int[] argb, float[][] tables, int[] planes, float[] tensor) {
        int n = winW * winH;
        for (int c = 0; c < CHANNELS; c++) {
            if (tables[c].length < 256 || planes[c] < 0 || planes[c] > tensor.length - n) {
                throw new IllegalArgumentException("channel " + c + "'s table or plane does not fit");
            }
        }
        Work w = work(argb);
        w.tables = tables;
        w.planes = planes;
        w.tensor = tensor;
        run(argb, w);
    }

    /**
     * One thread's buffers for this plan, kept for its next call (camera frames): a call allocates nothing. The
     * kernels hand each finished window row to emit() as values 0..255 in one array per channel (row[c][j]), which
     * writes it where this call's target fields say. Rows are split by channel (and taps by tap) because the JIT
     * vectorises a loop over whole arrays, not one over a part of an array at an offset.
     */
    private static final class Work {
        final int[] tag;  // ring slot -> the source row it holds, or -1: slot r % size holds row r
        final int[][][] rowsI;  // fixed-point horizontal sums of a source row, by channel like a window row
        final double[][] rowsD;  // area's horizontal sums, interleaved (3 * j + c)
        final float[][][] rowsF;  // IPP's horizontal sums of a source row, by channel
        final int[] tagEdge;  // IPP: a second ring, of source rows summed in the border form (border rows)
        final float[][][] rowsEdge;
        final int[][] pixels;  // the source pixels of one row's horizontal taps, [tap][column] like tapIndex
        final byte[] full;  // IPP's warpAffine: the full output (RGB), and its buffers
        final IppWarpCubic.Ring warpRing;
        final int[][] row;
        final int[] slots;
        byte[] bytes;
        int offset;
        float[] tensor;
        float[][] tables;
        int[] planes;

        Work(int ringRows, int width, int path, int taps, int maxRowTaps, IppWarpCubic warp) {
            tag = new int[ringRows];
            boolean ipp = path == PATH_IPP_CUBIC;
            rowsI = path == PATH_SEPARABLE ? new int[ringRows][CHANNELS][width] : null;
            rowsD = path == PATH_AREA ? new double[ringRows][width * CHANNELS] : null;
            rowsF = ipp ? new float[ringRows][CHANNELS][width] : null;
            tagEdge = new int[ipp ? ringRows : 0];
            rowsEdge = ipp ? new float[ringRows][CHANNELS][width] : null;
            pixels = new int[taps][width];
            row = new int[CHANNELS][width];
            slots = new int[maxRowTaps];
            full = warp != null ? new byte[warp.dstW * warp.dstH * CHANNELS] : null;
            warpRing = warp != null ? new IppWarpCubic.Ring(warp) : null;
        }

        /** The slot of source row r in ring tags, or -1 - slot after claiming it for r (the caller fills it). */
        static int find(int[] tags, int r) {
            int slot = r % tags.length;
            if (tags[slot] == r) {
                return slot;
            }
            tags[slot] = r;
            return -1 - slot;
        }
    }

    private Work work(int[] argb) {
        if (argb.length < srcW * srcH) {
            throw new IllegalArgumentException("pixel array holds " + argb.length + " values, image is " + srcW
                    + "x" + srcH);
        }
        Work w = works.get();
        if (w == null) {
            boolean ring = path == PATH_SEPARABLE || path == PATH_AREA || path == PATH_IPP_CUBIC;
            w = new Work(ring ? ringRows : 0, winW, path,
                    tapIndex != null ? tapIndex.length : 0, yAxis != null ? maxTaps(yAxis) : 0, warp);
            works.set(w);
        }
        java.util.Arrays.fill(w.tag, -1);
        java.util.Arrays.fill(w.tagEdge, -1);
        return w;
    }

    /** Runs the plan's kernel: each fills w.row for window row i, then calls emit(w, i) (new kernels plug in here). */
    private void run(int[] argb, Work w) {
        try {
            if (path == PATH_COPY || path == PATH_NEAREST) {
                copyOrNearest(argb, w);
            } else if (path == PATH_AREA_FAST) {
                areaFast(argb, w);
            } else if (path == PATH_AREA) {
                floatSums(argb, w);
            } else if (path == PATH_IPP_CUBIC) {
                ippCubic(argb, w);
            } else if (path == PATH_IPP_WARP) {
                warpWindow(argb, w);
            } else {
                separable(argb, w);
            }
        } finally {
            w.bytes = null;  // the plan outlives the call: hold no reference to the caller's arrays
            w.tensor = null;
            w.tables = null;
            w.planes = null;
        }
    }

    /** Window row i, in w.row, to this call's target. */
    private void emit(Work w, int i) {
        int n = winW;
        if (w.tensor != null) {
            float[] tensor = w.tensor;
            for (int c = 0; c < CHANNELS; c++) {
                float[] table = w.tables[c];
                int[] row = w.row[c];
                int o = w.planes[c] + i * n;
                for (int j = 0; j < n; j++) {
                    tensor[o + j] = table[row[j]];
                }
            }
        } else {
            byte[] out = w.bytes;
            int[] r = w.row[0];
            int[] g = w.row[1];
            int[] b = w.row[2];
            for (int j = 0, at = w.offset + i * n * CHANNELS; j < n; j++, at += CHANNELS) {
                out[at] = (byte) r[j];
                out[at + 1] = (byte) g[j];
                out[at + 2] = (byte) b[j];
            }
        }
    }

    /**
     * IPP's warpAffine: the output pixels depend on where the fast rectangle and the border strips fall in the
     * full output, so the full output is computed (once per call) and the window's rows handed to emit().
     */
    private void warpWindow(int[] argb, Work w) {
        warp.run(argb, w.full, w.warpRing);
        byte[] full = w.full;
        int[] r = w.row[0];
        int[] g = w.row[1];
        int[] b = w.row[2];
        for (int i = 0; i < winH; i++) {
            for (int j = 0, at = ((winY + i) * warp.dstW + winX) * CHANNELS; j < winW; j++, at += CHANNELS) {
                r[j] = full[at] & 0xff;
                g[j] = full[at + 1] & 0xff;
                b[j] = full[at + 2] & 0xff;
            }
            emit(w, i);
        }
    }

    private static int toLevel(double v) {
        return v <= 0 ? 0 : (v >= 255 ? 255 : (int) v);
    }

    private void copyOrNearest(int[] argb, Work w) {
        int[] r = w.row[0];
        int[] g = w.row[1];
        int[] b = w.row[2];
        for (int i = 0; i < winH; i++) {
            int base = (path == PATH_COPY ? winY + i : yAxis.index[i]) * srcW;
            for (int j = 0; j < winW; j++) {
                int p = argb[base + (path == PATH_COPY ? winX + j : xAxis.index[j])];
                r[j] = (p >> 16) & 0xff;
                g[j] = (p >> 8) & 0xff;
                b[j] = p & 0xff;
            }
            emit(w, i);
        }
    }

    /** Step 4: block sums of kx x ky; (sum + 2) >> 2 for 2 x 2, else float32; partial blocks by their count. */
    private void areaFast(int[] argb, Work w) {
        float inv = (float) (1.0 / (kx * ky));
        boolean twoByTwo = kx == 2 && ky == 2;
        int[][] row = w.row;
        for (int i = 0; i < winH; i++) {
            int sy = (winY + i) * ky;
            boolean fullY = sy + ky <= srcH;
            for (int j = 0; j < winW; j++) {
                int dx = winX + j;
                int sx = dx * kx;
                int r = 0;
                int g = 0;
                int b = 0;
                int n = 0;
                for (int ry = sy; ry < Math.min(sy + ky, srcH); ry++) {
                    int base = ry * srcW;
                    for (int rx = sx; rx < Math.min(sx + kx, srcW); rx++) {
                        int p = argb[base + rx];
                        r += (p >> 16) & 0xff;
                        g += (p >> 8) & 0xff;
                        b += p & 0xff;
                        n++;
                    }
                }
                boolean full = fullY && dx < fullBlocksX;
                row[0][j] = blockMean(r, n, full, twoByTwo, inv);
                row[1][j] = blockMean(g, n, full, twoByTwo, inv);
                row[2][j] = blockMean(b, n, full, twoByTwo, inv);
            }
            emit(w, i);
        }
    }

    private static int blockMean(int sum, int n, boolean full, boolean twoByTwo, float inv) {
        if (full) {
            return twoByTwo ? toLevel((sum + 2) >> 2) : toLevel(Math.rint((float) sum * inv));
        }
        return n > 0 ? toLevel(Math.rint((float) sum / (float) n)) : 0;
    }

    /**
     * Step 3's horizontal pass of one source row, exact int32, into dst[c] (R sums, G sums, B sums):
     * H = sum_k src[tap_k] * alpha_k per channel. The taps' pixels are gathered first, then each channel is one
     * loop of plain int arithmetic over contiguous arrays (integer sums have no order).
     */
    private void hRowInt(int[] argb, int base, int[][] px, int[][] dst) {
        int n = winW;
        int taps = tapIndex.length;
        if (adjacentPairs) {
            int[] index = tapIndex[0];
            int[] p0 = px[0];
            int[] p1 = px[1];
            for (int j = 0; j < n; j++) {
                int at = base + index[j];
                p0[j] = argb[at];
                p1[j] = argb[at + 1];
            }
        } else {
            for (int k = 0; k < taps; k++) {
                int[] index = tapIndex[k];
                int[] p = px[k];
                for (int j = 0; j < n; j++) {
                    p[j] = argb[base + index[j]];
                }
            }
        }
        for (int c = 0, shift = 16; c < CHANNELS; c++, shift -= 8) {
            int[] h = dst[c];
            int[] p0 = px[0];
            int[] a0 = tapCoef[0];
            if (taps == 2) {
                int[] p1 = px[1];
                int[] a1 = tapCoef[1];
                for (int j = 0; j < n; j++) {
                    h[j] = ((p0[j] >> shift) & 0xff) * a0[j] + ((p1[j] >> shift) & 0xff) * a1[j];
                }
                continue;
            }
            // One store per element, the taps summed in a local: HotSpot 17's C2 auto-vectoriser miscompiled
            // the former tap-by-tap `h[j] += ...` loops now and then (wrong sums in bands of rows, never under
            // -XX:-UseSuperWord; tests/test_java_cv2_resize.py::test_jit_gives_the_interpreters_bits).
            for (int j = 0; j < n; j++) {
                int acc = ((p0[j] >> shift) & 0xff) * a0[j];
                for (int k = 1; k < taps; k++) {
                    acc += ((px[k][j] >> shift) & 0xff) * tapCoef[k][j];
                }
                h[j] = acc;
            }
        }
    }

    /**
     * Step 5's horizontal sums of one source row: sum of src * weight in the entries' order, each product and sum
     * rounded to float32: the double product of a byte and a float is exact, and rounding a double sum of two
     * floats to float is the float sum (double has more than 2 * 24 + 2 bits), so this is float32 arithmetic
     * held in doubles.
     */
    private void hRowDouble(int[] argb, int base, double[] dst) {
        int[] start = xAxis.start;
        int[] index = xAxis.index;
        double[] w = xAxis.weight;
        for (int j = 0, e = 0; j < winW; j++, e += 3) {
            double r = 0;
            double g = 0;
            double b = 0;
            for (int t = start[j]; t < start[j + 1]; t++) {
                int p = argb[base + index[t]];
                double a = w[t];
                r = (float) (r + (float) (((p >> 16) & 0xff) * a));
                g = (float) (g + (float) (((p >> 8) & 0xff) * a));
                b = (float) (b + (float) ((p & 0xff) * a));
            }
            dst[e] = r;
            dst[e + 1] = g;
            dst[e + 2] = b;
        }
    }

    /** Fills the ring with window row i's source rows (resampled horizontally); their slots in tap order in w.slots. */
    private void gatherRows(int[] argb, Work w, int i) {
        for (int t = yAxis.start[i], k = 0; t < yAxis.start[i + 1]; t++, k++) {
            int r = yAxis.index[t];
            boolean edge = w.rowsF != null && borderRows[i];
            int slot = Work.find(edge ? w.tagEdge : w.tag, r);
            if (slot < 0) {
                slot = -1 - slot;
                if (w.rowsI != null) {
                    hRowInt(argb, r * srcW, w.pixels, w.rowsI[slot]);
                } else if (w.rowsF != null) {
                    hRowIpp(argb, r * srcW, w.pixels, (edge ? w.rowsEdge : w.rowsF)[slot], edge);
                } else {
                    hRowDouble(argb, r * srcW, w.rowsD[slot]);
                }
            }
            w.slots[k] = slot;
        }
    }

    private static int maxTaps(Axis a) {
        int m = 1;
        for (int i = 0; i < a.count; i++) {
            m = Math.max(m, a.start[i + 1] - a.start[i]);
        }
        return m;
    }

    /** Step 3: fixed-point separable linear / area-enlarging / cubic / lanczos4. */
    private void separable(int[] argb, Work w) {
        int n = winW;
        int ksize = yAxis.start[1];
        for (int i = 0; i < winH; i++) {
            int t0 = yAxis.start[i];
            gatherRows(argb, w, i);
            for (int c = 0; c < CHANNELS; c++) {
                int[] row = w.row[c];
                if (ksize == 2) {
                    // VResizeLinearVec_32s8u: arithmetic shifts, then (unless inRange proves it idle) clamp.
                    int[] h0 = w.rowsI[w.slots[0]][c];
                    int[] h1 = w.rowsI[w.slots[1]][c];
                    int b0 = yAxis.coef[t0];
                    int b1 = yAxis.coef[t0 + 1];
                    for (int j = 0; j < n; j++) {
                        row[j] = (((b0 * (h0[j] >> 4)) >> 16) + ((b1 * (h1[j] >> 4)) >> 16) + 2) >> 2;
                    }
                    if (!inRange) {
                        for (int j = 0; j < n; j++) {
                            row[j] = row[j] < 0 ? 0 : (row[j] > 255 ? 255 : row[j]);
                        }
                    }
                } else {
                    // column j of channel c is element 3 * j + c of OpenCV's interleaved row: below floatElems,
                    // the float body
                    int split = floatElems > c ? Math.min(n, (floatElems - c + 2) / 3) : 0;
                    cubicOrLanczosRow(w, t0, ksize, c, split);
                }
            }
            emit(w, i);
        }
    }

    /**
     * Vertical pass of channel c: columns below split in step 3's float32 vector body (cubic), the rest in int64
     * fixed point with rounding.
     */
    private void cubicOrLanczosRow(Work w, int t0, int ksize, int c, int split) {
        int[] row = w.row[c];
        int[][][] rows = w.rowsI;
        int[] slots = w.slots;
        if (split > 0) {
            int[] h0 = rows[slots[0]][c];
            int[] h1 = rows[slots[1]][c];
            int[] h2 = rows[slots[2]][c];
            int[] h3 = rows[slots[3]][c];
            float f0 = rowWeights[t0];
            float f1 = rowWeights[t0 + 1];
            float f2 = rowWeights[t0 + 2];
            float f3 = rowWeights[t0 + 3];
            for (int j = 0; j < split; j++) {
                float t = (float) h3[j] * f3;
                t = (float) h2[j] * f2 + t;
                t = (float) h1[j] * f1 + t;
                t = (float) h0[j] * f0 + t;
                row[j] = toLevel(Math.rint(t));
            }
        }
        for (int j = split; j < winW; j++) {
            long acc = 0;
            for (int k = 0; k < ksize; k++) {
                acc += (long) rows[slots[k]][c][j] * yAxis.coef[t0 + k];
            }
            long v = (acc + (1 << (2 * COEF_BITS - 1))) >> (2 * COEF_BITS);
            row[j] = (int) (v < 0 ? 0 : (v > 255 ? 255 : v));
        }
    }

    /** Step 5's vertical pass: sum = w_0 * buf_0, then += w_j * buf_j in the entries' order (float32), round, clamp. */
    private void floatSums(int[] argb, Work w) {
        int n = winW;
        double[] wt = yAxis.weight;
        int[][] row = w.row;
        for (int i = 0; i < winH; i++) {
            gatherRows(argb, w, i);
            int t0 = yAxis.start[i];
            int taps = yAxis.start[i + 1] - t0;
            for (int e = 0; e < n * CHANNELS; e++) {
                double sum = 0;
                for (int k = 0; k < taps; k++) {
                    sum = (float) (sum + (float) (wt[t0 + k] * w.rowsD[w.slots[k]][e]));
                }
                row[e % CHANNELS][e / CHANNELS] = toLevel(Math.rint(sum));
            }
            emit(w, i);
        }
    }

    /**
     * Step 6's horizontal pass of one source row into dst[c] (three channels, float32): interior columns
     * fma(S0, w0, S3*w3) + fma(S1, w1, S2*w2); border columns, and every column of a border row (edge),
     * fma(S0, w0, S2*w2) + fma(S3, w3, S1*w1); the tail column of other rows fma(S1, w1, fma(S3, w3, fma(S0, w0,
     * S2*w2))).
     */
    private void hRowIpp(int[] argb, int base, int[][] px, float[][] dst, boolean edge) {
        int n = winW;
        for (int k = 0; k < 4; k++) {
            int[] index = tapIndex[k];
            int[] p = px[k];
            for (int j = 0; j < n; j++) {
                p[j] = argb[base + index[j]];
            }
        }
        float[] w0 = tapWeight[0];
        float[] w1 = tapWeight[1];
        float[] w2 = tapWeight[2];
        float[] w3 = tapWeight[3];
        int[] p0 = px[0];
        int[] p1 = px[1];
        int[] p2 = px[2];
        int[] p3 = px[3];
        for (int c = 0, shift = 16; c < CHANNELS; c++, shift -= 8) {
            float[] h = dst[c];
            if (!edge) {
                // exact double sums, rounded once: the fma wherever exactPair holds; the others redone after
                for (int j = 0; !k0 && j < n; j++) {
                    float s0 = (p0[j] >> shift) & 0xff;
                    float s1 = (p1[j] >> shift) & 0xff;
                    float s2 = (p2[j] >> shift) & 0xff;
                    float s3 = (p3[j] >> shift) & 0xff;
                    h[j] = (float) ((double) s0 * w0[j] + s3 * w3[j]) + (float) ((double) s1 * w1[j] + s2 * w2[j]);
                }
                for (int j = 0; k0 && j < n; j++) {
                    float s0 = (p0[j] >> shift) & 0xff;
                    float s1 = (p1[j] >> shift) & 0xff;
                    float s2 = (p2[j] >> shift) & 0xff;
                    float s3 = (p3[j] >> shift) & 0xff;
                    h[j] = (float) ((double) s0 * w0[j] + s1 * w1[j]) + (float) ((double) s2 * w2[j] + s3 * w3[j]);
                }
                hColumnsIpp(inexactCols, k0 ? FORM_INTERIOR_K0 : FORM_INTERIOR, shift, px, h);
                hColumnsIpp(hTailCols, FORM_TAIL, shift, px, h);
            }
            hColumnsIpp(edge ? allCols : borderColList, FORM_BORDER, shift, px, h);
        }
    }

    /**
     * Step 6's horizontal fma sums on the listed window columns cols of one channel (shift) from the taps' pixels
     * px into h: FORM_INTERIOR fma(S0, w0, S3*w3) + fma(S1, w1, S2*w2), FORM_TAIL fma(S1, w1, fma(S3, w3, fma(S0,
     * w0, S2*w2))), FORM_BORDER fma(S0, w0, S2*w2) + fma(S3, w3, S1*w1), FORM_INTERIOR_K0 (k0's three channels)
     * fma(S0, w0, S1*w1) + fma(S2, w2, S3*w3).
     */
    private void hColumnsIpp(int[] cols, int form, int shift, int[][] px, float[] h) {
        for (int b = 0; b < cols.length; b++) {
            int j = cols[b];
            float s0 = (px[0][j] >> shift) & 0xff;
            float s1 = (px[1][j] >> shift) & 0xff;
            float s2 = (px[2][j] >> shift) & 0xff;
            float s3 = (px[3][j] >> shift) & 0xff;
            float w0 = tapWeight[0][j];
            float w1 = tapWeight[1][j];
            float w2 = tapWeight[2][j];
            float w3 = tapWeight[3][j];
            h[j] = form == FORM_INTERIOR ? fma32(s0, w0, s3 * w3) + fma32(s1, w1, s2 * w2)
                    : form == FORM_INTERIOR_K0 ? fma32(s0, w0, s1 * w1) + fma32(s2, w2, s3 * w3)
                    : form == FORM_TAIL ? fma32(s1, w1, fma32(s3, w3, fma32(s0, w0, s2 * w2)))
                    : fma32(s0, w0, s2 * w2) + fma32(s3, w3, s1 * w1);
        }
    }

    /**
     * Step 6's vertical pass on the float32 sums H_k: fma(H0, b0, H1*b1) + fma(H2, b2, H3*b3); the tail
     * (H0*b0 + H1*b1) + (H2*b2 + H3*b3); border rows (on their border-form sums) and border columns
     * fma(H3, b3, fma(H2, b2, fma(H0, b0, H1*b1))). Round half to even, clamp. k0: no border rows, border columns
     * in the FMA form, its own tail (ippTail).
     */
    private void ippCubic(int[] argb, Work w) {
        int n = winW;
        for (int i = 0; i < winH; i++) {
            gatherRows(argb, w, i);
            int t0 = yAxis.start[i];
            float b0 = rowWeights[t0];
            float b1 = rowWeights[t0 + 1];
            float b2 = rowWeights[t0 + 2];
            float b3 = rowWeights[t0 + 3];
            boolean edgeRow = borderRows[i];
            float[][][] rows = edgeRow ? w.rowsEdge : w.rowsF;
            for (int c = 0; c < CHANNELS; c++) {
                float[] h0 = rows[w.slots[0]][c];
                float[] h1 = rows[w.slots[1]][c];
                float[] h2 = rows[w.slots[2]][c];
                float[] h3 = rows[w.slots[3]][c];
                int[] row = w.row[c];
                if (!edgeRow) {
                    for (int j = 0; j < n; j++) {
                        float v = fma32(h0[j], b0, h1[j] * b1) + fma32(h2[j], b2, h3[j] * b3);
                        row[j] = toLevel(Math.rint(v));
                    }
                    for (int j = tailFrom[c]; j < tailTo[c]; j++) {
                        float v = (h0[j] * b0 + h1[j] * b1) + (h2[j] * b2 + h3[j] * b3);
                        row[j] = toLevel(Math.rint(v));
                    }
                }
                int[] cols = edgeRow ? allCols : borderColList;
                for (int b = 0; !k0 && b < cols.length; b++) {
                    int j = cols[b];
                    float v = fma32(h3[j], b3, fma32(h2[j], b2, fma32(h0[j], b0, h1[j] * b1)));
                    row[j] = toLevel(Math.rint(v));
                }
            }
            emit(w, i);
        }
    }
}
