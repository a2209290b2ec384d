package com.litetools.baseline;

/**
 * FROZEN: the app core's double-precision preprocessing as it was before issue 12 (not bit-exact with upstream's
 * 8-bit resamplers), kept only as the benchmarks' baseline (scripts/bench_java_preprocess.py). Not in any app.
 *
 * ARGB pixels of any size to the model's float NCHW input, exactly as lite_tools/reference/preprocess.py:
 * size (short side with round-half-even, or fixed, or fit with keep-ratio), resize (DoubleResampler), centre crop
 * ((W - w) / 2, (H - h) / 2), channel order, then normalisation in the arithmetic of the upstream the config
 * follows (the reference's normalise()): PaddleClas's float32 (v * scale - mean[c]) / std[c], or PaddleDetection's
 * v / 255 in float32, then - mean[c] and / std[c] in double, each rounded to float (paddleDet: detectors). Detectors
 * also size and scale their scale_factor input with PaddleDetection's map factors (fx, fy).
 * Only the rows and columns the crop keeps are computed, and only their taps are built (DoubleResampler.axisTaps with a
 * window, as the reference's axis_taps(first, count)): a 4000x1 image under resize_short 256 + crop 224 resizes to
 * 1,024,000 x 256 but costs 224 columns of taps. Each kept pixel is computed exactly as in the reference.
 * Per frame it allocates the output and a ring of a few resampled rows (~14 KB for 300x300), not a buffer of the
 * whole frame (8 MB for 1080p: garbage-collector churn on a phone); the taps are kept for the next frame of the
 * same size. Safe to share between threads.
 */
public final class DoublePreprocessor {
    /** The input tensor and the geometry the postprocessors need to map results back to the source image. */
    public static final class Result {
        public final float[] data;
        public final int width;
        public final int height;
        public final int sourceWidth;
        public final int sourceHeight;
        public final int resizedWidth;
        public final int resizedHeight;
        public final int cropX;
        public final int cropY;
        /** PaddleDetection's map factors (fy, fx), null when the config does not follow PaddleDetection. */
        private final double[] factors;

        Result(float[] data, int width, int height, int sourceWidth, int sourceHeight, int resizedWidth,
               int resizedHeight, int cropX, int cropY, double[] factors) {
            this.data = data;
            this.width = width;
            this.height = height;
            this.sourceWidth = sourceWidth;
            this.sourceHeight = sourceHeight;
            this.resizedWidth = resizedWidth;
            this.resizedHeight = resizedHeight;
            this.cropX = cropX;
            this.cropY = cropY;
            this.factors = factors;
        }

        public long[] shape() {
            return new long[] {1, 3, height, width};
        }

        /**
         * PaddleDetection's geometry inputs, as lite_tools/reference/preprocess.py's model_inputs: im_shape is
         * the network input's (H, W); scale_factor is float of the double map factors (fy, fx), or of
         * (H / source h, W / source w) for a config without them. Null for a name this core does not know.
         */
        public float[] extraInput(String name) {
            if (name.equals("im_shape")) {
                return new float[] {height, width};
            }
            if (name.equals("scale_factor")) {
                if (factors != null) {
                    return new float[] {(float) factors[0], (float) factors[1]};
                }
                return new float[] {(float) ((double) height / sourceHeight), (float) ((double) width / sourceWidth)};
            }
            return null;
        }
    }

    private final boolean shortSide;
    private final int shortSize;
    private final int fixedWidth;
    private final int fixedHeight;
    private final boolean keepRatio;
    private final int interp;
    private final boolean antialias;
    private final int cropWidth;
    private final int cropHeight;
    private final double scale;
    private final double[] mean;
    private final double[] std;
    private final boolean bgr;
    private final boolean paddleDet;
    private final float scaleF;
    private final float[] meanF;
    private final float[] stdF;

    /** cropWidth/cropHeight of 0 mean no crop; fixedWidth/fixedHeight are used when shortSide is false. */
    public DoublePreprocessor(boolean shortSide, int shortSize, int fixedWidth, int fixedHeight, boolean keepRatio,
                        int interp, boolean antialias, int cropWidth, int cropHeight, double scale, double[] mean,
                        double[] std, boolean bgr, boolean paddleDet) {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values");
        }
        this.shortSide = shortSide;
        this.shortSize = shortSize;
        this.fixedWidth = fixedWidth;
        this.fixedHeight = fixedHeight;
        this.keepRatio = keepRatio;
        this.interp = interp;
        this.antialias = antialias;
        this.cropWidth = cropWidth;
        this.cropHeight = cropHeight;
        this.scale = scale;
        this.mean = mean.clone();
        this.std = std.clone();
        this.bgr = bgr;
        this.paddleDet = paddleDet;
        scaleF = (float) scale;
        meanF = new float[] {(float) mean[0], (float) mean[1], (float) mean[2]};
        stdF = new float[] {(float) std[0], (float) std[1], (float) std[2]};
    }

    /** PaddleDetection's (fy, fx) for a w x h image (the reference's det_factors), or null. */
    public double[] detFactors(int w, int h) {
        if (!paddleDet || shortSide) {
            return null;
        }
        if (keepRatio) {
            double s = (double) Math.min(fixedWidth, fixedHeight) / Math.min(w, h);
            if (Math.rint(s * Math.max(w, h)) > Math.max(fixedWidth, fixedHeight)) {
                s = (double) Math.max(fixedWidth, fixedHeight) / Math.max(w, h);
            }
            return new double[] {s, s};
        }
        return new double[] {(double) fixedHeight / h, (double) fixedWidth / w};
    }

    /** One resampled value of model channel c, normalised as the reference's normalise(). */
    private float normalise(double v, int c) {
        float x = (float) v;
        if (!paddleDet) {
            return (x * scaleF - meanF[c]) / stdF[c];
        }
        if (scale == 1.0 / 255.0) {
            x = x / 255f;
        } else if (scale != 1.0) {
            x = (float) ((double) x * scale);
        }
        x = (float) ((double) x - mean[c]);
        return (float) ((double) x / std[c]);
    }

    /** Resized (width, height) before the crop, with Python's round (half to even) where the reference uses it. */
    public int[] resizedSize(int w, int h) {
        if (shortSide) {
            double p = (double) shortSize / Math.min(w, h);
            return new int[] {(int) Math.rint(w * p), (int) Math.rint(h * p)};
        }
        double[] factors = detFactors(w, h);
        if (factors != null) {
            return new int[] {(int) Math.rint(w * factors[1]), (int) Math.rint(h * factors[0])};
        }
        if (keepRatio) {
            double p = Math.min((double) Math.min(fixedWidth, fixedHeight) / Math.min(w, h),
                    (double) Math.max(fixedWidth, fixedHeight) / Math.max(w, h));
            return new int[] {(int) Math.rint(w * p), (int) Math.rint(h * p)};
        }
        return new int[] {fixedWidth, fixedHeight};
    }

    /** Everything that depends only on the source size: camera frames repeat it, so it is kept for the next one. */
    private static final class Plan {
        final int sourceWidth;
        final int sourceHeight;
        final int resizedWidth;
        final int resizedHeight;
        final int width;
        final int height;
        final int cropX;
        final int cropY;
        final DoubleResampler.Taps tx;  // kept columns only: tx's output i is resized column cropX + i
        final DoubleResampler.Taps ty;  // kept rows only: ty's output i is resized row cropY + i
        final int rowSpan;  // most source rows one output row reads: the size of the row ring in process()
        final int maxTaps;  // most vertical taps of one output row

        Plan(DoublePreprocessor p, int w, int h) {
            int[] rs = p.resizedSize(w, h);
            resizedWidth = rs[0];
            resizedHeight = rs[1];
            width = p.cropWidth > 0 ? p.cropWidth : resizedWidth;
            height = p.cropHeight > 0 ? p.cropHeight : resizedHeight;
            if (width > resizedWidth || height > resizedHeight || resizedWidth < 1 || resizedHeight < 1) {
                throw new IllegalArgumentException("crop " + width + "x" + height + " does not fit the resized "
                        + resizedWidth + "x" + resizedHeight);
            }
            sourceWidth = w;
            sourceHeight = h;
            cropX = (resizedWidth - width) / 2;
            cropY = (resizedHeight - height) / 2;
            tx = DoubleResampler.axisTaps(w, resizedWidth, p.interp, p.antialias, cropX, width);
            ty = DoubleResampler.axisTaps(h, resizedHeight, p.interp, p.antialias, cropY, height);
            int span = 1;
            int taps = 1;
            for (int y = 0; y < height; y++) {
                int first = ty.index[ty.start[y]];  // taps of a row are in ascending source order
                int last = ty.index[ty.start[y + 1] - 1];
                span = Math.max(span, last - first + 1);
                taps = Math.max(taps, ty.start[y + 1] - ty.start[y]);
            }
            rowSpan = span;
            maxTaps = taps;
        }
    }

    private volatile Plan plan;

    private Plan planFor(int w, int h) {
        Plan p = plan;
        if (p == null || p.sourceWidth != w || p.sourceHeight != h) {
            p = new Plan(this, w, h);
            plan = p;
        }
        return p;
    }

    public Result process(int[] argb, int w, int h) {
        if (argb.length < w * h) {
            throw new IllegalArgumentException("pixel array holds " + argb.length + " values, image is " + w + "x" + h);
        }
        Plan p = planFor(w, h);
        int ow = p.width;
        int oh = p.height;
        int cx = p.cropX;
        int cy = p.cropY;
        DoubleResampler.Taps tx = p.tx;
        DoubleResampler.Taps ty = p.ty;

        // The horizontal pass runs only on the source rows the kept output rows read, each once, into a ring of
        // rowSpan rows ([slot][kept column][channel]): source row r lives in slot r % rowSpan while it is needed.
        int span = p.rowSpan;
        double[] ring = new double[span * ow * 3];
        int[] rowInSlot = new int[span];
        java.util.Arrays.fill(rowInSlot, -1);
        int[] tapAt = new int[p.maxTaps];  // ring offset of each tap of the current output row
        float[] out = new float[3 * oh * ow];
        int plane = oh * ow;
        int cFirst = bgr ? 2 : 0;  // the channel red goes to: 0 for RGB, 2 for BGR (blue the other end)
        int cLast = 2 - cFirst;
        int first = cFirst * plane;
        int last = cLast * plane;
        for (int y = 0; y < oh; y++) {
            int tapsFrom = ty.start[y];
            int tapsTo = ty.start[y + 1];
            int taps = tapsTo - tapsFrom;
            for (int j = 0; j < taps; j++) {
                int sy = ty.index[tapsFrom + j];
                int slot = sy % span;
                if (rowInSlot[slot] != sy) {
                    resampleRow(argb, sy * w, tx, ow, ring, slot * ow * 3);
                    rowInSlot[slot] = sy;
                }
                tapAt[j] = slot * ow * 3;
            }
            for (int x = 0; x < ow; x++) {
                double r = 0.0;
                double g = 0.0;
                double b = 0.0;
                for (int j = 0; j < taps; j++) {
                    int base = tapAt[j] + x * 3;
                    double wj = ty.weight[tapsFrom + j];
                    r += ring[base] * wj;
                    g += ring[base + 1] * wj;
                    b += ring[base + 2] * wj;
                }
                int o = y * ow + x;
                out[first + o] = normalise(r, cFirst);
                out[plane + o] = normalise(g, 1);
                out[last + o] = normalise(b, cLast);
            }
        }
        return new Result(out, ow, oh, w, h, p.resizedWidth, p.resizedHeight, cx, cy, detFactors(w, h));
    }

    /** The horizontal pass of one source row, for the kept columns (tx's window, ow of them), into ring[at ..]. */
    private static void resampleRow(int[] argb, int rowBase, DoubleResampler.Taps tx, int ow, double[] ring, int at) {
        for (int x = 0; x < ow; x++) {
            double r = 0.0;
            double g = 0.0;
            double b = 0.0;
            for (int j = tx.start[x], end = tx.start[x + 1]; j < end; j++) {
                int px = argb[rowBase + tx.index[j]];
                double wj = tx.weight[j];
                r += ((px >> 16) & 0xff) * wj;
                g += ((px >> 8) & 0xff) * wj;
                b += (px & 0xff) * wj;
            }
            ring[at + x * 3] = r;
            ring[at + x * 3 + 1] = g;
            ring[at + x * 3 + 2] = b;
        }
    }
}
