package com.litetools.core;

import java.util.Arrays;
import java.util.List;

/**
 * PicoDet without NMS in the graph: raw heads ([scores x L, boxes x L] by output index) or decoded pre-NMS boxes
 * ([1, N, 4] + scores [1, C, N]) to boxes in source pixels, as lite_tools/reference/picodet.py (PaddleDetection's
 * PicoDetPostProcess, see that module for every step and upstream's quirks), in the same float64 order:
 * half-cell centres per level; per side softmax then integral over reg_max + 1 bins, times the stride; the top
 * nmsTopK anchors of each level by their best class score (ties to the lower anchor); per class scores
 * > scoreThreshold compared in float, the best `candidates` of them, greedy hard NMS keeping IoU <= nmsThreshold
 * (IoU with upstream's 1e-5 in the denominator) up to keepTopK per class; clip to the network input and round to
 * float (upstream's warp_boxes), divide by the host's scale_factor (float(H) / source h, float(W) / source w);
 * then the draw threshold and the image clip of SsdPostprocessor. Only the anchors whose best score passes the
 * threshold are decoded and sorted: the others cannot reach NMS, so the result is the reference's.
 * Not thread-safe (it reuses its buffers between frames); one instance per thread.
 */
public final class PicoDetPostprocessor {
    public static final String RAW = "raw";
    public static final String DECODED = "decoded";
    private static final double CELL_OFFSET = 0.5;
    private static final double IOU_EPS = 1e-5;

    private final boolean raw;
    private final int[] strides;
    private final int inputWidth;
    private final int inputHeight;
    private final int classes;
    private final float scoreThreshold;
    private final double nmsThreshold;
    private final int nmsTopK;
    private final int keepTopK;
    private final int candidates;
    private final boolean clip;
    private final SsdPostprocessor pixels;
    private final int[] cells;
    private long[] keys = new long[64];
    private double[] exps = new double[8];
    private final double[] distance = new double[4];

    /**
     * form: RAW or DECODED; classes: the label count (0: as the tensors say); scoreThreshold etc.: the host NMS
     * (DeployConstants); labels and drawThreshold: what the app shows (as SsdPostprocessor on pixel rows).
     */
    public PicoDetPostprocessor(String form, int[] strides, int inputWidth, int inputHeight, int classes,
                                double scoreThreshold, double nmsThreshold, int nmsTopK, int keepTopK,
                                int candidates, boolean clip, String[] labels, double drawThreshold) {
        if (!RAW.equals(form) && !DECODED.equals(form)) {
            throw new IllegalArgumentException("PicoDet form " + form + " is not raw or decoded");
        }
        this.raw = RAW.equals(form);
        this.strides = strides.clone();
        this.inputWidth = inputWidth;
        this.inputHeight = inputHeight;
        this.classes = classes;
        this.scoreThreshold = (float) scoreThreshold;
        this.nmsThreshold = nmsThreshold;
        this.nmsTopK = nmsTopK;
        this.keepTopK = keepTopK;
        this.candidates = candidates;
        this.clip = clip;
        this.pixels = new SsdPostprocessor(labels, drawThreshold, false);
        this.cells = new int[strides.length];
        for (int l = 0; l < strides.length; l++) {
            cells[l] = rows(l) * cols(l);
        }
    }

    private int rows(int level) {
        return (inputHeight + strides[level] - 1) / strides[level];
    }

    private int cols(int level) {
        return (inputWidth + strides[level] - 1) / strides[level];
    }

    /** Detection rows after NMS and scaling, before the draw threshold: 6 values each, `count` of them. */
    public static final class Rows {
        public final double[] data;
        public final int count;

        Rows(double[] data, int count) {
            this.data = data;
            this.count = count;
        }
    }

    /** outputs/shapes: every output tensor of the model in its order (getFloatData() and shape() of each). */
    public List<SsdPostprocessor.Box> process(float[][] outputs, long[][] shapes, int sourceWidth,
                                              int sourceHeight) {
        Rows r = rows(outputs, shapes, sourceWidth, sourceHeight);
        return pixels.processRows(r.data, r.count, sourceWidth, sourceHeight);
    }

    private static String shape(long[] s) {
        return Arrays.toString(s);
    }

    private static void expect(long[] shape, long a, long b, long c, String what) {
        if (shape.length != 3 || shape[0] != a || shape[1] != b || shape[2] != c) {
            throw new IllegalArgumentException(what + " has shape " + shape(shape) + ", expected ["
                    + a + ", " + b + ", " + c + "]");
        }
    }

    /** Steps 1 to 6 of reference/picodet.py: the rows in source pixels. */
    public Rows rows(float[][] outputs, long[][] shapes, int sourceWidth, int sourceHeight) {
        int levels = strides.length;
        int width;
        int bins = 0;
        if (raw) {
            if (outputs.length != 2 * levels || shapes.length != outputs.length) {
                throw new IllegalArgumentException(outputs.length + " outputs, fpn_stride needs " + 2 * levels);
            }
            long[] first = shapes[levels];
            if (first.length != 3 || first[2] % 4 != 0 || first[2] < 8) {
                throw new IllegalArgumentException("output " + levels + " has shape " + shape(first)
                        + ", not box distributions");
            }
            bins = (int) (first[2] / 4);
            width = classes > 0 ? classes : (shapes[0].length == 3 ? (int) shapes[0][2] : -1);
            for (int l = 0; l < levels; l++) {
                expect(shapes[l], 1, cells[l], width, "output " + l + " (scores of stride " + strides[l] + ")");
                expect(shapes[levels + l], 1, cells[l], 4L * bins,
                        "output " + (levels + l) + " (box distributions of stride " + strides[l] + ")");
            }
        } else {
            int n = 0;
            for (int l = 0; l < levels; l++) {
                n += cells[l];
            }
            if (outputs.length != 2 || shapes.length != 2) {
                throw new IllegalArgumentException(outputs.length + " outputs, decoded boxes need 2");
            }
            width = classes > 0 ? classes : (shapes[1].length == 3 ? (int) shapes[1][1] : -1);
            expect(shapes[0], 1, n, 4, "output 0 (decoded boxes)");
            expect(shapes[1], 1, width, n, "output 1 (scores)");
        }
        for (int i = 0; i < outputs.length; i++) {
            long numel = 1;
            for (long d : shapes[i]) {
                numel *= d;
            }
            if (outputs[i].length < numel) {
                throw new IllegalArgumentException("output " + i + " holds " + outputs[i].length
                        + " values, its shape says " + numel);
            }
        }
        // Steps 1 to 3: the candidates of every level (only those whose best score passes the threshold), in
        // level order, each level by its best score descending, ties to the lower anchor.
        int anchors = raw ? 0 : (int) shapes[0][1];
        int[] chosen = new int[16];
        int[] chosenLevel = new int[16];
        int count = 0;
        int start = 0;
        for (int l = 0; l < levels; l++) {
            int n = cells[l];
            float[] s = raw ? outputs[l] : outputs[1];
            int above = 0;
            for (int a = 0; a < n; a++) {
                float best = raw ? s[a * width] : s[start + a];
                for (int c = 1; c < width; c++) {
                    float v = raw ? s[a * width + c] : s[c * anchors + start + a];
                    if (v > best) {
                        best = v;
                    }
                }
                if (best > scoreThreshold) {
                    push(above++, best, a);
                }
            }
            Arrays.sort(keys, 0, above);
            int take = Math.min(above, nmsTopK);
            if (count + take > chosen.length) {
                int size = Math.max(chosen.length * 2, count + take);
                chosen = Arrays.copyOf(chosen, size);
                chosenLevel = Arrays.copyOf(chosenLevel, size);
            }
            for (int i = 0; i < take; i++) {
                chosen[count] = (int) (keys[i] & 0xffffffffL);
                chosenLevel[count++] = l;
            }
            start += n;
        }
        double[] boxes = new double[count * 4];
        float[] scores = new float[count * width];
        int[] levelStart = new int[levels];
        for (int l = 1; l < levels; l++) {
            levelStart[l] = levelStart[l - 1] + cells[l - 1];
        }
        for (int i = 0; i < count; i++) {
            int a = chosen[i];
            int l = chosenLevel[i];
            for (int c = 0; c < width; c++) {
                scores[i * width + c] = raw ? outputs[l][a * width + c] : outputs[1][c * anchors + levelStart[l] + a];
            }
            if (raw) {
                decode(outputs[levels + l], a, bins, l, boxes, i * 4);
            } else {
                int b = (levelStart[l] + a) * 4;
                for (int k = 0; k < 4; k++) {
                    boxes[i * 4 + k] = outputs[0][b + k];
                }
            }
        }
        return nms(boxes, scores, count, width, sourceWidth, sourceHeight);
    }

    /** A sort key: score descending (scores here are > threshold >= 0, whose float bits order as the values), then
     * the index ascending. */
    private void push(int at, float score, int index) {
        if (at == keys.length) {
            keys = Arrays.copyOf(keys, keys.length * 2);
        }
        keys[at] = ((long) (Integer.MAX_VALUE - Float.floatToIntBits(score)) << 32) | (index & 0xffffffffL);
    }

    /** Step 2 for anchor a of level l: the box (x0, y0, x1, y1) in network-input pixels into out[o..o+3]. */
    private void decode(float[] logits, int a, int bins, int l, double[] out, int o) {
        int stride = strides[l];
        int cols = cols(l);
        double cx = (a % cols + CELL_OFFSET) * stride;
        double cy = (a / cols + CELL_OFFSET) * stride;
        double[] d = distance;
        if (exps.length < bins) {
            exps = new double[bins];
        }
        double[] e = exps;
        for (int side = 0; side < 4; side++) {
            int base = (a * 4 + side) * bins;
            double max = logits[base];
            for (int k = 1; k < bins; k++) {
                if (logits[base + k] > max) {
                    max = logits[base + k];
                }
            }
            double sum = 0.0;
            for (int k = 0; k < bins; k++) {
                e[k] = Math.exp(logits[base + k] - max);
                sum += e[k];
            }
            double dist = 0.0;
            for (int k = 0; k < bins; k++) {
                dist += (e[k] / sum) * k;
            }
            d[side] = dist * stride;
        }
        out[o] = cx - d[0];
        out[o + 1] = cy - d[1];
        out[o + 2] = cx + d[2];
        out[o + 3] = cy + d[3];
    }

    private static double iou(double[] b, int i, int j) {
        double ltx = Math.max(b[i], b[j]);
        double lty = Math.max(b[i + 1], b[j + 1]);
        double rbx = Math.min(b[i + 2], b[j + 2]);
        double rby = Math.min(b[i + 3], b[j + 3]);
        double overlap = Math.max(rbx - ltx, 0.0) * Math.max(rby - lty, 0.0);
        double areaI = Math.max(b[i + 2] - b[i], 0.0) * Math.max(b[i + 3] - b[i + 1], 0.0);
        double areaJ = Math.max(b[j + 2] - b[j], 0.0) * Math.max(b[j + 3] - b[j + 1], 0.0);
        return overlap / (areaI + areaJ - overlap + IOU_EPS);
    }

    /** Steps 4 to 6: per-class hard NMS, clip, scale. */
    private Rows nms(double[] boxes, float[] scores, int count, int width, int sourceWidth, int sourceHeight) {
        double[] rows = new double[64 * 6];
        int out = 0;
        int[] kept = new int[Math.max(1, Math.min(keepTopK, count))];
        double sy = (float) inputHeight / sourceHeight;
        double sx = (float) inputWidth / sourceWidth;
        for (int c = 0; c < width; c++) {
            int n = 0;
            for (int i = 0; i < count; i++) {
                float v = scores[i * width + c];
                if (v > scoreThreshold) {
                    push(n++, v, i);
                }
            }
            Arrays.sort(keys, 0, n);
            n = Math.min(n, candidates);
            int k = 0;
            for (int r = 0; r < n && k < keepTopK; r++) {
                int i = (int) (keys[r] & 0xffffffffL);
                boolean keep = true;
                for (int q = 0; q < k && keep; q++) {
                    keep = iou(boxes, i * 4, kept[q] * 4) <= nmsThreshold;
                }
                if (keep) {
                    kept[k++] = i;
                }
            }
            for (int q = 0; q < k; q++) {
                int i = kept[q];
                int o = out * 6;
                if (out * 6 + 6 > rows.length) {
                    rows = Arrays.copyOf(rows, rows.length * 2);
                }
                rows[o] = c;
                rows[o + 1] = scores[i * width + c];
                for (int j = 0; j < 4; j++) {
                    double v = boxes[i * 4 + j];
                    if (clip) {
                        double hi = (j % 2 == 0) ? inputWidth : inputHeight;
                        v = (float) Math.min(Math.max(v, 0.0), hi);
                    }
                    rows[o + 2 + j] = v / ((j % 2 == 0) ? sx : sy);
                }
                out++;
            }
        }
        return new Rows(rows, out);
    }
}
