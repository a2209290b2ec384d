import com.litetools.core.EmbeddingSearcher;

import java.io.DataInputStream;
import java.io.BufferedInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;

/**
 * scripts/bench_search.py's JVM side: EmbeddingSearcher over a memory-mapped index, one thread. Args: INDEX QUERIES
 * K WARMUP_ROUNDS OUT [TIMED_ROUNDS]. QUERIES: int count, int dim, then float32 rows (big-endian). Every query is
 * searched WARMUP_ROUNDS times untimed (the JIT compiles the loops), then TIMED_ROUNDS times (default 1) timed, by
 * the wall clock and by the thread's CPU time (which other processes on a shared machine inflate less); OUT gets
 * "ms_per_query median p90 mean min cpu_median cpu_min open_ms" on the first line (over every timed search; open_ms:
 * opening the index), then the top-k ids of each query from its last search, space-separated, one line each.
 */
public final class SearchBench {
    public static void main(String[] args) throws IOException {
        long opening = System.nanoTime();
        EmbeddingSearcher searcher = EmbeddingSearcher.map(new File(args[0]));
        double openMs = (System.nanoTime() - opening) / 1e6;
        float[][] queries = read(args[1]);
        int k = Integer.parseInt(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int round = 0; round < warmup; round++) {
            for (float[] q : queries) {
                searcher.search(q, k);
            }
        }
        int n = queries.length;
        double[] ms = new double[n * rounds];
        double[] cpu = new double[n * rounds];
        long[][] ids = new long[n][];
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < n; i++) {
                long c0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                List<EmbeddingSearcher.Hit> hits = searcher.search(queries[i], k);
                ms[round * n + i] = (System.nanoTime() - t0) / 1e6;
                cpu[round * n + i] = (threads.getCurrentThreadCpuTime() - c0) / 1e6;
                ids[i] = new long[hits.size()];
                for (int r = 0; r < hits.size(); r++) {
                    ids[i][r] = hits.get(r).id;
                }
            }
        }
        double mean = 0;
        for (double v : ms) {
            mean += v / ms.length;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        Arrays.sort(cpu);
        PrintWriter out = new PrintWriter(args[4], "UTF-8");
        try {
            out.println("ms_per_query " + sorted[sorted.length / 2] + " " + sorted[(int) (sorted.length * 0.9)] + " "
                    + mean + " " + sorted[0] + " " + cpu[cpu.length / 2] + " " + cpu[0] + " " + openMs);
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
