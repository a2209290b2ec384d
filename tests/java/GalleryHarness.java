import com.litetools.core.EmbeddingSearcher;
import com.litetools.core.GalleryStore;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Test driver for EmbeddingSearcher and GalleryStore on the JVM (tests/test_gallery_java.py). Commands:
 *   search INDEX QUERIES K OUT            QUERIES: float32 little-endian rows of the index's dimension
 *   store FILE DIM PARAMS NB FIRST_ID ACTION...   ACTION one of:
 *     add VECTORS LABELS                 add every row (labels one a line, UTF-8), then save; print the ids
 *     remove ID                          remove and save
 *     list                               print "id TAB label TAB path" per entry
 *     search QUERIES K OUT               search the store's current entries
 * OUT lines: "query TAB rank TAB id TAB score TAB position TAB label", scores as Double.toString (exact).
 * Expected failures print "refused: CLASS: MESSAGE" and exit 3.
 */
public final class GalleryHarness {
    public static void main(String[] args) throws IOException {
        try {
            run(args);
        } catch (IOException e) {
            System.out.println("refused: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(3);
        } catch (IllegalArgumentException e) {
            System.out.println("refused: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            System.exit(3);
        }
    }

    private static void run(String[] args) throws IOException {
        if (args[0].equals("search")) {
            EmbeddingSearcher s = EmbeddingSearcher.map(new File(args[1]));
            s.verify();
            search(s, args[2], Integer.parseInt(args[3]), args[4]);
            return;
        }
        GalleryStore store = GalleryStore.open(new File(args[1]), Integer.parseInt(args[2]), args[3], args[4],
                Long.parseLong(args[5]));
        String action = args[6];
        if (action.equals("add")) {
            float[][] rows = readRows(args[7], Integer.parseInt(args[2]));
            List<String> labels = readLines(args[8]);
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < rows.length; i++) {
                ids.append(store.add(rows[i], labels.get(i), "user:" + i)).append('\n');
            }
            store.save();
            System.out.print(ids);
        } else if (action.equals("remove")) {
            System.out.println(store.remove(Long.parseLong(args[7])));
            store.save();
        } else if (action.equals("list")) {
            EmbeddingSearcher s = store.searcher();
            for (int i = 0; i < s.count; i++) {
                System.out.println(s.id(i) + "\t" + s.label(i) + "\t" + s.path(i));
            }
        } else if (action.equals("search")) {
            search(store.searcher(), args[7], Integer.parseInt(args[8]), args[9]);
        }
    }

    private static void search(EmbeddingSearcher s, String queries, int k, String out) throws IOException {
        float[][] q = readRows(queries, s.dim);
        PrintWriter o = new PrintWriter(out, "UTF-8");
        try {
            for (int i = 0; i < q.length; i++) {
                List<EmbeddingSearcher.Hit> hits = s.search(q[i], k);
                for (int r = 0; r < hits.size(); r++) {
                    EmbeddingSearcher.Hit h = hits.get(r);
                    o.print(i + "\t" + r + "\t" + h.id + "\t" + Double.toString(h.score) + "\t" + h.position + "\t"
                            + h.label + "\n");
                }
            }
        } finally {
            o.close();
        }
    }

    private static float[][] readRows(String path, int dim) throws IOException {
        byte[] data = readAll(path);
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int n = data.length / (4 * dim);
        float[][] rows = new float[n][dim];
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < dim; d++) {
                rows[i][d] = b.getFloat();
            }
        }
        return rows;
    }

    private static byte[] readAll(String path) throws IOException {
        FileInputStream in = new FileInputStream(path);
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            in.close();
        }
    }

    private static List<String> readLines(String path) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(new FileInputStream(path), "UTF-8"));
        try {
            List<String> lines = new ArrayList<String>();
            String line;
            while ((line = r.readLine()) != null) {
                lines.add(line);
            }
            return lines;
        } finally {
            r.close();
        }
    }
}
