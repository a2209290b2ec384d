package com.litetools.core;

/**
 * ARGB pixels of any size to the model's float NCHW input, exactly as lite_tools/reference/preprocess.py:
 * size (short side with round-half-even, or fixed, or fit with keep-ratio), resize (Resampler), centre crop
 * ((W - w) / 2, (H - h) / 2), channel order, then (v * scale - mean[c]) / std[c] in double, stored as float.
 * Only the rows and columns the crop keeps are computed, and only their taps are built (Resampler.axisTaps with a
 * window, as the reference's axis_taps(first, count)): a 4000x1 image under resize_short 256 + crop 224 resizes to
 * 1,024,000 x 256 but costs 224 columns of taps. Each kept pixel is computed exactly as in the reference.
 * Per frame it allocates the output and a ring of a few resampled rows (~14 KB for 300x300), not a buffer of the
 * whole frame (8 MB for 1080p: garbage-collector churn on a phone); the taps are kept for the next frame of the
 * same size. Safe to share between threads.
 */
public final class Preprocessor {
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

        Result(float[] data, int width, int height, int sourceWidth, int sourceHeight, int resizedWidth,
               int resizedHeight, int cropX, int cropY) {
            this.data = data;
            this.width = width;
            this.height = height;
            this.sourceWidth = sourceWidth;
            this.sourceHeight = sourceHeight;
            this.resizedWidth = resizedWidth;
            this.resizedHeight = resizedHeight;
            this.cropX = cropX;
            this.cropY = cropY;
        }

        public long[] shape() {
            return new long[] {1, 3, height, width};
        }

        /**
         * PaddleDetection's geometry inputs, as lite_tools/reference/preprocess.py's model_inputs: im_shape is
         * the network input's (H, W); scale_factor is (H / source h, W / source w), divided in float. Null for a
         * name this core does not know.
         */
        public float[] extraInput(String name) {
            if (name.equals("im_shape")) {
                return new float[] {height, width};
            }
            if (name.equals("scale_factor")) {
                return new float[] {(float) height / sourceHeight, (float) width / sourceWidth};
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

    /** cropWidth/cropHeight of 0 mean no crop; fixedWidth/fixedHeight are used when shortSide is false. */
    public Preprocessor(boolean shortSide, int shortSize, int fixedWidth, int fixedHeight, boolean keepRatio,
                        int interp, boolean antialias, int cropWidth, int cropHeight, double scale, double[] mean,
                        double[] std, boolean bgr) {
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
    }

    /** Resized (width, height) before the crop, with Python's round (half to even) where the reference uses it. */
    public int[] resizedSize(int w, int h) {
        if (shortSide) {
            double p = (double) shortSize / Math.min(w, h);
            return new int[] {(int) Math.rint(w * p), (int) Math.rint(h * p)};
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
        final Resampler.Taps tx;  // kept columns only: tx's output i is resized column cropX + i
        final Resampler.Taps ty;  // kept rows only: ty's output i is resized row cropY + i
        final int rowSpan;  // most source rows one output row reads: the size of the row ring in process()
        final int maxTaps;  // most vertical taps of one output row

        Plan(Preprocessor p, int w, int h) {
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
            tx = Resampler.axisTaps(w, resizedWidth, p.interp, p.antialias, cropX, width);
            ty = Resampler.axisTaps(h, resizedHeight, p.interp, p.antialias, cropY, height);
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
        Resampler.Taps tx = p.tx;
        Resampler.Taps ty = p.ty;

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
        double meanFirst = mean[cFirst];
        double meanLast = mean[cLast];
        double stdFirst = std[cFirst];
        double stdLast = std[cLast];
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
                out[first + o] = (float) ((r * scale - meanFirst) / stdFirst);
                out[plane + o] = (float) ((g * scale - mean[1]) / std[1]);
                out[last + o] = (float) ((b * scale - meanLast) / stdLast);
            }
        }
        return new Result(out, ow, oh, w, h, p.resizedWidth, p.resizedHeight, cx, cy);
    }

    /** The horizontal pass of one source row, for the kept columns (tx's window, ow of them), into ring[at ..]. */
    private static void resampleRow(int[] argb, int rowBase, Resampler.Taps tx, int ow, double[] ring, int at) {
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
