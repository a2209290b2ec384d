package com.litetools.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The PP-ShiTu pipeline between its engines, as lite_tools/shitu/pipeline.py (PaddleClas 2.6's
 * predict_system.py): the detector's [N, 6] rows, the top maxDetResults by score, those under threshold dropped,
 * the whole image appended last (score 1.0), each box truncated to ints and cropped with Python's slice rules,
 * each crop embedded (Embedder) and searched (Searcher), the top-1 hit kept when its score >= scoreThres, then
 * an NMS ignoring the class over the kept results by recognition score (areas + 1, kept while IoU <=
 * recNmsThreshold), all of it in float32 where numpy computes in float32.
 *
 * Ordering rule (steps 2 and 7): numpy's default argsort, reversed, as upstream calls it (argsort below): for
 * N <= 16 a stable insertion sort (so reversed, among tied scores the later row first), above 16 numpy's
 * introsort, whose tie order a saturated sigmoid's many exact 1.0 scores make visible; NaN sorts last.
 * Comparisons: a detection's float32 score against the double threshold in double; a hit's score (the
 * searcher's: float32 values from a float32 gallery) against scoreThres in double; IoU against (float)
 * recNmsThreshold in float.
 */
public final class ShituPipeline {
    /** Embeds the crop [x0, x1) x [y0, y1) of the source image: the L2-normalised feature. */
    public interface Embedder {
        float[] embed(int x0, int y0, int x1, int y1);
    }

    /** The gallery: the best k hits for an L2-normalised feature, best first. */
    public interface Searcher {
        Hit[] search(float[] feature, int k);
    }

    public static final class Hit {
        public final long id;
        public final double score;
        public final String label;

        public Hit(long id, double score, String label) {
            this.id = id;
            this.score = score;
            this.label = label;
        }
    }

    /** A detector row kept by the selection (or the whole image). */
    public static final class Detection {
        public final int classId;
        public final float score;
        public final float x0;
        public final float y0;
        public final float x1;
        public final float y1;

        Detection(int classId, float score, float x0, float y0, float x1, float y1) {
            this.classId = classId;
            this.score = score;
            this.x0 = x0;
            this.y0 = y0;
            this.x1 = x1;
            this.y1 = y1;
        }
    }

    /** One box the recogniser saw: the truncated box, the crop window taken (null when empty), its top-1 hit. */
    public static final class Candidate {
        public final int[] box;
        public final int[] window;
        public final Hit top;
        public final boolean kept;

        Candidate(int[] box, int[] window, Hit top, boolean kept) {
            this.box = box;
            this.window = window;
            this.top = top;
            this.kept = kept;
        }
    }

    /** What the app shows: a box in source pixels with its recognised label. */
    public static final class Recognition {
        public final int x0;
        public final int y0;
        public final int x1;
        public final int y1;
        public final String label;
        public final double score;
        public final long id;

        Recognition(int[] box, Hit hit) {
            this.x0 = box[0];
            this.y0 = box[1];
            this.x1 = box[2];
            this.y1 = box[3];
            this.label = hit.label;
            this.score = hit.score;
            this.id = hit.id;
        }
    }

    public static final class Result {
        public final List<Detection> detections;
        public final List<Candidate> candidates;
        public final List<Recognition> recognitions;

        Result(List<Detection> detections, List<Candidate> candidates, List<Recognition> recognitions) {
            this.detections = detections;
            this.candidates = candidates;
            this.recognitions = recognitions;
        }
    }

    static final int SMALL_SORT = 15;  // numpy's SMALL_QUICKSORT

    private final int maxDetResults;
    private final double threshold;
    private final int returnK;
    private final double scoreThres;
    private final double recNmsThreshold;

    public ShituPipeline(int maxDetResults, double threshold, int returnK, double scoreThres,
                         double recNmsThreshold) {
        if (maxDetResults < 0 || returnK < 1) {
            throw new IllegalArgumentException("maxDetResults must be >= 0 and returnK >= 1");
        }
        this.maxDetResults = maxDetResults;
        this.threshold = threshold;
        this.returnK = returnK;
        this.scoreThres = scoreThres;
        this.recNmsThreshold = recNmsThreshold;
    }

    /** numpy's float order: NaN after every number. */
    private static boolean less(double a, double b) {
        return a < b || (b != b && a == a);
    }

    /** numpy's aheapsort on idx[lo, lo + n) (a 1-based heap over that part). */
    private static void heapsort(double[] v, int[] idx, int lo, int n) {
        int base = lo - 1;
        for (int top = n >> 1; top > 0; top--) {
            siftDown(v, idx, base, idx[base + top], top, n);
        }
        while (n > 1) {
            int tmp = idx[base + n];
            idx[base + n] = idx[base + 1];
            n--;
            siftDown(v, idx, base, tmp, 1, n);
        }
    }

    /** Put `tmp` at heap position i of the 1-based heap idx[base + 1 .. base + size], sifting it down. */
    private static void siftDown(double[] v, int[] idx, int base, int tmp, int i, int size) {
        int j = i << 1;
        while (j <= size) {
            if (j < size && less(v[idx[base + j]], v[idx[base + j + 1]])) {
                j++;
            }
            if (less(v[tmp], v[idx[base + j]])) {
                idx[base + i] = idx[base + j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        idx[base + i] = tmp;
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /**
     * The indices numpy 1.x's default argsort returns (see numpy_argsort in lite_tools/shitu/pipeline.py): an
     * introsort whose tie order PaddleClas's argsort()[::-1] inherits.
     */
    public static int[] argsort(double[] v) {
        int num = v.length;
        int[] idx = new int[num];
        for (int i = 0; i < num; i++) {
            idx[i] = i;
        }
        if (num < 2) {
            return idx;
        }
        int[] stack = new int[128];
        int[] depths = new int[64];
        int sp = 0;
        int dp = 0;
        int lo = 0;
        int hi = num - 1;
        int depth = 2 * (31 - Integer.numberOfLeadingZeros(num));
        while (true) {
            if (depth < 0) {
                heapsort(v, idx, lo, hi - lo + 1);
            } else {
                while (hi - lo > SMALL_SORT) {
                    int mid = lo + ((hi - lo) >> 1);
                    if (less(v[idx[mid]], v[idx[lo]])) {
                        swap(idx, mid, lo);
                    }
                    if (less(v[idx[hi]], v[idx[mid]])) {
                        swap(idx, hi, mid);
                    }
                    if (less(v[idx[mid]], v[idx[lo]])) {
                        swap(idx, mid, lo);
                    }
                    double pivot = v[idx[mid]];
                    int i = lo;
                    int j = hi - 1;
                    swap(idx, mid, j);
                    while (true) {
                        do {
                            i++;
                        } while (less(v[idx[i]], pivot));
                        do {
                            j--;
                        } while (less(pivot, v[idx[j]]));
                        if (i >= j) {
                            break;
                        }
                        swap(idx, i, j);
                    }
                    swap(idx, i, hi - 1);
                    depth--;
                    if (i - lo < hi - i) {
                        stack[sp++] = i + 1;
                        stack[sp++] = hi;
                        hi = i - 1;
                    } else {
                        stack[sp++] = lo;
                        stack[sp++] = i - 1;
                        lo = i + 1;
                    }
                    depths[dp++] = depth;
                }
                for (int i = lo + 1; i <= hi; i++) {
                    int vi = idx[i];
                    double key = v[vi];
                    int j = i;
                    while (j > lo && less(key, v[idx[j - 1]])) {
                        idx[j] = idx[j - 1];
                        j--;
                    }
                    idx[j] = vi;
                }
            }
            if (sp == 0) {
                return idx;
            }
            hi = stack[--sp];
            lo = stack[--sp];
            depth = depths[--dp];
        }
    }

    /** Indices by score descending, as upstream orders them: numpy's argsort reversed. */
    static int[] descending(double[] scores) {
        int[] up = argsort(scores);
        int[] down = new int[up.length];
        for (int i = 0; i < up.length; i++) {
            down[i] = up[up.length - 1 - i];
        }
        return down;
    }

    /**
     * Step 2 on the detector's first output: `data` read once with getFloatData(), `shape` its shape. Fewer than
     * 6 values is no detection; otherwise it must be [N, 6].
     */
    public List<Detection> select(float[] data, long[] shape) {
        List<Detection> kept = new ArrayList<Detection>();
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        if (size < 6) {
            return kept;
        }
        if (shape.length != 2 || shape[1] != 6 || data.length < size) {
            throw new IllegalArgumentException("the detector's first output " + Arrays.toString(shape)
                    + " is not [N, 6] rows (PP-ShiTu needs NMS in the graph)");
        }
        int rows = (int) shape[0];
        double[] scores = new double[rows];
        for (int r = 0; r < rows; r++) {
            scores[r] = data[r * 6 + 1];
        }
        int[] order = descending(scores);
        int n = Math.min(maxDetResults, rows);
        for (int k = 0; k < n; k++) {
            int o = order[k] * 6;
            float score = data[o + 1];
            if ((double) score < threshold) {
                continue;
            }
            kept.add(new Detection((int) data[o], score, data[o + 2], data[o + 3], data[o + 4], data[o + 5]));
        }
        return kept;
    }

    /** Python's [start:stop] on an axis of n: {first, end}; empty when end <= first. */
    static int[] sliceRange(int start, int stop, int n) {
        return new int[] {clampIndex(start, n), clampIndex(stop, n)};
    }

    private static int clampIndex(int v, int n) {
        if (v < 0) {
            return Math.max(v + n, 0);
        }
        return Math.min(v, n);
    }

    /** The crop window {x0, y0, x1, y1} of rgb[y0:y1, x0:x1] for an int box, or null when it is empty. */
    public static int[] cropWindow(int[] box, int width, int height) {
        int[] x = sliceRange(box[0], box[2], width);
        int[] y = sliceRange(box[1], box[3], height);
        if (x[1] <= x[0] || y[1] <= y[0]) {
            return null;
        }
        return new int[] {x[0], y[0], x[1], y[1]};
    }

    /** Truncation toward zero, as numpy's astype(int) of the float32 values. */
    static int[] truncate(Detection d) {
        float[] v = {d.x0, d.y0, d.x1, d.y1};
        for (float x : v) {
            if (Float.isNaN(x) || Float.isInfinite(x)) {
                throw new IllegalArgumentException("the detector gave a box with a non-finite coordinate");
            }
        }
        return new int[] {(int) d.x0, (int) d.y0, (int) d.x1, (int) d.y1};
    }

    /** Steps 1-7 on one image of width x height; `detector` the detector's first output (null: no detector). */
    public Result run(float[] detector, long[] shape, int width, int height, Embedder embedder, Searcher searcher) {
        List<Detection> detections = detector == null ? new ArrayList<Detection>() : select(detector, shape);
        List<Detection> boxes = new ArrayList<Detection>(detections);
        boxes.add(new Detection(0, 1.0f, 0f, 0f, width, height));
        List<Candidate> candidates = new ArrayList<Candidate>();
        List<int[]> keptBoxes = new ArrayList<int[]>();
        List<Hit> keptHits = new ArrayList<Hit>();
        for (Detection d : boxes) {
            int[] box = truncate(d);
            int[] window = cropWindow(box, width, height);
            if (window == null) {
                candidates.add(new Candidate(box, null, null, false));
                continue;
            }
            float[] feature = embedder.embed(window[0], window[1], window[2], window[3]);
            Hit[] hits = searcher.search(feature, returnK);
            if (hits.length == 0) {
                throw new IllegalStateException("the gallery is empty: nothing to recognise against");
            }
            Hit top = hits[0];
            boolean kept = top.score >= scoreThres;
            candidates.add(new Candidate(box, window, top, kept));
            if (kept) {
                keptBoxes.add(box);
                keptHits.add(top);
            }
        }
        List<Recognition> recognitions = nms(keptBoxes, keptHits, (float) recNmsThreshold);
        return new Result(Collections.unmodifiableList(detections), Collections.unmodifiableList(candidates),
                Collections.unmodifiableList(recognitions));
    }

    /** Step 7, in float32 (see lite_tools/shitu/pipeline.py). */
    static List<Recognition> nms(List<int[]> boxes, List<Hit> hits, float limit) {
        int n = boxes.size();
        float[] x1 = new float[n];
        float[] y1 = new float[n];
        float[] x2 = new float[n];
        float[] y2 = new float[n];
        float[] areas = new float[n];
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) {
            int[] b = boxes.get(i);
            x1[i] = b[0];
            y1[i] = b[1];
            x2[i] = b[2];
            y2[i] = b[3];
            areas[i] = (x2[i] - x1[i] + 1f) * (y2[i] - y1[i] + 1f);
            scores[i] = hits.get(i).score;
        }
        List<Integer> order = new ArrayList<Integer>();
        for (int i : descending(scores)) {
            order.add(i);
        }
        List<Recognition> kept = new ArrayList<Recognition>();
        while (!order.isEmpty()) {
            int i = order.get(0);
            List<Integer> next = new ArrayList<Integer>();
            for (int k = 1; k < order.size(); k++) {
                int j = order.get(k);
                float w = Math.max(0f, Math.min(x2[i], x2[j]) - Math.max(x1[i], x1[j]) + 1f);
                float h = Math.max(0f, Math.min(y2[i], y2[j]) - Math.max(y1[i], y1[j]) + 1f);
                float inter = w * h;
                float ovr = inter / (areas[i] + areas[j] - inter);
                if (ovr <= limit) {
                    next.add(j);
                }
            }
            kept.add(new Recognition(boxes.get(i), hits.get(i)));
            order = next;
        }
        return kept;
    }
}
