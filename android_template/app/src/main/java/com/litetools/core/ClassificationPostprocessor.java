package com.litetools.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Scores to labels, as lite_tools/reference/postprocess.py: scores are probabilities when all lie in [0, 1] and
 * sum to 1 within 1e-3 (PaddleClas exports end in a softmax), otherwise a softmax is applied; top-k by score,
 * ties to the lower class id; binary (PULC ThreshOutput): p[1] >= threshold gives class 1 with score p[1], else
 * class 0 with score 1 - p[1].
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

    public ClassificationPostprocessor(String[] labels, int topK, double threshold) {
        this.labels = labels.clone();
        this.topK = topK;
        this.threshold = threshold;
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
            throw new IllegalArgumentException("a binary classifier has 2 outputs, got " + scores.length);
        }
        double s = asProbabilities(scores)[1];
        return s >= threshold ? new ClassScore(1, s, labelOf(1)) : new ClassScore(0, 1.0 - s, labelOf(0));
    }
}
