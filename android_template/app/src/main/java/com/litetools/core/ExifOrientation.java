package com.litetools.core;

/**
 * The EXIF orientation of a JPEG or PNG file, read from its bytes where OpenCV's imread reads it, and the pixel
 * permutation it asks for: what cv2.imread (PaddleClas's decoder) and the Python reference (reference/exif.py)
 * apply before anything else, so the phone must too. Android's BitmapFactory ignores the tag, and API 23's
 * ExifInterface reads files only; this reads the file's bytes and needs no AndroidX. The permutation moves whole
 * pixels (no filtering), so the oriented image is exactly the decoder's pixels, turned.
 *
 * Where the tag is read: JPEG, the first APP1 segment only, if it starts "Exif\0\0" (an XMP APP1 before it hides
 * it from OpenCV), before the first SOS; PNG, the eXIf chunk before or after the image data (give the whole file).
 * Then the TIFF header (II or MM byte order, 42), IFD0, tag 0x0112 of type SHORT, count 1. Anything missing,
 * damaged or out of range reads as 1 (normal), as OpenCV then applies nothing.
 */
public final class ExifOrientation {
    public static final int NORMAL = 1;
    private static final int TAG_ORIENTATION = 0x0112;
    private static final int TYPE_SHORT = 3;
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private ExifOrientation() {
    }

    /** The orientation (1..8) of the file whose first `length` bytes are in `data` (a JPEG's first 64 KB, a
     * PNG's whole file); 1 when it has none. */
    public static int read(byte[] data, int length) {
        int n = Math.min(length, data.length);
        try {
            if (n >= 4 && (data[0] & 0xff) == 0xff && (data[1] & 0xff) == 0xd8) {
                return fromJpeg(data, n);
            }
            if (n >= 8 && startsWith(data, PNG_SIGNATURE)) {
                return fromPng(data, n);
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            return NORMAL;  // a truncated or lying segment: unreadable metadata means no orientation
        }
        return NORMAL;
    }

    private static int fromJpeg(byte[] d, int n) {
        int at = 2;
        while (at + 4 <= n) {
            if ((d[at] & 0xff) != 0xff) {
                return NORMAL;
            }
            int marker = d[at + 1] & 0xff;
            if (marker == 0xff) {  // fill byte
                at++;
                continue;
            }
            if (marker == 0xda || marker == 0xd9) {  // start of scan, end of image: no metadata after
                return NORMAL;
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {  // markers without a length
                at += 2;
                continue;
            }
            int length = u16(d, at + 2, true);
            if (length < 2) {
                return NORMAL;
            }
            int body = at + 4;
            if (marker == 0xe1) {  // the first APP1 decides, Exif or not
                if (length >= 8 && body + 6 <= n && d[body] == 'E' && d[body + 1] == 'x' && d[body + 2] == 'i'
                        && d[body + 3] == 'f' && d[body + 4] == 0 && d[body + 5] == 0) {
                    return fromTiff(d, body + 6, Math.min(n, at + 2 + length));
                }
                return NORMAL;
            }
            at += 2 + length;
        }
        return NORMAL;
    }

    private static int fromPng(byte[] d, int n) {
        int at = 8;
        while (at + 12 <= n) {
            long length = u32(d, at, true);
            if (length > n - at - 12) {
                return NORMAL;
            }
            int type = (int) u32(d, at + 4, true);
            if (type == 0x65584966) {  // "eXIf"
                return fromTiff(d, at + 8, at + 8 + (int) length);
            }
            if (type == 0x49454e44) {  // "IEND"
                return NORMAL;
            }
            at += 12 + (int) length;
        }
        return NORMAL;
    }

    /** Orientation from TIFF data at d[start .. end). */
    private static int fromTiff(byte[] d, int start, int end) {
        if (end - start < 8) {
            return NORMAL;
        }
        boolean big;
        if (d[start] == 'M' && d[start + 1] == 'M') {
            big = true;
        } else if (d[start] == 'I' && d[start + 1] == 'I') {
            big = false;
        } else {
            return NORMAL;
        }
        if (u16(d, start + 2, big) != 42) {
            return NORMAL;
        }
        long ifd = u32(d, start + 4, big);
        if (ifd < 8 || ifd > end - start - 2) {
            return NORMAL;
        }
        int at = start + (int) ifd;
        int entries = u16(d, at, big);
        at += 2;
        for (int i = 0; i < entries && at + 12 <= end; i++, at += 12) {
            if (u16(d, at, big) == TAG_ORIENTATION) {
                if (u16(d, at + 2, big) != TYPE_SHORT || u32(d, at + 4, big) != 1) {
                    return NORMAL;
                }
                int value = u16(d, at + 8, big);
                return value >= 1 && value <= 8 ? value : NORMAL;
            }
        }
        return NORMAL;
    }

    /** (width, height) after applying `orientation` to a w x h image. */
    public static int[] orientedSize(int w, int h, int orientation) {
        return orientation >= 5 && orientation <= 8 ? new int[] {h, w} : new int[] {w, h};
    }

    /**
     * The w x h pixels (row-major, any int per pixel, e.g. Bitmap.getPixels' ARGB) turned as EXIF `orientation`
     * says, as a new array of orientedSize(w, h, orientation); orientation 1 (or unknown) returns `pixels` itself.
     * Output pixel (x, y) of the W' x H' result is the source pixel at:
     * 2 (w-1-x, y), 3 (w-1-x, h-1-y), 4 (x, h-1-y), 5 (y, x), 6 (y, h-1-x), 7 (w-1-y, h-1-x), 8 (w-1-y, x).
     */
    public static int[] apply(int[] pixels, int w, int h, int orientation) {
        if (orientation < 2 || orientation > 8) {
            return pixels;
        }
        int[] size = orientedSize(w, h, orientation);
        int ow = size[0];
        int oh = size[1];
        int[] out = new int[ow * oh];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int sx;
                int sy;
                switch (orientation) {
                    case 2: sx = w - 1 - x; sy = y; break;
                    case 3: sx = w - 1 - x; sy = h - 1 - y; break;
                    case 4: sx = x; sy = h - 1 - y; break;
                    case 5: sx = y; sy = x; break;
                    case 6: sx = y; sy = h - 1 - x; break;
                    case 7: sx = w - 1 - y; sy = h - 1 - x; break;
                    default: sx = w - 1 - y; sy = x; break;  // 8
                }
                out[y * ow + x] = pixels[sy * w + sx];
            }
        }
        return out;
    }

    private static boolean startsWith(byte[] d, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (d[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int u16(byte[] d, int at, boolean big) {
        int a = d[at] & 0xff;
        int b = d[at + 1] & 0xff;
        return big ? (a << 8) | b : (b << 8) | a;
    }

    private static long u32(byte[] d, int at, boolean big) {
        long v = 0;
        for (int i = 0; i < 4; i++) {
            int b = d[at + (big ? i : 3 - i)] & 0xff;
            v = (v << 8) | b;
        }
        return v;
    }
}
