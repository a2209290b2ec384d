package com.litetools.core;

/**
 * ARGB pixels of any size to the model's float NCHW input, exactly as lite_tools/reference/preprocess.py:
 * size (short side with round-half-even, or fixed, or fit with keep-ratio), resize (Resampler), centre crop
 * ((W - w) / 2, (H - h) / 2), channel order, then (v * scale - mean[c]) / std[c] in double, stored as float.
 * Only the rows and columns the crop keeps are computed; each of them is computed exactly as in the reference.
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

    public Result process(int[] argb, int w, int h) {
        if (argb.length < w * h) {
            throw new IllegalArgumentException("pixel array holds " + argb.length + " values, image is " + w + "x" + h);
        }
        int[] rs = resizedSize(w, h);
        int rw = rs[0];
        int rh = rs[1];
        int ow = cropWidth > 0 ? cropWidth : rw;
        int oh = cropHeight > 0 ? cropHeight : rh;
        if (ow > rw || oh > rh || rw < 1 || rh < 1) {
            throw new IllegalArgumentException("crop " + ow + "x" + oh + " does not fit the resized " + rw + "x" + rh);
        }
        int cx = (rw - ow) / 2;
        int cy = (rh - oh) / 2;
        Resampler.Taps tx = Resampler.axisTaps(w, rw, interp, antialias);
        Resampler.Taps ty = Resampler.axisTaps(h, rh, interp, antialias);

        // Which source rows the kept output rows read: the horizontal pass runs on those rows only.
        boolean[] rowNeeded = new boolean[h];
        for (int j = ty.start[cy]; j < ty.start[cy + oh]; j++) {
            rowNeeded[ty.index[j]] = true;
        }
        double[] tmp = new double[h * ow * 3];  // horizontal pass: [source row][kept column][channel]
        for (int sy = 0; sy < h; sy++) {
            if (!rowNeeded[sy]) {
                continue;
            }
            int rowBase = sy * w;
            int outBase = sy * ow * 3;
            for (int x = 0; x < ow; x++) {
                double r = 0.0;
                double g = 0.0;
                double b = 0.0;
                for (int j = tx.start[cx + x], end = tx.start[cx + x + 1]; j < end; j++) {
                    int p = argb[rowBase + tx.index[j]];
                    double wj = tx.weight[j];
                    r += ((p >> 16) & 0xff) * wj;
                    g += ((p >> 8) & 0xff) * wj;
                    b += (p & 0xff) * wj;
                }
                tmp[outBase + x * 3] = r;
                tmp[outBase + x * 3 + 1] = g;
                tmp[outBase + x * 3 + 2] = b;
            }
        }
        float[] out = new float[3 * oh * ow];
        int plane = oh * ow;
        int cFirst = bgr ? 2 : 0;  // the channel red goes to: 0 for RGB, 2 for BGR (blue the other end)
        int cLast = 2 - cFirst;
        int first = cFirst * plane;
        int last = cLast * plane;
        for (int y = 0; y < oh; y++) {
            int tapsFrom = ty.start[cy + y];
            int tapsTo = ty.start[cy + y + 1];
            for (int x = 0; x < ow; x++) {
                double r = 0.0;
                double g = 0.0;
                double b = 0.0;
                for (int j = tapsFrom; j < tapsTo; j++) {
                    int base = (ty.index[j] * ow + x) * 3;
                    double wj = ty.weight[j];
                    r += tmp[base] * wj;
                    g += tmp[base + 1] * wj;
                    b += tmp[base + 2] * wj;
                }
                int o = y * ow + x;
                out[first + o] = (float) ((r * scale - mean[cFirst]) / std[cFirst]);
                out[plane + o] = (float) ((g * scale - mean[1]) / std[1]);
                out[last + o] = (float) ((b * scale - mean[cLast]) / std[cLast]);
            }
        }
        return new Result(out, ow, oh, w, h, rw, rh, cx, cy);
    }
}
