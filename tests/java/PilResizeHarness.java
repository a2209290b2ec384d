import com.litetools.core.PilResampler;
import com.litetools.baseline.DoublePreprocessor;
import com.litetools.baseline.DoubleResampler;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Drives PilResampler for tests/test_java_pil_resize.py, one JVM for all jobs (the arguments are a sequence of
 * them), big-endian int files:
 * <ul>
 * <li>{@code resize IMAGES CASES OUT}: IMAGES is a sequence of (int w, int h, w*h ARGB ints); CASES is int n,
 * then n x (image, width, height, filter, window x, y, w, h, tallFirst 0/1); OUT gets each case's window as
 * R, G, B bytes, one case after the other.</li>
 * <li>{@code taps CASES OUT}: CASES is int n, then n x (nIn, nOut, filter, first, count); OUT gets, per output
 * pixel of each case, start, taps and the taps coefficients (ints).</li>
 * <li>{@code refuse}: prints the message of each bad request's IllegalArgumentException, one a line.</li>
 * <li>{@code bench IMAGES FRAMES OUT}: the first image (1920x1080) resized short side 256 and centre-cropped to
 * 224; prints one line of ms per frame for each way (the median of FRAMES frames, after FRAMES to warm up);
 * OUT gets the bicubic crop's bytes.</li>
 * </ul>
 */
public final class PilResizeHarness {
    private PilResizeHarness() {
    }

    public static void main(String[] args) throws IOException {
        for (int a = 0; a < args.length; ) {
            if (args[a].equals("resize")) {
                resize(readImages(args[a + 1]), args[a + 2], args[a + 3]);
                a += 4;
            } else if (args[a].equals("taps")) {
                taps(args[a + 1], args[a + 2]);
                a += 3;
            } else if (args[a].equals("refuse")) {
                refuse();
                a += 1;
            } else if (args[a].equals("bench")) {
                bench(readImages(args[a + 1]).get(0), Integer.parseInt(args[a + 2]), args[a + 3]);
                a += 4;
            } else {
                throw new IllegalArgumentException("unknown job " + args[a]);
            }
        }
    }

    private static DataInputStream in(String path) throws IOException {
        return new DataInputStream(new BufferedInputStream(new FileInputStream(path), 1 << 16));
    }

    private static DataOutputStream out(String path) throws IOException {
        return new DataOutputStream(new BufferedOutputStream(new FileOutputStream(path), 1 << 16));
    }

    /** [w, h, pixels..] per image. */
    private static List<int[]> readImages(String path) throws IOException {
        List<int[]> images = new ArrayList<int[]>();
        try (DataInputStream in = in(path)) {
            while (in.available() > 0) {
                int w = in.readInt();
                int h = in.readInt();
                int[] image = new int[2 + w * h];
                image[0] = w;
                image[1] = h;
                for (int i = 2; i < image.length; i++) {
                    image[i] = in.readInt();
                }
                images.add(image);
            }
        }
        return images;
    }

    private static void resize(List<int[]> images, String cases, String result) throws IOException {
        try (DataInputStream in = in(cases); DataOutputStream out = out(result)) {
            int n = in.readInt();
            for (int c = 0; c < n; c++) {
                int[] image = images.get(in.readInt());
                int width = in.readInt();
                int height = in.readInt();
                int filter = in.readInt();
                int wx = in.readInt();
                int wy = in.readInt();
                int ww = in.readInt();
                int wh = in.readInt();
                boolean tallFirst = in.readInt() != 0;
                PilResampler r = new PilResampler(image[0], image[1], width, height, filter, wx, wy, ww, wh,
                        tallFirst);
                int[] argb = Arrays.copyOfRange(image, 2, image.length);
                out.write(r.resize(argb));
            }
        }
    }

    private static void taps(String cases, String result) throws IOException {
        try (DataInputStream in = in(cases); DataOutputStream out = out(result)) {
            int n = in.readInt();
            for (int c = 0; c < n; c++) {
                int nIn = in.readInt();
                int nOut = in.readInt();
                int filter = in.readInt();
                int first = in.readInt();
                int count = in.readInt();
                PilResampler.AxisTaps t = PilResampler.axisTaps(nIn, nOut, filter, first, count);
                for (int i = 0; i < count; i++) {
                    out.writeInt(t.start(i));
                    out.writeInt(t.taps(i));
                    for (int k = 0; k < t.taps(i); k++) {
                        out.writeInt(t.coefficient(i, k));
                    }
                }
            }
        }
    }

    private static void refuse() {
        int[][] bad = {{4, 4, 8, 8, PilResampler.BICUBIC, 4, 0, 5, 1}, {4, 4, 8, 8, 7, 0, 0, 8, 8},
            {4, 4, 0, 8, PilResampler.BOX, 0, 0, 1, 1}, {4, 4, 8, 8, PilResampler.LANCZOS, 0, 0, 8, 8}};
        for (int[] b : bad) {
            try {
                PilResampler r = new PilResampler(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]);
                r.resize(new int[b[0] * b[1] - 1]);  // one pixel short
                System.out.println("accepted");
            } catch (IllegalArgumentException e) {
                System.out.println(e.getMessage());
            }
        }
    }

    private interface Frame {
        void run();
    }

    private static long sink;

    /** The median ms of `frames` frames, after as many to warm up (a median, as a loaded machine preempts). */
    private static double medianMs(Frame frame, int frames) {
        double[] ms = new double[frames];
        for (int i = -frames; i < frames; i++) {
            long t0 = System.nanoTime();
            frame.run();
            if (i >= 0) {
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
        }
        Arrays.sort(ms);
        return ms[frames / 2];
    }

    private static void bench(int[] image, int frames, String result) throws IOException {
        final int w = image[0];
        final int h = image[1];
        final int[] argb = Arrays.copyOfRange(image, 2, image.length);
        int[] rs = new DoublePreprocessor(true, 256, 0, 0, false, DoubleResampler.BICUBIC, true, 224, 224, 1.0 / 255.0,
                new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225}, false, false).resizedSize(w, h);
        final int rw = rs[0];
        final int rh = rs[1];
        final byte[] rgb = new byte[224 * 224 * 3];
        String[] names = {"bicubic", "bilinear"};
        int[] filters = {PilResampler.BICUBIC, PilResampler.BILINEAR};
        for (int f = 0; f < filters.length; f++) {
            final PilResampler plan = new PilResampler(w, h, rw, rh, filters[f], (rw - 224) / 2, (rh - 224) / 2,
                    224, 224);
            System.out.printf("PilResampler %s %dx%d -> %dx%d crop 224, to uint8 RGB: %.3f ms/frame%n", names[f],
                    w, h, rw, rh, medianMs(new Frame() {
                        public void run() {
                            plan.resize(argb, rgb);
                            sink += rgb[7];
                        }
                    }, frames));
            if (filters[f] == PilResampler.BICUBIC) {
                try (DataOutputStream out = out(result)) {
                    out.write(plan.resize(argb));
                }
            }
        }
        boolean[] antialias = {true, false};
        int[] interps = {DoubleResampler.BICUBIC, DoubleResampler.BILINEAR};
        String[] what = {"bicubic antialias (PIL configs)", "bilinear (cv2 configs)"};
        for (int k = 0; k < interps.length; k++) {
            final DoublePreprocessor pre = new DoublePreprocessor(true, 256, 0, 0, false, interps[k], antialias[k], 224, 224,
                    1.0 / 255.0, new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225}, false, false);
            System.out.printf("Preprocessor (double, today) %s, to the normalised tensor: %.3f ms/frame%n", what[k],
                    medianMs(new Frame() {
                        public void run() {
                            sink += (long) pre.process(argb, w, h).data[7];
                        }
                    }, frames));
        }
        System.out.println("sink " + sink);
    }
}
