import com.litetools.core.ExifOrientation;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;

/**
 * tests/test_exif_orientation.py's JVM side. For each CASE argument: reads CASE.img (the file's bytes) and CASE.raw
 * (int w, int h, then w * h ARGB ints, big-endian: the decoder's pixels with no orientation applied), writes CASE.out
 * (int orientation, int w', int h', then the turned ints).
 */
public final class ExifHarness {
    public static void main(String[] args) throws IOException {
        for (String base : args) {
            File img = new File(base + ".img");
            byte[] file = new byte[(int) img.length()];
            DataInputStream bytes = new DataInputStream(new FileInputStream(img));
            try {
                bytes.readFully(file);
            } finally {
                bytes.close();
            }
            int orientation = ExifOrientation.read(file, file.length);
            DataInputStream in = new DataInputStream(new FileInputStream(base + ".raw"));
            int w;
            int h;
            int[] px;
            try {
                w = in.readInt();
                h = in.readInt();
                px = new int[w * h];
                for (int i = 0; i < px.length; i++) {
                    px[i] = in.readInt();
                }
            } finally {
                in.close();
            }
            int[] size = ExifOrientation.orientedSize(w, h, orientation);
            int[] out = ExifOrientation.apply(px, w, h, orientation);
            DataOutputStream o = new DataOutputStream(new FileOutputStream(base + ".out"));
            try {
                o.writeInt(orientation);
                o.writeInt(size[0]);
                o.writeInt(size[1]);
                for (int v : out) {
                    o.writeInt(v);
                }
            } finally {
                o.close();
            }
        }
    }
}
