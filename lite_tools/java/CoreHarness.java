import com.litetools.core.ClassificationPostprocessor;
import com.litetools.core.DeployConstants;
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
import java.util.List;

/**
 * Drives the generated pure-Java core (through the rendered DeployConstants) on files written by the Python tests.
 * For every job file in DIR: image-N.bin (int w, int h, w*h ARGB ints) -> pre-N.bin (6 ints of geometry, then
 * the floats, then 2 floats for each of the model's extra inputs, DeployConstants.INPUT_NAMES[1..]); output-N.bin (int source w, int source h, int rank, long dims.., floats) -> post-N.txt (one
 * result per line: classes "id<TAB>score", boxes "id<TAB>score<TAB>x0<TAB>y0<TAB>x1<TAB>y1"). Big-endian.
 */
public final class CoreHarness {
    public static void main(String[] args) throws IOException {
        File dir = new File(args[0]);
        Preprocessor pre = DeployConstants.newPreprocessor();
        ClassificationPostprocessor cls = DeployConstants.newClassificationPostprocessor();
        SsdPostprocessor ssd = DeployConstants.newSsdPostprocessor();
        File[] files = dir.listFiles();
        java.util.Arrays.sort(files);
        for (File f : files) {
            String name = f.getName();
            if (name.startsWith("image-")) {
                preprocess(pre, f, new File(dir, name.replace("image-", "pre-")));
            } else if (name.startsWith("output-")) {
                postprocess(cls, ssd, f, new File(dir, name.replace("output-", "post-").replace(".bin", ".txt")));
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

    private static void postprocess(ClassificationPostprocessor cls, SsdPostprocessor ssd, File in, File out)
            throws IOException {
        try (DataInputStream d = new DataInputStream(new BufferedInputStream(new FileInputStream(in)));
             PrintWriter o = new PrintWriter(out, "UTF-8")) {
            int sw = d.readInt();
            int sh = d.readInt();
            long[] shape = new long[d.readInt()];
            long n = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = d.readLong();
                n *= shape[i];
            }
            float[] data = new float[(int) n];
            for (int i = 0; i < data.length; i++) {
                data[i] = d.readFloat();
            }
            if (DeployConstants.TASK.equals("ssd")) {
                List<SsdPostprocessor.Box> boxes = ssd.process(data, shape, sw, sh);
                for (SsdPostprocessor.Box b : boxes) {
                    o.println(b.classId + "\t" + b.score + "\t" + b.x0 + "\t" + b.y0 + "\t" + b.x1 + "\t" + b.y1);
                }
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
