import com.litetools.core.ClassificationPostprocessor;
import com.litetools.core.DeployConstants;
import com.litetools.core.EmbeddingPostprocessor;
import com.litetools.core.MultiLabelPostprocessor;
import com.litetools.core.PicoDetPostprocessor;
import com.litetools.core.Preprocessor;
import com.litetools.core.SsdPostprocessor;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives the generated pure-Java core (through the rendered DeployConstants) on files written by the Python tests.
 * For every job file in DIR: image-N.bin (int w, int h, w*h ARGB ints) -> pre-N.bin (6 ints of geometry, then
 * the floats, then 2 floats for each of the model's extra inputs, DeployConstants.INPUT_NAMES[1..]);
 * output-N.bin (int source w, int source h, then each of the model's outputs in order as int rank, long dims..,
 * floats; all but PicoDet's raw/decoded forms read the first) -> post-N.txt (one result per line:
 * classes "id<TAB>score", boxes "id<TAB>score<TAB>x0<TAB>y0<TAB>x1<TAB>y1"; multilabel five lines "decisions",
 * "text", "output", "class_ids", "scores", each the name then one TAB-separated field per item, a backslash, TAB
 * and newline in an item escaped as \\, \t and \n; embedding one line, the L2-normalised vector
 * TAB-separated). Big-endian; scores are written with Double.toString, which
 * reads back as the same double.
 */
public final class CoreHarness {
    public static void main(String[] args) throws IOException {
        File dir = new File(args[0]);
        Preprocessor pre = DeployConstants.newPreprocessor();
        ClassificationPostprocessor cls = DeployConstants.newClassificationPostprocessor();
        SsdPostprocessor ssd = DeployConstants.newSsdPostprocessor();
        boolean hostNms = DeployConstants.DET_FORM.equals("raw") || DeployConstants.DET_FORM.equals("decoded");
        PicoDetPostprocessor pico = hostNms ? DeployConstants.newPicoDetPostprocessor() : null;
        MultiLabelPostprocessor multi = DeployConstants.TASK.equals("multilabel")
                ? DeployConstants.newMultiLabelPostprocessor() : null;
        File[] files = dir.listFiles();
        java.util.Arrays.sort(files);
        for (File f : files) {
            String name = f.getName();
            if (name.startsWith("image-")) {
                preprocess(pre, f, new File(dir, name.replace("image-", "pre-")));
            } else if (name.startsWith("output-")) {
                postprocess(cls, ssd, pico, multi, f,
                        new File(dir, name.replace("output-", "post-").replace(".bin", ".txt")));
            }
        }
    }

    private static void preprocess(Preprocessor pre, File in, File out) throws IOException {
        try (DataInputStream d = new DataInputStream(new BufferedInputStream(new FileInputStream(in)));
             DataOutputStream o = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(out)))) {
            int w = d.readInt();
            int h = d.readInt();
            int[] argb = new int[w * h];
            for (int i = 0; i < argb.length; i++) {
                argb[i] = d.readInt();
            }
            Preprocessor.Result r = pre.process(argb, w, h);
            int[] geometry = {r.width, r.height, r.resizedWidth, r.resizedHeight, r.cropX, r.cropY};
            for (int g : geometry) {
                o.writeInt(g);
            }
            for (float v : r.data) {
                o.writeFloat(v);
            }
            for (int i = 1; i < DeployConstants.INPUT_NAMES.length; i++) {
                float[] extra = r.extraInput(DeployConstants.INPUT_NAMES[i]);
                o.writeFloat(extra == null ? Float.NaN : extra[0]);
                o.writeFloat(extra == null ? Float.NaN : extra[1]);
            }
        }
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }

    static void field(PrintWriter o, String name, List<String> items) {
        o.print(name);
        for (String item : items) {
            o.print('\t');
            o.print(escape(item));
        }
        o.print('\n');
    }

    /** The multilabel lines (see the class comment); tests/java/PostprocessRows.java writes them too. */
    static void writeAttributes(PrintWriter o, MultiLabelPostprocessor.Attributes a) {
        field(o, "decisions", a.decisions);
        field(o, "text", a.text);
        List<String> output = new ArrayList<String>();
        for (int v : a.output) {
            output.add(Integer.toString(v));
        }
        field(o, "output", output);
        List<String> ids = new ArrayList<String>();
        for (int v : a.classIds) {
            ids.add(Integer.toString(v));
        }
        field(o, "class_ids", ids);
        List<String> scores = new ArrayList<String>();
        for (float v : a.scores) {
            scores.add(Double.toString(v));
        }
        field(o, "scores", scores);
    }

    private static void postprocess(ClassificationPostprocessor cls, SsdPostprocessor ssd, PicoDetPostprocessor pico,
                                    MultiLabelPostprocessor multi, File in, File out) throws IOException {
        try (DataInputStream d = new DataInputStream(new BufferedInputStream(new FileInputStream(in)));
             PrintWriter o = new PrintWriter(out, "UTF-8")) {
            int sw = d.readInt();
            int sh = d.readInt();
            List<long[]> shapes = new ArrayList<long[]>();
            List<float[]> tensors = new ArrayList<float[]>();
            while (d.available() > 0) {
                long[] dims = new long[d.readInt()];
                long numel = 1;
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = d.readLong();
                    numel *= dims[i];
                }
                float[] values = new float[(int) numel];
                for (int i = 0; i < values.length; i++) {
                    values[i] = d.readFloat();
                }
                shapes.add(dims);
                tensors.add(values);
            }
            long[] shape = shapes.get(0);
            float[] data = tensors.get(0);
            if (pico != null) {
                List<SsdPostprocessor.Box> boxes = pico.process(tensors.toArray(new float[0][]),
                        shapes.toArray(new long[0][]), sw, sh);
                for (SsdPostprocessor.Box b : boxes) {
                    o.println(b.classId + "\t" + b.score + "\t" + b.x0 + "\t" + b.y0 + "\t" + b.x1 + "\t" + b.y1);
                }
            } else if (DeployConstants.TASK.equals("ssd") || DeployConstants.TASK.equals("picodet")) {
                List<SsdPostprocessor.Box> boxes = ssd.process(data, shape, sw, sh);
                for (SsdPostprocessor.Box b : boxes) {
                    o.println(b.classId + "\t" + b.score + "\t" + b.x0 + "\t" + b.y0 + "\t" + b.x1 + "\t" + b.y1);
                }
            } else if (multi != null) {
                writeAttributes(o, multi.process(data));
            } else if (DeployConstants.TASK.equals("embedding")) {
                double[] v = EmbeddingPostprocessor.normalise(data);
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < v.length; i++) {
                    line.append(i == 0 ? "" : "\t").append(Double.toString(v[i]));
                }
                o.println(line);
            } else if (DeployConstants.TASK.equals("binary")) {
                ClassificationPostprocessor.ClassScore c = cls.binary(data);
                o.println(c.classId + "\t" + c.score);
            } else {
                for (ClassificationPostprocessor.ClassScore c : cls.topK(data)) {
                    o.println(c.classId + "\t" + c.score);
                }
            }
        }
    }
}
