package com.litetools.core;

/**
 * ARGB pixels of any size to the model's float NCHW input, exactly as lite_tools/reference/preprocess.py, and so
 * exactly as PaddleClas's and PaddleDetection's Python deploy: size (short side with round-half-even, fixed, or
 * PaddleDetection's fx/fy), the 8-bit resize of the upstream's resampler (Cv2Resampler for OpenCV configs,
 * PilResampler for `backend: pil`), only for the centre crop's window, then channel order and normalisation in the
 * arithmetic of the upstream the config follows (the reference's normalise()): PaddleClas's float32
 * (v * scale - mean[c]) / std[c], or PaddleDetection's v / 255 in float32, then - mean[c] and / std[c] in double,
 * each rounded to float (paddleDet: detectors). A normalised value depends only on the byte and the channel, so it
 * is looked up in a 3 x 256 table made with that arithmetic. The resamplers compute only the crop's window (a
 * 4000x1 image under resize_short 256 + crop 224 costs 224 columns); the plan is kept for the next frame of the
 * same size. Cv2Resampler writes the window straight into the tensor through the tables; Pillow's goes through
 * a per-thread byte buffer. With {@code into}, a camera frame allocates no buffer at all. Safe to share between
 * threads.
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

    /** The config's resize methods (lite_tools.config.Interp). */
    public static final int NEAREST = 0;
    public static final int BILINEAR = 1;
    public static final int BICUBIC = 2;
    public static final int AREA = 3;
    public static final int LANCZOS = 4;
    public static final int BOX = 5;
    public static final int HAMMING = 6;
    private static final int[] CV2_FLAGS = {Cv2Resampler.INTER_NEAREST, Cv2Resampler.INTER_LINEAR,
        Cv2Resampler.INTER_CUBIC, Cv2Resampler.INTER_AREA, Cv2Resampler.INTER_LANCZOS4, -1, -1};
    private static final int[] PIL_FILTERS = {PilResampler.NEAREST, PilResampler.BILINEAR, PilResampler.BICUBIC, -1,
        PilResampler.LANCZOS, PilResampler.BOX, PilResampler.HAMMING};

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
    private final float[][] table;  // [model channel][byte]: the normalised value
    private final float[][] bySource;  // table's rows for the source's R, G, B (BGR swaps the ends)

    /**
     * The upstream machine's CPU code for OpenCV's INTER_CUBIC (the config's upstream_cv2.cpu): IPP's AVX2 code,
     * IPP's AVX-512 code, or no IPP (aarch64 wheels, cv2.ipp.setUseIPP(False)).
     */
    public static final int UPSTREAM_AVX2 = 0;
    public static final int UPSTREAM_AVX512 = 1;
    public static final int UPSTREAM_NO_IPP = 2;

    private final int upstreamCpu;
    private final int upstreamThreads;
    private final int upstreamL2;

    /**
     * cropWidth/cropHeight of 0 mean no crop; fixedWidth/fixedHeight are used when shortSide is false. The resize
     * is what cv2 computes on an AVX2 machine at one OpenCV thread.
     */
    public Preprocessor(boolean shortSide, int shortSize, int fixedWidth, int fixedHeight, boolean keepRatio,
                        int interp, boolean antialias, int cropWidth, int cropHeight, double scale, double[] mean,
                        double[] std, boolean bgr, boolean paddleDet) {
        this(shortSide, shortSize, fixedWidth, fixedHeight, keepRatio, interp, antialias, cropWidth, cropHeight,
                scale, mean, std, bgr, paddleDet, UPSTREAM_AVX2, 1, IppWarpCubic.L2_CACHE);
    }

    /**
     * The resize as cv2 computes it on the upstream machine: upstreamCpu one of UPSTREAM_*, upstreamThreads its
     * cv2.getNumThreads() and upstreamL2 the L2 size in bytes IPP reads there (IppWarpCubic.L2_CACHE where it
     * reads none, as on AMD); only INTER_CUBIC depends on the CPU, only IPP's warpAffine on the other two.
     */
    public Preprocessor(boolean shortSide, int shortSize, int fixedWidth, int fixedHeight, boolean keepRatio,
                        int interp, boolean antialias, int cropWidth, int cropHeight, double scale, double[] mean,
                        double[] std, boolean bgr, boolean paddleDet, int upstreamCpu, int upstreamThreads,
                        int upstreamL2) {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values");
        }
        if (upstreamCpu < UPSTREAM_AVX2 || upstreamCpu > UPSTREAM_NO_IPP || upstreamThreads < 1 || upstreamL2 < 1) {
            throw new IllegalArgumentException("upstream machine " + upstreamCpu + ", " + upstreamThreads
                    + " threads, L2 " + upstreamL2 + ": not one of UPSTREAM_*, or not positive");
        }
        this.upstreamCpu = upstreamCpu;
        this.upstreamThreads = upstreamThreads;
        this.upstreamL2 = upstreamL2;
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
        if (interp < 0 || interp > HAMMING || (antialias ? PIL_FILTERS : CV2_FLAGS)[interp] < 0) {
            throw new IllegalArgumentException("resize method " + interp + " is not one of "
                    + (antialias ? "Pillow's" : "OpenCV's"));
        }
        table = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                table[c][v] = normalise(v, c);
            }
        }
        bySource = bgr ? new float[][] {table[2], table[1], table[0]} : table;
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

    /** One resampled byte value of model channel c, normalised as the reference's normalise(). */
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
        final double[] factors;
        final Cv2Resampler cv2;  // one of the two: the crop window of the resize, as the upstream resamples
        final PilResampler pil;
        final int[] planes;  // the tensor offset of the source's R, G, B planes (BGR swaps the ends)

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
            factors = p.detFactors(w, h);
            int plane = width * height;
            planes = p.bgr ? new int[] {2 * plane, plane, 0} : new int[] {0, plane, 2 * plane};
            if (p.antialias) {
                pil = new PilResampler(w, h, resizedWidth, resizedHeight, PIL_FILTERS[p.interp], cropX, cropY, width,
                        height);
                cv2 = null;
            } else if (factors != null) {  // PaddleDetection: cv2.resize(im, None, fx=fx, fy=fy)
                cv2 = Cv2Resampler.plan(w, h, 0, 0, factors[1], factors[0], CV2_FLAGS[p.interp],
                        p.upstreamCpu != UPSTREAM_NO_IPP, cropX, cropY, width, height, p.upstreamThreads, p.upstreamL2,
                        p.upstreamCpu == UPSTREAM_AVX512);
                pil = null;
            } else {
                cv2 = Cv2Resampler.plan(w, h, resizedWidth, resizedHeight, 0, 0, CV2_FLAGS[p.interp],
                        p.upstreamCpu != UPSTREAM_NO_IPP, cropX, cropY, width, height, p.upstreamThreads, p.upstreamL2,
                        p.upstreamCpu == UPSTREAM_AVX512);
                pil = null;
            }
        }
    }

    private volatile Plan plan;
    private final ThreadLocal<byte[]> scratch = new ThreadLocal<byte[]>();

    private Plan planFor(int w, int h) {
        Plan p = plan;
        if (p == null || p.sourceWidth != w || p.sourceHeight != h) {
            p = new Plan(this, w, h);
            plan = p;
        }
        return p;
    }

    public Result process(int[] argb, int w, int h) {
        return process(argb, w, h, null);
    }

    /**
     * As process(argb, w, h), written into {@code into} when it is exactly the tensor's size (3 x height x width;
     * a camera loop passes the previous frame's Result.data once that tensor is fed: then a frame allocates only
     * the small Result), else into a new array. Result.data is the array written.
     */
    public Result process(int[] argb, int w, int h, float[] into) {
        if (argb.length < w * h) {
            throw new IllegalArgumentException("pixel array holds " + argb.length + " values, image is " + w + "x" + h);
        }
        Plan p = planFor(w, h);
        int ow = p.width;
        int oh = p.height;
        int plane = oh * ow;
        float[] out = into != null && into.length == 3 * plane ? into : new float[3 * plane];
        if (p.cv2 != null) {  // resampled straight into the tensor through the tables
            p.cv2.resize(argb, bySource, p.planes, out);
        } else {
            byte[] rgb = scratch.get();  // the resized window's bytes: one buffer per thread, reused frame after frame
            if (rgb == null || rgb.length < 3 * plane) {
                rgb = new byte[3 * plane];
                scratch.set(rgb);
            }
            p.pil.resize(argb, rgb);
            float[] tRed = bySource[0];
            float[] tGreen = bySource[1];
            float[] tBlue = bySource[2];
            int red = p.planes[0];
            int blue = p.planes[2];
            for (int o = 0, i = 0; o < plane; o++, i += 3) {
                out[red + o] = tRed[rgb[i] & 0xff];
                out[plane + o] = tGreen[rgb[i + 1] & 0xff];
                out[blue + o] = tBlue[rgb[i + 2] & 0xff];
            }
        }
        return new Result(out, ow, oh, w, h, p.resizedWidth, p.resizedHeight, p.cropX, p.cropY, p.factors);
    }
}
