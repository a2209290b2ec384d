package com.litetools.core;

/**
 * The embedding task: the model's raw features (PaddleClas exports recognition models without the normalisation),
 * L2-normalised as PaddleClas's predict_rec.py does before a search. In double, as the Python reference
 * (lite_tools/reference/postprocess.py) does; a zero vector stays as it is.
 */
public final class EmbeddingPostprocessor {
    private EmbeddingPostprocessor() {
    }

    public static double[] normalise(float[] features) {
        double sum = 0.0;
        for (float v : features) {
            sum += (double) v * (double) v;
        }
        double norm = Math.sqrt(sum);
        double[] out = new double[features.length];
        for (int i = 0; i < features.length; i++) {
            out[i] = norm > 0.0 ? features[i] / norm : features[i];
        }
        return out;
    }

    /** The normalised vector as the query EmbeddingSearcher and GalleryStore take (rounded to float). */
    public static float[] query(double[] normalised) {
        float[] q = new float[normalised.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) normalised[i];
        }
        return q;
    }
}
