package com.litetools.core;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * Exact top-k search by inner product over a lite-tools gallery index (lite_tools/shitu/index.py has the format
 * and the arithmetic), read from a ByteBuffer: a memory-mapped file or APK asset (stored uncompressed). float32
 * rows are read in place, so they never enter the Java heap; int8 rows (a quarter the size: 51 MB of heap for
 * 100k x 512) are copied once, when the index is opened, into int[] tiles that every search reads as they are (the
 * JIT vectorises loops over arrays, not over a ByteBuffer, so the mapped path copied every row each search; JDK 17,
 * 2-core EPYC under load, 100k x 512, CPU time per search: fastest 8.2 ms and median 14.9 copying 1 KB at a time
 * out of the mapping, 6.8 and 10.4 reading one int[] row by row; the tiles, see Int8Rows: 4.4 and 5.8; 10k: 0.85
 * and 1.57, 0.63 and 0.94, 0.30 and 0.46). Scores are the same numbers the Python reference computes: float32 files
 * with 8 float accumulators in a fixed order, int8 files as an exact integer dot product with the query scaled to
 * integers; ties go to the lower id. One search at a time per instance (calls are serialised).
 */
public final class EmbeddingSearcher {
    public static final int HEADER_BYTES = 192;
    public static final int VERSION = 1;
    public static final int FLOAT32 = 1;
    public static final int INT8 = 2;
    public static final int METRIC_INNER_PRODUCT = 1;
    static final int LANES = 8;
    static final int HEAD_FIELDS_BYTES = 156;
    private static final byte[] MAGIC = {'L', 'T', 'G', 'A', 'L', 'L', 'R', 'Y'};
    /** float32 rows are copied out of the mapping a chunk at a time. A gallery that stays in the last-level cache
     * between queries is copied in 32 KB chunks (few calls, each chunk stays in L1/L2); a bigger one streams from
     * DRAM each query, and copies of 1 KB interleaved with the dot products keep the hardware prefetcher running
     * ahead of the loop (measured when int8 rows took this path too, fastest of 200 queries: 100k x 512 int8 about
     * 9.8 ms with 32 KB copies, 8.0 ms with 1 KB; 10k about 0.8 and 1.0). */
    private static final int CACHED_CHUNK_BYTES = 1 << 15;
    private static final int STREAMED_CHUNK_BYTES = 1 << 10;
    private static final long CACHED_BYTES = 8L << 20;
    /** Rows per int8 tile (one tile: one 4-code word of each of these rows). 128 rows measured 15% slower (the
     * inner loop's set-up is paid per tile), 512 the same as 256; the last tile is padded with rows never offered. */
    static final int TILE_ROWS = 256;
    /** XORed into every 4-code word at open: each byte c (-128..127) becomes c + 128 (0..255), see Int8Rows. */
    static final int UNSIGNED_BYTES = 0x80808080;

    /** The file is not a usable gallery index; the message names it and says what is wrong. */
    public static final class IndexFormatException extends IOException {
        private static final long serialVersionUID = 1L;

        public IndexFormatException(String message) {
            super(message);
        }
    }

    /** One result: the gallery entry's id (PaddleClas's id map key), its score (about the cosine), where it is. */
    public static final class Hit {
        public final long id;
        public final double score;
        public final int position;
        public final String label;
        public final String path;

        Hit(long id, double score, int position, String label, String path) {
            this.id = id;
            this.score = score;
            this.position = position;
            this.label = label;
            this.path = path;
        }
    }

    public final String name;
    public final int dim;
    public final int stride;
    public final int count;
    public final int element;
    /** sha256 (hex) of the rec export's .pdiparams and of its ARM .nb: the model these vectors belong to. */
    public final String paramsSha256;
    public final String nbSha256;

    private final ByteBuffer file;
    private final FloatBuffer floats;
    /** int8 rows, 4 codes an int (byte k of word j of a row is dimension 4j + k, the file's bytes read
     * little-endian), each byte XOR 0x80 (UNSIGNED_BYTES), in tiles: tiles[t * words + j][r] is word j of row
     * t * TILE_ROWS + r. */
    private final int[][] tiles;
    private final float[] scales;
    private final int idsOffset;
    private final int labelsOffset;
    private final int labelsBytes;
    private final int bodyCrc;
    private String[] labels;
    private String[] paths;
    private float[] floatChunk;
    private final int rowsPerChunk;

    private EmbeddingSearcher(ByteBuffer file, String name) throws IndexFormatException {
        this.name = name;
        this.file = file;
        if (file.capacity() < HEADER_BYTES) {
            throw bad("not a lite-tools gallery index (" + file.capacity() + " bytes, no header)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (file.get(i) != MAGIC[i]) {
                throw bad("not a lite-tools gallery index (no LTGALLRY header)");
            }
        }
        int version = file.getInt(8);
        if (version != VERSION) {
            throw bad("index format version " + version + ", this app reads version " + VERSION);
        }
        byte[] head = new byte[HEAD_FIELDS_BYTES];
        copy(file, 0, head, HEAD_FIELDS_BYTES);
        CRC32 crc = new CRC32();
        crc.update(head, 0, head.length);
        if ((int) crc.getValue() != file.getInt(HEAD_FIELDS_BYTES)) {
            throw bad("header checksum mismatch (the file is damaged)");
        }
        int headerBytes = file.getInt(12);
        dim = file.getInt(16);
        stride = file.getInt(20);
        count = file.getInt(24);
        int metric = file.getInt(28);
        element = file.getInt(32);
        if (headerBytes != HEADER_BYTES || metric != METRIC_INNER_PRODUCT || (element != FLOAT32 && element != INT8)) {
            throw bad("unsupported header (header bytes " + headerBytes + ", metric " + metric + ", element "
                    + element + ")");
        }
        paramsSha256 = hex(file, 40);
        nbSha256 = hex(file, 72);
        long scalesOffset = file.getLong(104);
        long vectorsOffset = file.getLong(112);
        long ids = file.getLong(120);
        long labelsAt = file.getLong(128);
        long labelsLength = file.getLong(136);
        long total = file.getLong(144);
        bodyCrc = file.getInt(152);
        if (total != file.capacity()) {
            throw bad("holds " + file.capacity() + " bytes, its header says " + total
                    + " (truncated or extended copy)");
        }
        if (dim < 1 || count < 0 || stride != (dim + LANES - 1) / LANES * LANES) {
            throw bad("dimension " + dim + " with row stride " + stride + " and count " + count);
        }
        int width = element == FLOAT32 ? 4 : 1;
        if (!inside(vectorsOffset, (long) count * stride * width, total) || !inside(ids, (long) count * 8, total)
                || !inside(labelsAt, labelsLength, total)
                || (element == INT8 && !inside(scalesOffset, (long) dim * 4, total))) {
            throw bad("section offsets outside the file");
        }
        idsOffset = (int) ids;
        labelsOffset = (int) labelsAt;
        labelsBytes = (int) labelsLength;
        ByteBuffer rows = slice(file, (int) vectorsOffset, count * stride * width);
        int chunkBytes = (long) count * stride * width > CACHED_BYTES ? STREAMED_CHUNK_BYTES : CACHED_CHUNK_BYTES;
        rowsPerChunk = element == INT8 ? Math.max(1, count) : Math.max(1, chunkBytes / (stride * width));
        if (element == FLOAT32) {
            floats = rows.asFloatBuffer();
            tiles = null;
            scales = null;
        } else {
            tiles = int8Tiles(rows.asIntBuffer(), count, stride / 4);
            floats = null;
            scales = new float[dim];
            for (int d = 0; d < dim; d++) {
                scales[d] = file.getFloat((int) scalesOffset + 4 * d);
                if (!(scales[d] >= 0f) || Float.isInfinite(scales[d])) {
                    throw bad("int8 scales are not finite and non-negative");
                }
            }
        }
    }

    /** The int8 rows of `rows` (count rows of `words` ints) as tiles (see the tiles field), copied a tile group
     * (TILE_ROWS rows) at a time and allocated in the order scoreTile reads them (100k x 512: ~35 ms of CPU once
     * the JIT has compiled this, ~90 ms the first time; one row at a time into preallocated tiles took ~50/~125). */
    private static int[][] int8Tiles(java.nio.IntBuffer rows, int count, int words) {
        int groups = (count + TILE_ROWS - 1) / TILE_ROWS;
        int[][] tiles = new int[groups * words][];
        int[] group = new int[TILE_ROWS * words];
        for (int g = 0; g < groups; g++) {
            int n = Math.min(TILE_ROWS, count - g * TILE_ROWS);
            rows.get(group, 0, n * words);
            for (int j = 0; j < words; j++) {
                int[] tile = new int[TILE_ROWS];
                for (int r = 0, at = j; r < n; r++, at += words) {
                    tile[r] = group[at] ^ UNSIGNED_BYTES;
                }
                tiles[g * words + j] = tile;
            }
        }
        return tiles;
    }

    /** A searcher over `buffer` holding a whole index file (its position and limit are ignored). */
    public static EmbeddingSearcher open(ByteBuffer buffer, String name) throws IndexFormatException {
        ByteBuffer whole = buffer.duplicate();
        whole.clear();
        return new EmbeddingSearcher(whole.slice().order(ByteOrder.LITTLE_ENDIAN), name);
    }

    /** Map `length` bytes from `offset` of a channel: for an APK asset, AssetFileDescriptor's getStartOffset() and
     * getLength() on its createInputStream().getChannel(). The mapping outlives the channel. */
    public static EmbeddingSearcher map(FileChannel channel, long offset, long length, String name) throws IOException {
        if (length > Integer.MAX_VALUE) {
            throw new IndexFormatException(name + ": " + length + " bytes, more than one mapping can hold (2 GB)");
        }
        return open(channel.map(FileChannel.MapMode.READ_ONLY, offset, length), name);
    }

    public static EmbeddingSearcher map(File file) throws IOException {
        RandomAccessFile raf = new RandomAccessFile(file, "r");
        try {
            FileChannel channel = raf.getChannel();
            return map(channel, 0, channel.size(), file.getPath());
        } finally {
            raf.close();
        }
    }

    /** Check the body's CRC-32 (reads the whole file once: ~0.1 s per 100 MB on a phone). */
    public void verify() throws IndexFormatException {
        CRC32 crc = new CRC32();
        byte[] chunk = new byte[1 << 16];
        ByteBuffer view = file.duplicate();
        view.clear();
        view.position(HEADER_BYTES);
        while (view.hasRemaining()) {
            int n = Math.min(chunk.length, view.remaining());
            view.get(chunk, 0, n);
            crc.update(chunk, 0, n);
        }
        if ((int) crc.getValue() != bodyCrc) {
            throw bad("checksum mismatch (the file is damaged)");
        }
    }

    /** Refuse vectors made with another rec model than the one this app runs, naming both. */
    public void requireModel(String appParamsSha256, String appNbSha256) throws IndexFormatException {
        if (!paramsSha256.equals(appParamsSha256) || !nbSha256.equals(appNbSha256)) {
            throw bad("was built with the rec model whose params sha256 is " + paramsSha256 + " (.nb " + nbSha256
                    + "), but this app runs params " + appParamsSha256 + " (.nb " + appNbSha256
                    + "): rebuild the gallery with this model");
        }
    }

    public long id(int position) {
        return file.getLong(idsOffset + 8 * position);
    }

    public synchronized String label(int position) {
        loadLabels();
        return labels[position];
    }

    public synchronized String path(int position) {
        loadLabels();
        return paths[position];
    }

    /** The stored vector at `position` (int8 files: codes times scales, what the int8 search approximates). */
    public float[] vector(int position) {
        float[] v = new float[dim];
        if (element == FLOAT32) {
            FloatBuffer view = floats.duplicate();
            view.position(position * stride);
            view.get(v, 0, dim);
        } else {
            int base = vectorsBase() + position * stride;
            for (int d = 0; d < dim; d++) {
                v[d] = (float) ((double) file.get(base + d) * (double) scales[d]);
            }
        }
        return v;
    }

    private int vectorsBase() {
        return (int) file.getLong(112);
    }

    /** The k best entries for an L2-normalised `query` (dim floats), best first, ties by the lower id. */
    public synchronized List<Hit> search(float[] query, int k) {
        if (query.length != dim) {
            throw new IllegalArgumentException("query has " + query.length + " values, " + name + " holds " + dim
                    + "-d vectors");
        }
        for (float v : query) {
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                throw new IllegalArgumentException("query holds NaN or infinity");
            }
        }
        TopK top = new TopK(Math.max(0, Math.min(k, count)));
        if (top.k == 0) {
            return new ArrayList<Hit>();
        }
        Rows rows = element == FLOAT32 ? new FloatRows(query) : new Int8Rows(query);
        scan(rows, top);
        List<Hit> hits = new ArrayList<Hit>(top.size);
        loadLabels();
        for (int i = 0; i < top.size; i++) {
            int p = top.positions[i];
            hits.add(new Hit(top.ids[i], top.scores[i] / rows.scale, p, labels[p], paths[p]));
        }
        return hits;
    }

    private void scan(Rows rows, TopK top) {
        for (int start = 0; start < count; start += rowsPerChunk) {
            int n = Math.min(rowsPerChunk, count - start);
            rows.offer(start, n, top);
        }
    }

    /** One search's query against the rows, a chunk at a time: offer(start, n, top) offers the scores of rows
     * [start, start + n) to top (float32: copied out of the mapping first); scores / scale are the scores reported. */
    private abstract static class Rows {
        double scale = 1.0;

        abstract void offer(int start, int n, TopK top);
    }

    private final class FloatRows extends Rows {
        private final float[] q = new float[stride];
        private final float[] chunk;
        private final FloatBuffer view = floats.duplicate();

        FloatRows(float[] query) {
            System.arraycopy(query, 0, q, 0, dim);
            if (floatChunk == null) {
                floatChunk = new float[rowsPerChunk * stride];
            }
            chunk = floatChunk;
        }

        void offer(int start, int n, TopK top) {
            float[] v = chunk, x = q;
            int w = stride;
            view.position(start * w);
            view.get(v, 0, n * w);
            for (int r = 0; r < n; r++) {
                top.offer(dot(v, r * w, x, w), start + r, EmbeddingSearcher.this);
            }
        }
    }

    /** int8 scores a tile at a time: scoreTile gives the integer scores of TILE_ROWS rows at once, one word of every
     * row per pass, so each query value is loaded once per tile instead of once per row, and the rows' sums stay in
     * an int[] (C2 of JDK 17 sums a dot product within a row with a horizontal add per vector, which cost more than
     * the multiplies; a loop over a tile's rows has none). */
    private final class Int8Rows extends Rows {
        private final int words = stride / 4;
        private final int[] q0 = new int[words], q1 = new int[words], q2 = new int[words], q3 = new int[words];
        private final int bias;
        private final int[] scores = new int[TILE_ROWS];

        Int8Rows(float[] query) {
            int[] big = new int[stride];
            scale = int8Query(query, scales, stride, big);
            int sum = 0;
            for (int j = 0; j < words; j++) {
                q0[j] = big[4 * j];
                q1[j] = big[4 * j + 1];
                q2[j] = big[4 * j + 2];
                q3[j] = big[4 * j + 3];
                sum += q0[j] + q1[j] + q2[j] + q3[j];
            }
            bias = -128 * sum;
        }

        void offer(int start, int n, TopK top) {  // start is 0: int8 files are one chunk (rowsPerChunk)
            for (int first = start; first < start + n; first += TILE_ROWS) {
                scoreTile(tiles, first / TILE_ROWS * words, words, q0, q1, q2, q3, bias, scores);
                int rows = Math.min(TILE_ROWS, start + n - first);
                for (int r = 0; r < rows; r++) {
                    top.offer(scores[r], first + r, EmbeddingSearcher.this);
                }
            }
        }
    }

    /** The 8-lane float sum of index.py's float32_scores, in the same order. */
    static float dot(float[] v, int off, float[] q, int n) {
        float a0 = 0f, a1 = 0f, a2 = 0f, a3 = 0f, a4 = 0f, a5 = 0f, a6 = 0f, a7 = 0f;
        for (int j = 0; j < n; j += LANES) {
            int b = off + j;
            a0 += v[b] * q[j];
            a1 += v[b + 1] * q[j + 1];
            a2 += v[b + 2] * q[j + 2];
            a3 += v[b + 3] * q[j + 3];
            a4 += v[b + 4] * q[j + 4];
            a5 += v[b + 5] * q[j + 5];
            a6 += v[b + 6] * q[j + 6];
            a7 += v[b + 7] * q[j + 7];
        }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    }

    /** The query as integers (index.py int8_query); returns K, the factor from integer scores to scores. */
    static double int8Query(float[] query, float[] scales, int stride, int[] out) {
        int dim = scales.length;
        double[] w = new double[dim];
        double peak = 0.0;
        for (int d = 0; d < dim; d++) {
            w[d] = (double) query[d] * (double) scales[d];
            peak = Math.max(peak, Math.abs(w[d]));
        }
        java.util.Arrays.fill(out, 0);
        if (peak == 0.0) {
            return 1.0;
        }
        int limit = qmax(stride);
        double k = limit / peak;
        for (int d = 0; d < dim; d++) {
            double v = Math.rint(w[d] * k);
            out[d] = (int) Math.max(-limit, Math.min(limit, v));
        }
        return k;
    }

    static int qmax(int stride) {
        return (int) Math.min(32767L, (long) Integer.MAX_VALUE / (128L * stride));  // any byte, -128 too
    }

    /** out[r] = the exact integer dot product of row r of the tile group starting at tiles[first] with the integer
     * query (q0[j], q1[j], q2[j], q3[j] go with bytes 0..3 of word j; bias = -128 * the sum of the query).
     * Each byte holds u = c + 128 (UNSIGNED_BYTES), which masks and unsigned shifts extract in fewer operations than
     * sign extension, and sum(c * q) = sum(u * q) - 128 * sum(q). That is computed in int arithmetic, which is exact
     * modulo 2^32 even where sum(u * q) overflows; the true value lies within +-128 * QMAX * stride < 2^31 (qmax),
     * whatever byte the file holds, so the int result is exactly it. The tile and out are indexed by the same r: C2
     * (JDK 17) vectorises that loop, not one whose two arrays are read at different offsets. */
    static void scoreTile(int[][] tiles, int first, int words, int[] q0, int[] q1, int[] q2, int[] q3, int bias,
                          int[] out) {
        java.util.Arrays.fill(out, bias);
        for (int j = 0; j < words; j++) {
            int a = q0[j], b = q1[j], c = q2[j], d = q3[j];
            int[] v = tiles[first + j];
            for (int r = 0; r < TILE_ROWS; r++) {
                int w = v[r];
                out[r] += (w & 0xFF) * a + ((w >>> 8) & 0xFF) * b + ((w >>> 16) & 0xFF) * c + (w >>> 24) * d;
            }
        }
    }

    /** The k best so far, sorted: higher score first, then lower id. */
    static final class TopK {
        final int k;
        final double[] scores;
        final long[] ids;
        final int[] positions;
        int size;

        TopK(int k) {
            this.k = k;
            scores = new double[k];
            ids = new long[k];
            positions = new int[k];
        }

        void offer(double score, int position, EmbeddingSearcher owner) {
            if (size == k && score < scores[k - 1]) {
                return;
            }
            long id = owner.id(position);
            if (size == k && score == scores[k - 1] && id > ids[k - 1]) {
                return;
            }
            int i = size < k ? size++ : k - 1;
            while (i > 0 && (scores[i - 1] < score || (scores[i - 1] == score && ids[i - 1] > id))) {
                scores[i] = scores[i - 1];
                ids[i] = ids[i - 1];
                positions[i] = positions[i - 1];
                i--;
            }
            scores[i] = score;
            ids[i] = id;
            positions[i] = position;
        }
    }

    private void loadLabels() {
        if (labels != null) {
            return;
        }
        byte[] raw = new byte[labelsBytes];
        copy(file, labelsOffset, raw, labelsBytes);
        String text = new String(raw, Charset.forName("UTF-8"));
        String[] l = new String[count];
        String[] p = new String[count];
        int at = 0;
        for (int i = 0; i < count; i++) {
            int tab = text.indexOf('\t', at);
            int end = text.indexOf('\n', at);
            if (tab < 0 || end < 0 || tab > end) {
                throw new IllegalStateException(name + ": labels section does not hold " + count + " lines");
            }
            l[i] = unescape(text.substring(at, tab));
            p[i] = unescape(text.substring(tab + 1, end));
            at = end + 1;
        }
        labels = l;
        paths = p;
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == '\\' || n == 't' || n == 'n') {
                    out.append(n == 't' ? '\t' : n == 'n' ? '\n' : '\\');
                    i++;
                    continue;
                }
            }
            out.append(c);
        }
        return out.toString();
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n");
    }

    private static boolean inside(long offset, long length, long total) {
        return offset >= HEADER_BYTES && offset % 8 == 0 && length >= 0 && offset + length <= total;
    }

    private static ByteBuffer slice(ByteBuffer file, int offset, int length) {
        ByteBuffer view = file.duplicate();
        view.clear();
        view.position(offset);
        view.limit(offset + length);
        return view.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void copy(ByteBuffer file, int offset, byte[] out, int length) {
        ByteBuffer view = file.duplicate();
        view.clear();
        view.position(offset);
        view.get(out, 0, length);
    }

    private static String hex(ByteBuffer file, int offset) {
        StringBuilder s = new StringBuilder(64);
        for (int i = 0; i < 32; i++) {
            s.append(String.format(java.util.Locale.US, "%02x", file.get(offset + i) & 0xFF));
        }
        return s.toString();
    }

    private IndexFormatException bad(String problem) {
        return new IndexFormatException(name + ": " + problem);
    }
}
