package com.litetools.core;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * Test-only (tests/test_java_fma.py): float32 triples (x, y, z) in, little-endian, two results each out: the core's
 * fma emulation (API 23 has no Math.fma) and Math.fma, the JDK's correctly rounded fused multiply-add. In the
 * core's package (fma32 is package-private); compiled against the JDK, not android.jar (Math.fma is the other side).
 */
public final class FmaHarness {
    public static void main(String[] args) throws IOException {
        FloatBuffer in = ByteBuffer.wrap(Files.readAllBytes(Paths.get(args[0])))
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        int n = in.remaining() / 3;
        ByteBuffer out = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            float x = in.get(), y = in.get(), z = in.get();
            out.putFloat(Cv2Resampler.fma32(x, y, z));
            out.putFloat(Math.fma(x, y, z));
        }
        Files.write(Paths.get(args[1]), out.array());
    }
}
