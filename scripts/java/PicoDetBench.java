import com.litetools.core.PicoDetPostprocessor;
import com.litetools.core.SsdPostprocessor;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PicoDetPostprocessor (raw heads: decode + host NMS + scaling) on real model outputs, one thread. Args: FORM
 * STRIDES(comma) WIDTH HEIGHT CLASSES NMS_THRESHOLD ROUNDS FILE... where each FILE is what
 * lite_tools/javacheck.write_outputs writes. Each frame is run 200 times to warm the JIT, then ROUNDS times
 * timed; prints per frame "file<TAB>boxes<TAB>median ms<TAB>p90 ms<TAB>rows kept by NMS (any score)".
 */
public final class PicoDetBench {
    public static void main(String[] args) throws IOException {
        String form = args[0];
        String[] parts = args[1].split(",");
        int[] strides = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            strides[i] = Integer.parseInt(parts[i]);
        }
        int width = Integer.parseInt(args[2]);
        int height = Integer.parseInt(args[3]);
        int classes = Integer.parseInt(args[4]);
        double nms = Double.parseDouble(args[5]);
        int rounds = Integer.parseInt(args[6]);
        String[] labels = new String[classes];
        for (int i = 0; i < classes; i++) {
            labels[i] = "c" + i;
        }
        PicoDetPostprocessor post = new PicoDetPostprocessor(form, strides, width, height, classes, 0.4, nms, 1000,
                100, 200, true, labels, 0.5);
        for (int f = 7; f < args.length; f++) {
            List<float[]> tensors = new ArrayList<float[]>();
            List<long[]> shapes = new ArrayList<long[]>();
            int sw;
            int sh;
            try (DataInputStream d = new DataInputStream(new BufferedInputStream(new FileInputStream(args[f])))) {
                sw = d.readInt();
                sh = d.readInt();
                while (d.available() > 0) {
                    long[] dims = new long[d.readInt()];
                    long n = 1;
                    for (int i = 0; i < dims.length; i++) {
                        dims[i] = d.readLong();
                        n *= dims[i];
                    }
                    float[] v = new float[(int) n];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = d.readFloat();
                    }
                    tensors.add(v);
                    shapes.add(dims);
                }
            }
            float[][] outs = tensors.toArray(new float[0][]);
            long[][] dims = shapes.toArray(new long[0][]);
            List<SsdPostprocessor.Box> boxes = null;
            for (int i = 0; i < 200; i++) {
                boxes = post.process(outs, dims, sw, sh);
            }
            double[] ms = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                boxes = post.process(outs, dims, sw, sh);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            PicoDetPostprocessor.Rows rows = post.rows(outs, dims, sw, sh);
            System.out.println(args[f] + "\t" + boxes.size() + "\t" + ms[rounds / 2] + "\t" + ms[rounds * 9 / 10]
                    + "\t" + rows.count);
        }
    }
}
