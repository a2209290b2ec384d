package com.litetools.core;

/**
 * The image resampler of lite_tools/reference/resize.py, operation for operation in double precision, so that
 * the app's input tensor equals the Python reference's bit for bit. Separable: x first, then y. Output pixel i
 * has its centre at c = (i + 0.5) * scale (scale = in / out); taps k from floor(c - support * fs) to
 * ceil(c + support * fs) weigh K((k + 0.5 - c) / fs), normalised to sum 1. Without antialias (OpenCV) fs = 1 and
 * out-of-range taps are clamped to the edge; with antialias (PIL) fs = max(scale, 1) and they are dropped.
 */
public final class Resampler {
    public static final int NEAREST = 0;
    public static final int BILINEAR = 1;
    public static final int BICUBIC = 2;

    /**
     * Taps of one axis, flat for speed: output i reads taps {@code start[i]} to {@code start[i + 1] - 1} of
     * {@code index} and {@code weight}, in the reference's order.
     */
    public static final class Taps {
        final int[] start;
        final int[] index;
        final double[] weight;

        Taps(int[][] index, double[][] weight) {
            int n = index.length;
            this.start = new int[n + 1];
            for (int i = 0; i < n; i++) {
                start[i + 1] = start[i] + index[i].length;
            }
            this.index = new int[start[n]];
            this.weight = new double[start[n]];
            for (int i = 0; i < n; i++) {
                System.arraycopy(index[i], 0, this.index, start[i], index[i].length);
                System.arraycopy(weight[i], 0, this.weight, start[i], weight[i].length);
            }
        }
    }

    private Resampler() {
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

    public static Taps axisTaps(int nIn, int nOut, int interp, boolean antialias) {
        double scale = (double) nIn / nOut;
        int[][] index = new int[nOut][];
        double[][] weight = new double[nOut][];
        if (interp == NEAREST) {
            for (int i = 0; i < nOut; i++) {
                int k = (int) Math.floor(antialias ? (i + 0.5) * scale : i * scale);
                index[i] = new int[] {Math.min(k, nIn - 1)};
                weight[i] = new double[] {1.0};
            }
            return new Taps(index, weight);
        }
        double support = interp == BILINEAR ? 1.0 : 2.0;
        double fs = antialias ? Math.max(scale, 1.0) : 1.0;
        int[] ks = new int[(int) Math.ceil(2 * support * fs) + 3];
        double[] ws = new double[ks.length];
        for (int i = 0; i < nOut; i++) {
            double c = (i + 0.5) * scale;
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
            index[i] = new int[n];
            weight[i] = new double[n];
            for (int j = 0; j < n; j++) {
                index[i][j] = ks[j];
                weight[i][j] = ws[j] / total;
            }
        }
        return new Taps(index, weight);
    }
}
