import com.litetools.core.Cv2Resampler;
import com.litetools.baseline.DoublePreprocessor;
import com.litetools.baseline.DoubleResampler;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Runs Cv2Resampler for tests/test_java_cv2_resize.py in one JVM. "run JOBS": each line of JOBS is
 * {@code input.rgb srcW srcH width height fx fy interp ipp x y w h output.rgb [threads] [k0] [rgba]} (OpenCV's
 * thread count, 1 when absent; "k0": IPP's AVX-512 code); the input is raw HxWx3 RGB bytes, packed here into ARGB
 * with a varying alpha (which the resampler must ignore); the output is the window's RGB bytes. With "rgba", the
 * input is HxWx4 R, G, B, A bytes and the output the window's four channels (resizeRgba). "bench": ms per
 * 1920x1080 frame (best batch) for resize-short 256 + centre crop 224 and for 300x300 bilinear, warmed, beside
 * today's double-precision Preprocessor.
 */
public final class Cv2ResizeHarness {
    private Cv2ResizeHarness() {
    }

    static int[] readArgb(String path, int w, int h, int channels) throws IOException {
        File file = new File(path);
        if (file.length() != (long) w * h * channels) {
            throw new IOException(path + " holds " + file.length() + " bytes, not " + w + "x" + h + "x" + channels);
        }
        byte[] rgb = new byte[w * h * channels];
        DataInputStream in = new DataInputStream(new FileInputStream(file));
        try {
            in.readFully(rgb);
        } finally {
            in.close();
        }
        int[] argb = new int[w * h];
        for (int i = 0; i < argb.length; i++) {
            int c = channels * i;
            int alpha = channels == 4 ? rgb[c + 3] & 0xff : (i * 37) & 0xff;
            argb[i] = alpha << 24 | (rgb[c] & 0xff) << 16 | (rgb[c + 1] & 0xff) << 8 | (rgb[c + 2] & 0xff);
        }
        return argb;
    }

    static void run(String jobs) throws IOException {
        Map<String, int[]> images = new HashMap<String, int[]>();
        BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream(jobs),
                StandardCharsets.UTF_8));
        try {
            String line;
            while ((line = in.readLine()) != null) {
                String[] f = line.split(" ");
                int srcW = Integer.parseInt(f[1]);
                int srcH = Integer.parseInt(f[2]);
                boolean rgba = false;
                boolean k0 = false;
                int threads = 1;
                for (int i = 14; i < f.length; i++) {
                    if (f[i].equals("rgba")) {
                        rgba = true;
                    } else if (f[i].equals("k0")) {
                        k0 = true;
                    } else {
                        threads = Integer.parseInt(f[i]);
                    }
                }
                String key = f[0] + " " + srcW + " " + srcH;
                int[] argb = images.get(key);
                if (argb == null) {
                    argb = readArgb(f[0], srcW, srcH, rgba ? 4 : 3);
                    images.put(key, argb);
                }
                Cv2Resampler plan = Cv2Resampler.plan(srcW, srcH, Integer.parseInt(f[3]), Integer.parseInt(f[4]),
                        Double.parseDouble(f[5]), Double.parseDouble(f[6]), Integer.parseInt(f[7]),
                        f[8].equals("1"), Integer.parseInt(f[9]), Integer.parseInt(f[10]), Integer.parseInt(f[11]),
                        Integer.parseInt(f[12]), threads, 1 << 18, k0);
                OutputStream out = new FileOutputStream(f[13]);
                try {
                    out.write(rgba ? plan.resizeRgba(argb) : plan.resize(argb));
                } finally {
                    out.close();
                }
            }
        } finally {
            in.close();
        }
    }

    /**
     * The fastest of the batches' mean ms per run, after warmup runs: the machine running the tests is shared,
     * and the minimum over batches is the figure least moved by other processes.
     */
    static double bestMs(Runnable r, int warmup, int batches, int perBatch) {
        for (int i = 0; i < warmup; i++) {
            r.run();
        }
        double best = Double.MAX_VALUE;
        for (int b = 0; b < batches; b++) {
            long start = System.nanoTime();
            for (int i = 0; i < perBatch; i++) {
                r.run();
            }
            best = Math.min(best, (System.nanoTime() - start) / 1e6 / perBatch);
        }
        return best;
    }

    /**
     * PaddleClas's NormalizeImage + ToCHW in float32, (v * scale - mean) / std, on the resampler's bytes: a value
     * depends only on (v, channel), so a 3 x 256 table of the float32 results gives the same floats, bit for bit,
     * without a division per element.
     */
    static float[][] normaliseTable(float scale, float[] mean, float[] std) {
        float[][] table = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                table[c][v] = (v * scale - mean[c]) / std[c];
            }
        }
        return table;
    }

    static void normalise(byte[] rgb, int n, float[][] table, float[] out) {
        for (int c = 0; c < 3; c++) {
            float[] t = table[c];
            for (int i = 0, o = c * n; i < n; i++, o++) {
                out[o] = t[rgb[3 * i + c] & 0xff];
            }
        }
    }

    /** One bench line: a plan of the 1920x1080 frame beside today's Preprocessor for the same sizes. */
    static void benchCase(String what, final int[] frame, final Cv2Resampler plan, final DoublePreprocessor today) {
        final int n = plan.windowWidth() * plan.windowHeight();
        final float[][] table = normaliseTable(0.00392157f, new float[] {0.485f, 0.456f, 0.406f},
                new float[] {0.229f, 0.224f, 0.225f});
        final byte[] rgb = new byte[3 * n];
        final float[] tensor = new float[3 * n];
        Runnable resizeOnly = new Runnable() {
            @Override
            public void run() {
                plan.resize(frame, rgb, 0);
            }
        };
        Runnable withNormalise = new Runnable() {
            @Override
            public void run() {
                plan.resize(frame, rgb, 0);
                normalise(rgb, n, table, tensor);
            }
        };
        Runnable baseline = new Runnable() {
            @Override
            public void run() {
                today.process(frame, 1920, 1080);
            }
        };
        double a = bestMs(resizeOnly, 200, 10, 20);
        double b = bestMs(withNormalise, 200, 10, 20);
        double c = bestMs(baseline, 200, 10, 20);
        System.out.printf("1920x1080 -> %s bilinear, ms/frame: Cv2Resampler %.3f, + float32 normalise (table) %.3f, "
                + "today's double Preprocessor %.3f%n", what, a, b, c);
    }

    static void bench() {
        int[] frame = new int[1920 * 1080];
        Random rng = new Random(7);
        for (int i = 0; i < frame.length; i++) {
            frame[i] = 0xff000000 | rng.nextInt(0x1000000);
        }
        double[] mean = {0.485, 0.456, 0.406};
        double[] std = {0.229, 0.224, 0.225};
        int rw = (int) Math.rint(1920 * (256.0 / 1080));
        benchCase("short 256 + crop 224", frame, Cv2Resampler.plan(1920, 1080, rw, 256, 0, 0,
                Cv2Resampler.INTER_LINEAR, true, (rw - 224) / 2, (256 - 224) / 2, 224, 224),
                new DoublePreprocessor(true, 256, 0, 0, false, DoubleResampler.BILINEAR, false, 224, 224, 1.0 / 255.0, mean, std,
                        false, false));
        benchCase("300x300", frame, Cv2Resampler.plan(1920, 1080, 300, 300, 0, 0, Cv2Resampler.INTER_LINEAR, true,
                0, 0, 300, 300), new DoublePreprocessor(false, 0, 300, 300, false, DoubleResampler.BILINEAR, false, 0, 0,
                1.0 / 255.0, mean, std, false, false));
    }

    public static void main(String[] args) throws IOException {
        if (args[0].equals("run")) {
            run(args[1]);
        } else {
            bench();
        }
    }
}
