import com.litetools.core.EmbeddingSearcher;

import java.io.DataInputStream;
import java.io.BufferedInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;

/**
 * scripts/bench_search.py's JVM side: EmbeddingSearcher over a memory-mapped index, one thread. Args: INDEX QUERIES
 * K WARMUP_ROUNDS OUT. QUERIES: int count, int dim, then float32 rows (big-endian). Every query is searched
 * WARMUP_ROUNDS times untimed (the JIT compiles the loops), then once timed; OUT gets "ms_per_query median p90 mean"
 * on the first line and the top-k ids of each query, space-separated, one line each.
 */
public final class SearchBench {
    public static void main(String[] args) throws IOException {
        EmbeddingSearcher searcher = EmbeddingSearcher.map(new File(args[0]));
        float[][] queries = read(args[1]);
        int k = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        for (int round = 0; round < warmup; round++) {
            for (float[] q : queries) {
                searcher.search(q, k);
            }
        }
        double[] ms = new double[queries.length];
        long[][] ids = new long[queries.length][];
        for (int i = 0; i < queries.length; i++) {
            long t0 = System.nanoTime();
            List<EmbeddingSearcher.Hit> hits = searcher.search(queries[i], k);
            ms[i] = (System.nanoTime() - t0) / 1e6;
            ids[i] = new long[hits.size()];
            for (int r = 0; r < hits.size(); r++) {
                ids[i][r] = hits.get(r).id;
            }
        }
        double mean = 0;
        for (double v : ms) {
            mean += v / ms.length;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        PrintWriter out = new PrintWriter(args[4], "UTF-8");
        try {
            out.println("ms_per_query " + sorted[sorted.length / 2] + " " + sorted[(int) (sorted.length * 0.9)] + " "
                    + mean);
            for (long[] row : ids) {
                StringBuilder line = new StringBuilder();
                for (int r = 0; r < row.length; r++) {
                    line.append(r == 0 ? "" : " ").append(row[r]);
                }
                out.println(line);
            }
        } finally {
            out.close();
        }
    }

    private static float[][] read(String path) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(path)));
        try {
            int n = in.readInt();
            int dim = in.readInt();
            float[][] rows = new float[n][dim];
            for (int i = 0; i < n; i++) {
                for (int d = 0; d < dim; d++) {
                    rows[i][d] = in.readFloat();
                }
            }
            return rows;
        } finally {
            in.close();
        }
    }
}
