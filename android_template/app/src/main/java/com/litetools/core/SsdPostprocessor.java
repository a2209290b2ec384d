package com.litetools.core;

import java.util.ArrayList;
import java.util.List;

/**
 * SSD rows (label, score, xmin, ymin, xmax, ymax) to boxes in source-image pixels, as
 * lite_tools/reference/postprocess.py. Normalised rows (relative to the network input, the whole source image
 * stretched) have x scaled by the source WIDTH and y by the source HEIGHT (the widely copied demo swaps them);
 * pixel rows (PaddleDetection exports, already rescaled by scale_factor) are taken as they are. Boxes are clipped,
 * and rows with label < 0 (an empty NMS result is one row [-1] in a [1, 1] tensor), a score under the threshold,
 * or no area left after clipping are dropped.
 */
public final class SsdPostprocessor {
    /** A box in source-image pixels. */
    public static final class Box {
        public final int classId;
        public final double score;
        public final double x0;
        public final double y0;
        public final double x1;
        public final double y1;
        public final String label;

        Box(int classId, double score, double x0, double y0, double x1, double y1, String label) {
            this.classId = classId;
            this.score = score;
            this.x0 = x0;
            this.y0 = y0;
            this.x1 = x1;
            this.y1 = y1;
            this.label = label;
        }
    }

    private final String[] labels;
    private final double scoreThreshold;
    private final boolean normalized;

    public SsdPostprocessor(String[] labels, double scoreThreshold, boolean normalized) {
        this.labels = labels.clone();
        this.scoreThreshold = scoreThreshold;
        this.normalized = normalized;
    }

    private static double clip(double v, double hi) {
        return Math.min(Math.max(v, 0.0), hi);
    }

    /** data: the output tensor read once with getFloatData(); shape: its shape ([N, 6], or [1, 1] when empty). */
    public List<Box> process(float[] data, long[] shape, int sourceWidth, int sourceHeight) {
        List<Box> boxes = new ArrayList<Box>();
        if (shape.length != 2 || shape[1] != 6) {
            return boxes;
        }
        int rows = (int) shape[0];
        if (data.length < rows * 6) {
            throw new IllegalArgumentException("output holds " + data.length + " values, shape says " + rows * 6);
        }
        double[] values = new double[rows * 6];
        for (int i = 0; i < values.length; i++) {
            values[i] = data[i];
        }
        return processRows(values, rows, sourceWidth, sourceHeight);
    }

    /** The same for rows already in double (PicoDetPostprocessor's host NMS): `rows` rows of 6 values. */
    public List<Box> processRows(double[] data, int rows, int sourceWidth, int sourceHeight) {
        List<Box> boxes = new ArrayList<Box>();
        double w = sourceWidth;
        double h = sourceHeight;
        double sx = normalized ? w : 1.0;
        double sy = normalized ? h : 1.0;
        for (int r = 0; r < rows; r++) {
            int o = r * 6;
            double label = data[o];
            double score = data[o + 1];
            if (label < 0 || score < scoreThreshold) {
                continue;
            }
            double x0 = clip(data[o + 2] * sx, w);
            double y0 = clip(data[o + 3] * sy, h);
            double x1 = clip(data[o + 4] * sx, w);
            double y1 = clip(data[o + 5] * sy, h);
            if (x1 <= x0 || y1 <= y0) {
                continue;
            }
            int id = (int) label;
            boxes.add(new Box(id, score, x0, y0, x1, y1, Labels.of(labels, id)));
        }
        return boxes;
    }
}
