import com.litetools.core.Preprocessor;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * Runs the Java core's Preprocessor for tests/test_upstream_machine.py on a PaddleDetection keep_ratio cubic config
 * (800x608, ImageNet mean/std, PaddleDetection's arithmetic) as on one upstream machine. Arguments: input.argb
 * (HxW ARGB ints, big-endian) w h cpu threads l2 output.f32; cpu is Preprocessor.UPSTREAM_*'s value; the output is the
 * tensor's floats, big-endian, after its height and width.
 */
public final class PreprocessorMachineHarness {
    private PreprocessorMachineHarness() {
    }

    public static void main(String[] args) throws IOException {
        int w = Integer.parseInt(args[1]);
        int h = Integer.parseInt(args[2]);
        int[] argb = new int[w * h];
        DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[0])));
        try {
            for (int i = 0; i < argb.length; i++) {
                argb[i] = in.readInt();
            }
        } finally {
            in.close();
        }
        Preprocessor pre = new Preprocessor(false, 0, 800, 608, true, Preprocessor.BICUBIC, false, 0, 0, 1.0 / 255.0,
                new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225}, false, true,
                Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
        Preprocessor.Result r = pre.process(argb, w, h);
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[6])));
        try {
            out.writeInt(r.height);
            out.writeInt(r.width);
            for (float v : r.data) {
                out.writeFloat(v);
            }
        } finally {
            out.close();
        }
    }
}
