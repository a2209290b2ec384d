package com.litetools.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Scores to labels, as lite_tools/reference/postprocess.py: scores are probabilities when all lie in [0, 1] and
 * sum to 1 within 1e-3 (PaddleClas exports end in a softmax), otherwise a softmax is applied; top-k by score,
 * ties to the lower class id; binary (PULC ThreshOutput): p[1] >= threshold gives class 1 with score p[1], else
 * class 0 with score 1 - p[1]. ThreshOutput on C != 2 outputs is its multi-class branch: the top-1 of
 * np.argsort(p)[::-1] if its probability > threshold, else defaultLabelIndex, named by multiclassLabels ("" past
 * them, as PaddleClas). The top-1 is found by numpy 1.x's own argsort algorithm (its introsort, ported below),
 * so an exact tie at the top goes where numpy's goes: for C <= 16 the last maximal index, above that wherever
 * its partitioning leaves it. (numpy 1.26 on a CPU with AVX512_SKX sorts float64, the softmax of logits, with
 * x86-simd-sort instead, whose tie order differs; the float32 probabilities of a model ending in a softmax always
 * take this path.)
 */
public final class ClassificationPostprocessor {
    /** One class and its probability. */
    public static final class ClassScore {
        public final int classId;
        public final double score;
        public final String label;

        ClassScore(int classId, double score, String label) {
            this.classId = classId;
            this.score = score;
            this.label = label;
        }
    }

    private final String[] labels;
    private final int topK;
    private final double threshold;
    private final int defaultLabelIndex;
    private final String[] multiclassLabels;

    public ClassificationPostprocessor(String[] labels, int topK, double threshold) {
        this(labels, topK, threshold, 0, new String[0]);
    }

    public ClassificationPostprocessor(String[] labels, int topK, double threshold, int defaultLabelIndex,
                                       String[] multiclassLabels) {
        this.labels = labels.clone();
        this.topK = topK;
        this.threshold = threshold;
        this.defaultLabelIndex = defaultLabelIndex;
        this.multiclassLabels = multiclassLabels.clone();
    }

    public String labelOf(int classId) {
        return Labels.of(labels, classId);
    }

    public static double[] asProbabilities(float[] scores) {
        double[] p = new double[scores.length];
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0.0;
        for (int i = 0; i < scores.length; i++) {
            p[i] = scores[i];
            min = Math.min(min, p[i]);
            max = Math.max(max, p[i]);
            sum += p[i];
        }
        if (min >= 0.0 && max <= 1.0 && Math.abs(sum - 1.0) <= 1e-3) {
            return p;
        }
        double total = 0.0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(p[i] - max);
            total += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= total;
        }
        return p;
    }

    public List<ClassScore> topK(float[] scores) {
        double[] p = asProbabilities(scores);
        int k = Math.min(topK, p.length);
        List<ClassScore> out = new ArrayList<ClassScore>(k);
        boolean[] taken = new boolean[p.length];
        for (int n = 0; n < k; n++) {  // k small: selection keeps ties in id order without sorting everything
            int best = -1;
            for (int i = 0; i < p.length; i++) {
                if (!taken[i] && (best < 0 || p[i] > p[best])) {
                    best = i;
                }
            }
            taken[best] = true;
            out.add(new ClassScore(best, p[best], labelOf(best)));
        }
        return out;
    }

    public ClassScore binary(float[] scores) {
        if (scores.length != 2) {
            return threshMulticlass(scores);
        }
        double s = asProbabilities(scores)[1];
        return s >= threshold ? new ClassScore(1, s, labelOf(1)) : new ClassScore(0, 1.0 - s, labelOf(0));
    }

    /** ThreshOutput's multi-class branch (C != 2); the comparison is in float64 and strict, as numpy 1.x's. */
    ClassScore threshMulticlass(float[] scores) {
        double[] p = asProbabilities(scores);
        int top1 = numpyArgsortLast(p);
        int id = p[top1] > threshold ? top1 : defaultLabelIndex;
        if (id < 0 || id >= p.length) {
            throw new IllegalArgumentException("default_label_index " + id + " is not a class of this " + p.length
                    + "-class model");
        }
        return new ClassScore(id, p[id], id < multiclassLabels.length ? multiclassLabels[id] : "");
    }

    /** numpy's float ordering: NaN sorts last. */
    private static boolean less(double a, double b) {
        return a < b || (b != b && a == a);
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    /**
     * np.argsort(v)[-1] (= np.argsort(v)[::-1][0]): numpy 1.x's aquicksort_ (numpy/core/src/npysort/
     * quicksort.cpp, the generic path it takes for float32 and, without AVX512_SKX, float64) step for step:
     * median-of-3 introsort, insertion sort below 16 elements, heapsort past 2 * floor(log2 n) levels.
     */
    static int numpyArgsortLast(double[] v) {
        int num = v.length;
        int[] tosort = new int[num];
        for (int i = 0; i < num; i++) {
            tosort[i] = i;
        }
        int[] stack = new int[128];
        int[] depth = new int[64];
        int sptr = 0;
        int psdepth = 0;
        int cdepth = 2 * (31 - Integer.numberOfLeadingZeros(Math.max(num, 1)));
        int pl = 0;
        int pr = num - 1;
        for (;;) {
            if (cdepth < 0) {
                heapsort(v, tosort, pl, pr - pl + 1);
            } else {
                while (pr - pl > 15) {  // SMALL_QUICKSORT
                    int pm = pl + ((pr - pl) >> 1);
                    if (less(v[tosort[pm]], v[tosort[pl]])) {
                        swap(tosort, pm, pl);
                    }
                    if (less(v[tosort[pr]], v[tosort[pm]])) {
                        swap(tosort, pr, pm);
                    }
                    if (less(v[tosort[pm]], v[tosort[pl]])) {
                        swap(tosort, pm, pl);
                    }
                    double vp = v[tosort[pm]];
                    int pi = pl;
                    int pj = pr - 1;
                    swap(tosort, pm, pj);
                    for (;;) {
                        do {
                            ++pi;
                        } while (less(v[tosort[pi]], vp));
                        do {
                            --pj;
                        } while (less(vp, v[tosort[pj]]));
                        if (pi >= pj) {
                            break;
                        }
                        swap(tosort, pi, pj);
                    }
                    swap(tosort, pi, pr - 1);
                    if (pi - pl < pr - pi) {  // push the larger partition
                        stack[sptr++] = pi + 1;
                        stack[sptr++] = pr;
                        pr = pi - 1;
                    } else {
                        stack[sptr++] = pl;
                        stack[sptr++] = pi - 1;
                        pl = pi + 1;
                    }
                    depth[psdepth++] = --cdepth;
                }
                for (int pi = pl + 1; pi <= pr; ++pi) {  // insertion sort
                    int vi = tosort[pi];
                    double vp = v[vi];
                    int pj = pi;
                    while (pj > pl && less(vp, v[tosort[pj - 1]])) {
                        tosort[pj] = tosort[pj - 1];
                        pj--;
                    }
                    tosort[pj] = vi;
                }
            }
            if (sptr == 0) {
                break;
            }
            pr = stack[--sptr];
            pl = stack[--sptr];
            cdepth = depth[--psdepth];
        }
        return tosort[num - 1];
    }

    /** numpy's aheapsort_ on tosort[start .. start + n), 1-based as there. */
    private static void heapsort(double[] v, int[] tosort, int start, int n) {
        int base = start - 1;  // a[k] = tosort[base + k]
        for (int l = n >> 1; l > 0; --l) {
            siftDown(v, tosort, base, l, n, tosort[base + l]);
        }
        for (; n > 1;) {
            int tmp = tosort[base + n];
            tosort[base + n] = tosort[base + 1];
            n -= 1;
            siftDown(v, tosort, base, 1, n, tmp);
        }
    }

    /** The heap's sift-down from position i (1-based) of n, placing tmp: the same loop in both of numpy's phases. */
    private static void siftDown(double[] v, int[] tosort, int base, int i, int n, int tmp) {
        for (int j = i << 1; j <= n;) {
            if (j < n && less(v[tosort[base + j]], v[tosort[base + j + 1]])) {
                j += 1;
            }
            if (less(v[tmp], v[tosort[base + j]])) {
                tosort[base + i] = tosort[base + j];
                i = j;
                j += j;
            } else {
                break;
            }
        }
        tosort[base + i] = tmp;
    }
}
