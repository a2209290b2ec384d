import com.litetools.core.EmbeddingSearcher;
import com.litetools.core.ShituPipeline;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives com.litetools.core.ShituPipeline on the JVM from files that lite_tools/shitu/javacheck.py writes (DIR):
 * gallery.index (a lite-tools gallery index, lite_tools/shitu/index.py) is searched by EmbeddingSearcher, as the
 * app searches it; each job-N.bin (int width, int height, int maxDetResults, int returnK,
 * double threshold, double scoreThres, double recNmsThreshold; int rank (-1: no detector), long dims.., floats;
 * int windows; per window: int x0, y0, x1, y1, int dim, floats: the reference's feature of that crop) gives
 * result-N.txt: "det" classId score x0 y0 x1 y1 per selected detection, "cand" box(4) window(4 or "-") id score
 * label kept per candidate, "hits" id:score.. per search (in order), "rec" x0 y0 x1 y1 label score id per
 * recognition; TAB-separated, floats written with Double.toString (reads back exactly), labels escaped as \\, \t,
 * \n. A window the reference did not embed is an error line "error<TAB>..." (the Java pipeline cropped something
 * else). sort-N.bin (int n, n doubles) gives sorted-N.txt: ShituPipeline.argsort's indices (held to numpy's).
 */
public final class ShituHarness {
    /** The lite-tools gallery index (EmbeddingSearcher, memory-mapped) as ShituPipeline's Searcher. */
    private static final class Gallery implements ShituPipeline.Searcher {
        final EmbeddingSearcher searcher;
        final List<ShituPipeline.Hit[]> calls = new ArrayList<ShituPipeline.Hit[]>();

        Gallery(EmbeddingSearcher searcher) {
            this.searcher = searcher;
        }

        @Override
        public ShituPipeline.Hit[] search(float[] q, int k) {
            List<EmbeddingSearcher.Hit> found = searcher.search(q, k);
            ShituPipeline.Hit[] hits = new ShituPipeline.Hit[found.size()];
            for (int i = 0; i < hits.length; i++) {
                EmbeddingSearcher.Hit h = found.get(i);
                hits[i] = new ShituPipeline.Hit(h.id, h.score, h.label);
            }
            calls.add(hits);
            return hits;
        }
    }

    private static final class MissingWindow extends RuntimeException {
        MissingWindow(String message) {
            super(message);
        }
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }

    static String f(float v) {
        return Double.toString(v);
    }

    private static float[] floats(DataInputStream d, int n) throws IOException {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = d.readFloat();
        }
        return v;
    }

    public static void main(String[] args) throws IOException {
        File dir = new File(args[0]);
        File index = new File(dir, "gallery.index");
        Gallery gallery = index.exists() ? new Gallery(EmbeddingSearcher.map(index)) : null;
        File[] files = dir.listFiles();
        Arrays.sort(files);
        for (File file : files) {
            if (file.getName().startsWith("sort-")) {
                sort(file, new File(dir, file.getName().replace("sort-", "sorted-").replace(".bin", ".txt")));
            } else if (file.getName().startsWith("job-")) {
                run(file, gallery, new File(dir, file.getName().replace("job-", "result-").replace(".bin", ".txt")));
            }
        }
    }

    private static void run(File in, final Gallery gallery, File out) throws IOException {
        int width;
        int height;
        ShituPipeline pipeline;
        float[] detector = null;
        long[] shape = null;
        final Map<String, float[]> features = new HashMap<String, float[]>();
        try (DataInputStream d = new DataInputStream(new BufferedInputStream(new FileInputStream(in)))) {
            width = d.readInt();
            height = d.readInt();
            int maxDet = d.readInt();
            int returnK = d.readInt();
            double threshold = d.readDouble();
            double scoreThres = d.readDouble();
            double nms = d.readDouble();
            pipeline = new ShituPipeline(maxDet, threshold, returnK, scoreThres, nms);
            int rank = d.readInt();
            if (rank >= 0) {
                shape = new long[rank];
                long n = 1;
                for (int i = 0; i < rank; i++) {
                    shape[i] = d.readLong();
                    n *= shape[i];
                }
                detector = floats(d, (int) n);
            }
            int windows = d.readInt();
            for (int w = 0; w < windows; w++) {
                String key = d.readInt() + "," + d.readInt() + "," + d.readInt() + "," + d.readInt();
                features.put(key, floats(d, d.readInt()));
            }
        }
        gallery.calls.clear();
        try (PrintWriter o = new PrintWriter(out, "UTF-8")) {
            ShituPipeline.Result r;
            try {
                r = pipeline.run(detector, shape, width, height, new ShituPipeline.Embedder() {
                    @Override
                    public float[] embed(int x0, int y0, int x1, int y1) {
                        String key = x0 + "," + y0 + "," + x1 + "," + y1;
                        float[] v = features.get(key);
                        if (v == null) {
                            throw new MissingWindow("the Java pipeline cropped " + key
                                    + ", a window the reference did not embed");
                        }
                        return v;
                    }
                }, gallery);
            } catch (RuntimeException e) {
                o.print("error\t" + escape(String.valueOf(e.getMessage())) + "\n");
                return;
            }
            for (ShituPipeline.Detection det : r.detections) {
                o.print("det\t" + det.classId + "\t" + f(det.score) + "\t" + f(det.x0) + "\t" + f(det.y0) + "\t"
                        + f(det.x1) + "\t" + f(det.y1) + "\n");
            }
            for (ShituPipeline.Candidate c : r.candidates) {
                List<String> parts = new ArrayList<String>();
                parts.add("cand");
                for (int v : c.box) {
                    parts.add(Integer.toString(v));
                }
                if (c.window == null) {
                    parts.add("-");
                } else {
                    parts.add(c.window[0] + "," + c.window[1] + "," + c.window[2] + "," + c.window[3]);
                }
                parts.add(c.top == null ? "-" : Long.toString(c.top.id));
                parts.add(c.top == null ? "-" : Double.toString(c.top.score));
                parts.add(c.top == null ? "-" : escape(c.top.label));
                parts.add(c.kept ? "1" : "0");
                o.print(join(parts) + "\n");
            }
            for (ShituPipeline.Hit[] hits : gallery.calls) {
                List<String> parts = new ArrayList<String>();
                parts.add("hits");
                for (ShituPipeline.Hit h : hits) {
                    parts.add(h.id + ":" + Double.toString(h.score));
                }
                o.print(join(parts) + "\n");
            }
            for (ShituPipeline.Recognition rec : r.recognitions) {
                o.print("rec\t" + rec.x0 + "\t" + rec.y0 + "\t" + rec.x1 + "\t" + rec.y1 + "\t" + escape(rec.label)
                        + "\t" + Double.toString(rec.score) + "\t" + rec.id + "\n");
            }
        }
    }

    /** sort-N.bin (int n, n doubles) -> sorted-N.txt: ShituPipeline.argsort's indices, TAB-separated. */
    private static void sort(File in, File out) throws IOException {
        double[] v;
        try (DataInputStream d = new DataInputStream(new BufferedInputStream(new FileInputStream(in)))) {
            v = new double[d.readInt()];
            for (int i = 0; i < v.length; i++) {
                v[i] = d.readDouble();
            }
        }
        List<String> parts = new ArrayList<String>();
        for (int i : ShituPipeline.argsort(v)) {
            parts.add(Integer.toString(i));
        }
        try (PrintWriter o = new PrintWriter(out, "UTF-8")) {
            o.print(join(parts) + "\n");
        }
    }

    private static String join(List<String> parts) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) {
                b.append('\t');
            }
            b.append(parts.get(i));
        }
        return b.toString();
    }
}
