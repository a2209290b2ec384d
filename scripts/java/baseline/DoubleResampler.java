package com.litetools.baseline;

/**
 * FROZEN: the app core's double-precision preprocessing as it was before issue 12 (not bit-exact with upstream's
 * 8-bit resamplers), kept only as the benchmarks' baseline (scripts/bench_java_preprocess.py). Not in any app.
 *
 * The image resampler of lite_tools/reference/resize.py, operation for operation in double precision, so that
 * the app's input tensor equals the Python reference's bit for bit. Separable: x first, then y. Output pixel i
 * has its centre at c = (i + 0.5) * scale (scale = in / out); taps k from floor(c - support * fs) to
 * ceil(c + support * fs) weigh K((k + 0.5 - c) / fs), normalised to sum 1. Without antialias (OpenCV) fs = 1 and
 * out-of-range taps are clamped to the edge; with antialias (PIL) fs = max(scale, 1) and they are dropped.
 */
public final class DoubleResampler {
    public static final int NEAREST = 0;
    public static final int BILINEAR = 1;
    public static final int BICUBIC = 2;

    /**
     * Taps of one axis, flat for speed: output {@code first + i} reads taps {@code start[i]} to
     * {@code start[i + 1] - 1} of {@code index} and {@code weight}, in the reference's order.
     */
    public static final class Taps {
        final int first;
        final int count;
        final int[] start;
        final int[] index;
        final double[] weight;

        Taps(int first, int count, int[] start, int[] index, double[] weight) {
            this.first = first;
            this.count = count;
            this.start = start;
            this.index = index;
            this.weight = weight;
        }
    }

    private DoubleResampler() {
    }

    private static double kernel(int interp, boolean antialias, double x) {
        x = Math.abs(x);
        if (interp == BILINEAR) {
            return x < 1.0 ? 1.0 - x : 0.0;
        }
        double a = antialias ? -0.5 : -0.75;
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
        }
        if (x < 2.0) {
            return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
        }
        return 0.0;
    }

    /** Taps of every output pixel of the axis (0 .. nOut - 1). */
    public static Taps axisTaps(int nIn, int nOut, int interp, boolean antialias) {
        return axisTaps(nIn, nOut, interp, antialias, 0, nOut);
    }

    /**
     * Taps of output pixels first .. first + count - 1 only, as the reference's axis_taps(first, count): memory and
     * time grow with the window, not with nOut (a 4000x1 image under a short-side resize of 256 has nOut =
     * 1,024,000 columns, of which a 224 crop keeps 224). A pixel's taps do not depend on which others are built.
     */
    public static Taps axisTaps(int nIn, int nOut, int interp, boolean antialias, int first, int count) {
        if (first < 0 || count < 1 || first > nOut - count) {
            throw new IllegalArgumentException("output pixels " + first + ".." + (first + count - 1)
                    + " are not within 0.." + (nOut - 1));
        }
        double scale = (double) nIn / nOut;
        int[] start = new int[count + 1];
        if (interp == NEAREST) {
            int[] index = new int[count];
            double[] weight = new double[count];
            for (int i = 0; i < count; i++) {
                int o = first + i;
                int k = (int) Math.floor(antialias ? (o + 0.5) * scale : o * scale);
                index[i] = Math.min(k, nIn - 1);
                weight[i] = 1.0;
                start[i + 1] = i + 1;
            }
            return new Taps(first, count, start, index, weight);
        }
        double support = interp == BILINEAR ? 1.0 : 2.0;
        double fs = antialias ? Math.max(scale, 1.0) : 1.0;
        int[] ks = new int[(int) Math.ceil(2 * support * fs) + 3];
        double[] ws = new double[ks.length];
        int[] index = new int[Math.min(count, 1 << 16) * 4];  // grown as needed, trimmed at the end
        double[] weight = new double[index.length];
        int used = 0;
        for (int i = 0; i < count; i++) {
            double c = (first + i + 0.5) * scale;
            int lo = (int) Math.floor(c - support * fs);
            int hi = (int) Math.ceil(c + support * fs);
            int n = 0;
            for (int k = lo; k <= hi; k++) {
                double w = kernel(interp, antialias, (k + 0.5 - c) / fs);
                if (w == 0.0) {
                    continue;
                }
                if (k >= 0 && k < nIn) {
                    ks[n] = k;
                    ws[n++] = w;
                } else if (!antialias) {
                    ks[n] = Math.min(Math.max(k, 0), nIn - 1);
                    ws[n++] = w;
                }
            }
            double total = 0.0;
            for (int j = 0; j < n; j++) {
                total += ws[j];
            }
            if (used + n > index.length) {
                int grown = Math.max(used + n, index.length * 2);
                index = java.util.Arrays.copyOf(index, grown);
                weight = java.util.Arrays.copyOf(weight, grown);
            }
            for (int j = 0; j < n; j++) {
                index[used + j] = ks[j];
                weight[used + j] = ws[j] / total;
            }
            used += n;
            start[i + 1] = used;
        }
        if (used < index.length) {
            index = java.util.Arrays.copyOf(index, used);
            weight = java.util.Arrays.copyOf(weight, used);
        }
        return new Taps(first, count, start, index, weight);
    }
}
