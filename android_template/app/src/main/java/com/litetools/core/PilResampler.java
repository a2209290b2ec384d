package com.litetools.core;

/**
 * Pillow's Image.resize of an RGB image, bit for bit: the integer arithmetic of
 * lite_tools/reference/pil_resize.py (its module docstring gives the steps), so that the app's uint8 pixels equal
 * those of PaddleClas's ResizeImage(backend="pil"). Per axis, a coefficient table computed in double exactly as
 * Pillow's precompute_coeffs and rounded to 22 fractional bits (AxisTaps); two passes, each summing in int and
 * rounding to 8 bits: horizontal then vertical, or vertical first for a source taller than 100 times its width
 * whose height shrinks (Pillow 12.2 and later; tallFirst false gives Pillow 9.0 to 12.1's order). A pass whose
 * axis keeps its size is skipped (here: a one-tap identity table, which copies each value exactly). NEAREST is a
 * one-tap table over Pillow's accumulated positions, which also copies values, so the same two passes give
 * Pillow's direct lookup.
 * <p>
 * An instance is the plan for one source size, output size, filter and output window (the crop the app keeps):
 * its tables cover the window only, and resize() computes only the intermediate rows the window's vertical taps
 * read, a ring of a few rows at a time, so memory grows with the window, not with the output or the source (a
 * 4000x1 sliver resized to 1,024,000 x 256 for a 224 crop builds 224 columns of taps). Each kept pixel has the
 * taps it has in the full resize, and integer sums have no order, so the window equals the full result's crop.
 * <p>
 * Sine and cosine (HAMMING, LANCZOS) are StrictMath's (fdlibm): the same on every JVM and on Android, unlike
 * Math's. They differ from glibc 2.36's (Pillow's on Linux) in the last bit on about 3% of the arguments, but a
 * weight changes only when it lies within about 1e-9 of a rounding step of the 22-bit table: of 28,160 HAMMING
 * and LANCZOS tables (364 input sizes up to 4100, 40 output sizes up to 2000; 244 million values), none
 * differed, and
 * tests/test_java_pil_resize.py compares the tables of many sizes with the reference's. Java's double arithmetic
 * never contracts to fused multiply-add, as Pillow's x86-64 build. Safe to share between threads (each keeps its
 * own buffers).
 */
public final class PilResampler {
    /** Pillow's filter numbers (PIL.Image.Resampling). */
    public static final int NEAREST = 0;
    public static final int LANCZOS = 1;
    public static final int BILINEAR = 2;
    public static final int BICUBIC = 3;
    public static final int BOX = 4;
    public static final int HAMMING = 5;

    private static final int PRECISION_BITS = 22;
    private static final int ONE = 1 << PRECISION_BITS;
    private static final int HALF = 1 << (PRECISION_BITS - 1);
    /** Image.resize resizes sources taller than this many times their width vertically first. */
    private static final int TALL_RATIO = 100;

    /**
     * One axis's fixed-point table for output pixels first .. first + count - 1: output first + i reads
     * input start(i) + t with weight coefficient(i, t) (2^22 is 1.0) for t < taps(i). Starts and ends never
     * decrease with i.
     */
    public static final class AxisTaps {
        public final int first;
        public final int count;
        final int width;  // table columns: coeff holds count rows of width, zero past taps[i]
        final int[] start;
        final int[] taps;
        final int[] coeff;

        AxisTaps(int first, int count, int width, int[] start, int[] taps, int[] coeff) {
            this.first = first;
            this.count = count;
            this.width = width;
            this.start = start;
            this.taps = taps;
            this.coeff = coeff;
        }

        public int start(int i) {
            return start[i];
        }

        public int taps(int i) {
            return taps[i];
        }

        public int coefficient(int i, int t) {
            return t < taps[i] ? coeff[i * width + t] : 0;
        }

        /** The first input pixel these outputs read (their last is {@link #hi()} - 1). */
        int lo() {
            for (int i = 0; i < count; i++) {
                if (taps[i] > 0) {
                    return start[i];
                }
            }
            return 0;
        }

        int hi() {
            for (int i = count - 1; i >= 0; i--) {
                if (taps[i] > 0) {
                    return start[i] + taps[i];
                }
            }
            return 0;
        }

        /** Most taps of one output: the rows a ring must hold for the vertical pass. */
        int maxTaps() {
            int most = 1;
            for (int i = 0; i < count; i++) {
                most = Math.max(most, taps[i]);
            }
            return most;
        }
    }

    private final int sourceWidth;
    private final int sourceHeight;
    private final int windowWidth;
    private final int windowHeight;
    private final AxisTaps tx;  // output column windowX + i
    private final AxisTaps ty;  // output row windowY + i
    private final boolean verticalFirst;
    private final int xlo;  // source columns xlo .. xhi - 1 are read
    private final int xhi;
    private final int ringRows;

    /** tallFirst: true as Pillow 12.2 and later, see the class comment. */
    public PilResampler(int sourceWidth, int sourceHeight, int width, int height, int filter, int windowX,
                        int windowY, int windowWidth, int windowHeight, boolean tallFirst) {
        if (sourceWidth < 1 || sourceHeight < 1 || width < 1 || height < 1) {
            throw new IllegalArgumentException("cannot resize " + sourceWidth + "x" + sourceHeight + " to " + width
                    + "x" + height);
        }
        if (windowX < 0 || windowY < 0 || windowWidth < 1 || windowHeight < 1 || windowX > width - windowWidth
                || windowY > height - windowHeight) {
            throw new IllegalArgumentException("window " + windowWidth + "x" + windowHeight + " at (" + windowX
                    + ", " + windowY + ") is not inside the " + width + "x" + height + " output");
        }
        if ((long) windowWidth * windowHeight * 3 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window " + windowWidth + "x" + windowHeight + " is too big");
        }
        support(filter);  // refuses an unknown filter, also when no axis is resampled
        this.sourceWidth = sourceWidth;
        this.sourceHeight = sourceHeight;
        this.windowWidth = windowWidth;
        this.windowHeight = windowHeight;
        // An axis that keeps its size is not resampled (both: Image.resize's copy).
        tx = width == sourceWidth ? identity(windowX, windowWidth)
                : axisTaps(sourceWidth, width, filter, windowX, windowWidth);
        ty = height == sourceHeight ? identity(windowY, windowHeight)
                : axisTaps(sourceHeight, height, filter, windowY, windowHeight);
        verticalFirst = tallFirst && (long) sourceHeight > (long) sourceWidth * TALL_RATIO && height < sourceHeight;
        int lo = tx.lo();
        int hi = tx.hi();
        xlo = lo;
        xhi = Math.max(hi, lo + 1);
        ringRows = ty.maxTaps();
    }

    /** The window of a width x height resize as Pillow 12.2 and later order the passes. */
    public PilResampler(int sourceWidth, int sourceHeight, int width, int height, int filter, int windowX,
                        int windowY, int windowWidth, int windowHeight) {
        this(sourceWidth, sourceHeight, width, height, filter, windowX, windowY, windowWidth, windowHeight, true);
    }

    public int windowWidth() {
        return windowWidth;
    }

    public int windowHeight() {
        return windowHeight;
    }

    private static double kernel(int filter, double x) {
        switch (filter) {
            case BOX:
                return x > -0.5 && x <= 0.5 ? 1.0 : 0.0;
            case BILINEAR:
                x = Math.abs(x);
                return x < 1.0 ? 1.0 - x : 0.0;
            case HAMMING:
                x = Math.abs(x);
                if (x == 0.0) {
                    return 1.0;
                }
                if (x >= 1.0) {
                    return 0.0;
                }
                x = x * Math.PI;
                return StrictMath.sin(x) / x * (0.54f + 0.46f * StrictMath.cos(x));  // float constants, as Pillow's
            case BICUBIC:
                x = Math.abs(x);
                if (x < 1.0) {
                    return (1.5 * x - 2.5) * x * x + 1.0;
                }
                if (x < 2.0) {
                    return (((x - 5.0) * x + 8.0) * x - 4.0) * -0.5;
                }
                return 0.0;
            case LANCZOS:
                return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
            default:
                throw new IllegalArgumentException("unknown Pillow filter " + filter);
        }
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return StrictMath.sin(x) / x;
    }

    private static double support(int filter) {
        switch (filter) {
            case NEAREST:
                return 0.0;  // not a convolution (nearestTaps)
            case BOX:
                return 0.5;
            case BILINEAR:
            case HAMMING:
                return 1.0;
            case BICUBIC:
                return 2.0;
            case LANCZOS:
                return 3.0;
            default:
                throw new IllegalArgumentException("unknown Pillow filter " + filter);
        }
    }

    private static void checkWindow(int nOut, int first, int count) {
        if (first < 0 || count < 1 || first > nOut - count) {
            throw new IllegalArgumentException("output pixels " + first + ".." + (first + count - 1)
                    + " are not within 0.." + (nOut - 1));
        }
    }

    /** The table of an axis that keeps its size: output i reads input i with weight 1.0. */
    private static AxisTaps identity(int first, int count) {
        int[] start = new int[count];
        int[] taps = new int[count];
        int[] coeff = new int[count];
        for (int i = 0; i < count; i++) {
            start[i] = first + i;
            taps[i] = 1;
            coeff[i] = ONE;
        }
        return new AxisTaps(first, count, 1, start, taps, coeff);
    }

    /**
     * Output pixels first .. first + count - 1 of an axis of nIn resized to nOut (a size change; an unchanged axis
     * is not resampled), as the reference's axis_taps (NEAREST: its nearest_indices, one tap of weight 1.0, none
     * for an index outside the input). A pixel's taps do not depend on which others are asked for.
     */
    public static AxisTaps axisTaps(int nIn, int nOut, int filter, int first, int count) {
        if (nIn < 1) {
            throw new IllegalArgumentException("cannot resize an axis of " + nIn);
        }
        checkWindow(nOut, first, count);
        if (filter == NEAREST) {
            return nearestTaps(nIn, nOut, first, count);
        }
        double scale = (double) nIn / nOut;
        double fs = Math.max(scale, 1.0);  // the support widens when shrinking
        double support = support(filter) * fs;
        double ss = 1.0 / fs;
        int width = (int) Math.ceil(support) * 2 + 1;
        if ((long) count * width > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(count + " outputs of " + width + " taps are too many for one table");
        }
        int[] start = new int[count];
        int[] taps = new int[count];
        int[] coeff = new int[count * width];
        double[] w = new double[width];
        for (int i = 0; i < count; i++) {
            double center = 0.0 + (first + i + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0);  // (int): truncation, as C's cast
            int xmax = Math.min((int) (center + support + 0.5), nIn);
            int n = xmax - xmin;
            double total = 0.0;
            for (int t = 0; t < n; t++) {
                w[t] = kernel(filter, (t + xmin - center + 0.5) * ss);
                total += w[t];
            }
            for (int t = 0; t < n; t++) {
                double k = total != 0.0 ? w[t] / total : w[t];
                coeff[i * width + t] = k < 0 ? (int) (-0.5 + k * ONE) : (int) (0.5 + k * ONE);
            }
            start[i] = xmin;
            taps[i] = n;
        }
        return new AxisTaps(first, count, width, start, taps, coeff);
    }

    /**
     * Pillow's NEAREST positions: p = step / 2, then p += step one output at a time (not (i + 0.5) * step: the
     * accumulated rounding can cross an integer), so a window's positions are accumulated from output 0.
     */
    private static AxisTaps nearestTaps(int nIn, int nOut, int first, int count) {
        double step = (double) nIn / nOut;
        double p = 0.0 + step * 0.5;
        for (int i = 0; i < first; i++) {
            p += step;
        }
        int[] start = new int[count];
        int[] taps = new int[count];
        int[] coeff = new int[count];
        for (int i = 0; i < count; i++) {
            int k = p < 0.0 ? -1 : (int) p;
            if (k >= 0 && k < nIn) {
                start[i] = k;
                taps[i] = 1;
                coeff[i] = ONE;
            } else if (i > 0) {
                start[i] = start[i - 1];  // reads nothing (0, Pillow's fill); keeps starts non-decreasing
            }
            p += step;
        }
        return new AxisTaps(first, count, 1, start, taps, coeff);
    }

    /** The window as windowHeight x windowWidth x 3 bytes (R, G, B; unsigned), from 0xAARRGGBB pixels. */
    public byte[] resize(int[] argb) {
        byte[] rgb = new byte[windowWidth * windowHeight * 3];
        resize(argb, rgb);
        return rgb;
    }

    /**
     * The window into rgb (row after row, R, G, B per pixel, unsigned bytes), from sourceHeight rows of
     * sourceWidth 0xAARRGGBB pixels (Bitmap.getPixels' layout; alpha is ignored, as an RGB image has none).
     * Uses a ring of a few rows (the most vertical taps of one output row, each windowWidth x 3 ints; ~50 KB for
     * 1080p to a 224 crop with BICUBIC) and one such row, allocated on a thread's first call and kept for its next.
     */
    public void resize(int[] argb, byte[] rgb) {
        if (argb.length < (long) sourceWidth * sourceHeight) {
            throw new IllegalArgumentException("pixel array holds " + argb.length + " values, image is "
                    + sourceWidth + "x" + sourceHeight);
        }
        if (rgb.length < windowWidth * windowHeight * 3) {
            throw new IllegalArgumentException("output holds " + rgb.length + " bytes, window needs "
                    + windowWidth * windowHeight * 3);
        }
        // The ring holds the source rows the current output row's vertical taps read, row r in slot r % ringRows
        // while output rows read it (the rows read only move down): horizontally resampled (windowWidth x 3
        // values), or for the vertical-first order the source's R, G, B over columns xlo .. xhi - 1.
        int n = verticalFirst ? (xhi - xlo) * 3 : windowWidth * 3;
        Work w = works.get();
        if (w == null) {
            w = verticalFirst ? new Work(ringRows, n, xhi - xlo, windowWidth * 3) : new Work(ringRows, n, 0, 0);
            works.set(w);
        }
        int[] ring = w.ring;
        int[] rowInSlot = w.rowInSlot;
        java.util.Arrays.fill(rowInSlot, -1);
        int[] at = w.at;
        int[] acc = w.acc;
        int[] packed = w.packed;
        int[] out = verticalFirst ? w.out : acc;
        for (int y = 0; y < windowHeight; y++) {
            for (int t = 0; t < ty.taps[y]; t++) {
                int sy = ty.start[y] + t;
                int slot = sy % ringRows;
                if (rowInSlot[slot] != sy) {
                    if (verticalFirst) {
                        unpack(argb, sy * sourceWidth + xlo, xhi - xlo, ring, slot * n);
                    } else {
                        horizontal(argb, sy * sourceWidth, tx, ring, slot * n);
                    }
                    rowInSlot[slot] = sy;
                }
                at[t] = slot * n;
            }
            vertical(ring, at, ty, y, acc);
            if (verticalFirst) {
                for (int x = 0, i = 0; x < packed.length; x++, i += 3) {
                    packed[x] = (acc[i] << 16) | (acc[i + 1] << 8) | acc[i + 2];
                }
                horizontal(packed, -xlo, tx, out, 0);
            }
            for (int i = 0, o = y * windowWidth * 3; i < out.length; i++) {
                rgb[o + i] = (byte) out[i];
            }
        }
    }

    /** One thread's buffers for resize(), kept for its next call (camera frames): a call allocates nothing. */
    private static final class Work {
        final int[] ring;
        final int[] rowInSlot;
        final int[] at;  // ring offset of each vertical tap of the current output row
        final int[] acc;
        final int[] packed;  // vertical-first only: a row of source columns, packed back to pixels
        final int[] out;

        Work(int ringRows, int n, int packedWidth, int outValues) {
            ring = new int[ringRows * n];
            rowInSlot = new int[ringRows];
            at = new int[ringRows];
            acc = new int[n];
            packed = packedWidth > 0 ? new int[packedWidth] : null;
            out = outValues > 0 ? new int[outValues] : null;
        }
    }

    private final ThreadLocal<Work> works = new ThreadLocal<Work>();

    /** count pixels from argb[from] as R, G, B ints at dst[at ..]. */
    private static void unpack(int[] argb, int from, int count, int[] dst, int at) {
        for (int x = from, end = from + count; x < end; x++) {
            int px = argb[x];
            dst[at++] = (px >> 16) & 0xff;
            dst[at++] = (px >> 8) & 0xff;
            dst[at++] = px & 0xff;
        }
    }

    /**
     * One row's horizontal pass over 0x..RRGGBB pixels, input pixel i at src[base + i]; R, G, B of each output
     * (8-bit) at dst[at ..].
     */
    private static void horizontal(int[] src, int base, AxisTaps t, int[] dst, int at) {
        int width = t.width;
        int[] coeff = t.coeff;
        for (int x = 0; x < t.count; x++) {
            int s = base + t.start[x];
            int r = HALF;
            int g = HALF;
            int b = HALF;
            for (int k = x * width, end = k + t.taps[x]; k < end; k++, s++) {
                int c = coeff[k];
                int px = src[s];
                r += ((px >> 16) & 0xff) * c;
                g += ((px >> 8) & 0xff) * c;
                b += (px & 0xff) * c;
            }
            dst[at++] = clip8(r);
            dst[at++] = clip8(g);
            dst[at++] = clip8(b);
        }
    }

    /** Output row y's vertical pass over the rows at ring[at[t] ..] (acc.length values each), 8-bit into acc. */
    private static void vertical(int[] ring, int[] at, AxisTaps t, int y, int[] acc) {
        int n = acc.length;
        java.util.Arrays.fill(acc, HALF);
        for (int j = 0, k = y * t.width; j < t.taps[y]; j++, k++) {
            int c = t.coeff[k];
            int off = at[j];
            for (int i = 0; i < n; i++) {
                acc[i] += ring[off + i] * c;
            }
        }
        for (int i = 0; i < n; i++) {
            acc[i] = clip8(acc[i]);
        }
    }

    /** Pillow's rounding of a pass: the sum (with 2^21 added) shifted down 22 bits (floor), clipped to 0..255. */
    private static int clip8(int acc) {
        int v = acc >> PRECISION_BITS;
        return v < 0 ? 0 : (v > 255 ? 255 : v);
    }
}
