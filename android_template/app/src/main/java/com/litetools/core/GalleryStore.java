package com.litetools.core;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;

/**
 * The app's own "add to gallery" entries: a float32 gallery index (the format of lite_tools/shitu/index.py, so
 * EmbeddingSearcher reads it and lite-tools can too) in app-private storage, that survives restarts. Every save
 * writes a new file beside the old one, syncs it and renames it over the old one, so a crash or a full disk leaves
 * the previous entries, never half a file. A store written for another rec model (another params or .nb sha256,
 * or dimension) is refused, naming both models, rather than searched with vectors that mean something else.
 */
public final class GalleryStore {
    /** The file on disk was made for another rec model than this app's; the message names both. */
    public static final class ForeignIndexException extends IOException {
        private static final long serialVersionUID = 1L;

        ForeignIndexException(String message) {
            super(message);
        }
    }

    /** How far from 1 an added embedding's L2 norm may be (the Java core's vectors are normalised). */
    public static final double NORM_TOLERANCE = 1e-3;

    private final File file;
    private final int dim;
    private final String paramsSha256;
    private final String nbSha256;
    private final long firstId;
    private final List<float[]> vectors = new ArrayList<float[]>();
    private final List<Long> ids = new ArrayList<Long>();
    private final List<String> labels = new ArrayList<String>();
    private final List<String> paths = new ArrayList<String>();

    private GalleryStore(File file, int dim, String paramsSha256, String nbSha256, long firstId) {
        this.file = file;
        this.dim = dim;
        this.paramsSha256 = paramsSha256;
        this.nbSha256 = nbSha256;
        this.firstId = firstId;
    }

    /**
     * The store in `file` (empty when there is none yet) for the rec model with these sha256s; new entries get ids
     * from `firstId` up (give the shipped gallery's largest id + 1, so ids stay unique across both). A leftover
     * temporary file of an interrupted save is removed.
     */
    public static GalleryStore open(File file, int dim, String paramsSha256, String nbSha256, long firstId)
            throws IOException {
        if (dim < 1 || paramsSha256.length() != 64 || nbSha256.length() != 64) {
            throw new IllegalArgumentException("a store needs a dimension and two sha256 hex strings");
        }
        GalleryStore store = new GalleryStore(file, dim, paramsSha256, nbSha256, firstId);
        File tmp = store.temporary();
        if (tmp.exists() && !tmp.delete()) {
            throw new IOException(tmp + ": cannot remove the leftover of an interrupted save");
        }
        if (file.exists()) {
            store.load();
        }
        return store;
    }

    /** For the entries of a shipped gallery's model: its dimension and sha256s, ids after its largest. */
    public static GalleryStore openFor(File file, EmbeddingSearcher shipped) throws IOException {
        long largest = -1;
        for (int i = 0; i < shipped.count; i++) {
            largest = Math.max(largest, shipped.id(i));
        }
        return open(file, shipped.dim, shipped.paramsSha256, shipped.nbSha256, largest + 1);
    }

    private File temporary() {
        return new File(file.getPath() + ".tmp");
    }

    private void load() throws IOException {
        byte[] data = readAll(file);
        EmbeddingSearcher s = EmbeddingSearcher.open(ByteBuffer.wrap(data), file.getPath());
        s.verify();
        if (s.element != EmbeddingSearcher.FLOAT32) {
            throw new EmbeddingSearcher.IndexFormatException(file + ": is an int8 index; the store keeps float32");
        }
        if (!s.paramsSha256.equals(paramsSha256) || !s.nbSha256.equals(nbSha256) || s.dim != dim) {
            throw new ForeignIndexException(file + ": holds " + s.dim + "-d entries of the rec model with params "
                    + "sha256 " + s.paramsSha256 + " (.nb " + s.nbSha256 + "), but this app runs " + dim
                    + "-d params " + paramsSha256 + " (.nb " + nbSha256 + "): its entries cannot be searched with "
                    + "this model; add them again");
        }
        for (int i = 0; i < s.count; i++) {
            vectors.add(s.vector(i));
            ids.add(s.id(i));
            labels.add(s.label(i));
            paths.add(s.path(i));
        }
    }

    public int size() {
        return ids.size();
    }

    /** Add one L2-normalised embedding (EmbeddingPostprocessor.normalise's) under `label`; returns its id. Call
     * save() to keep it. */
    public long add(float[] embedding, String label, String path) {
        if (embedding.length != dim) {
            throw new IllegalArgumentException("embedding has " + embedding.length + " values, the store holds " + dim
                    + "-d vectors");
        }
        double sum = 0.0;
        for (float v : embedding) {
            if (Float.isNaN(v) || Float.isInfinite(v)) {
                throw new IllegalArgumentException("embedding holds NaN or infinity");
            }
            sum += (double) v * v;
        }
        if (Math.abs(Math.sqrt(sum) - 1.0) > NORM_TOLERANCE) {
            throw new IllegalArgumentException("embedding is not L2-normalised (norm " + Math.sqrt(sum) + ")");
        }
        long id = firstId;
        for (Long existing : ids) {
            id = Math.max(id, existing + 1);
        }
        vectors.add(embedding.clone());
        ids.add(id);
        labels.add(label);
        paths.add(path);
        return id;
    }

    /** Remove the entry with `id`; false when there is none. Call save() to keep the change. */
    public boolean remove(long id) {
        int at = ids.indexOf(id);
        if (at < 0) {
            return false;
        }
        vectors.remove(at);
        ids.remove(at);
        labels.remove(at);
        paths.remove(at);
        return true;
    }

    /** Write the entries to the file: all of them or, on failure, the file keeps its previous content. */
    public void save() throws IOException {
        byte[] data = encode();
        File tmp = temporary();
        FileOutputStream out = new FileOutputStream(tmp);
        try {
            out.write(data);
            out.getFD().sync();
        } catch (IOException e) {
            out.close();
            tmp.delete();
            throw e;
        }
        out.close();
        if (!tmp.renameTo(file)) {
            tmp.delete();
            throw new IOException(file + ": cannot replace it with the new entries (rename failed)");
        }
    }

    /** A searcher over the current entries (also the unsaved ones). */
    public EmbeddingSearcher searcher() throws IOException {
        return EmbeddingSearcher.open(ByteBuffer.wrap(encode()), file.getPath());
    }

    /** The float32 index file bytes, laid out as index.py's encode() lays them out. */
    byte[] encode() {
        int count = ids.size();
        int stride = (dim + EmbeddingSearcher.LANES - 1) / EmbeddingSearcher.LANES * EmbeddingSearcher.LANES;
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < count; i++) {
            text.append(EmbeddingSearcher.escape(labels.get(i))).append('\t')
                    .append(EmbeddingSearcher.escape(paths.get(i))).append('\n');
        }
        byte[] labelBytes = text.toString().getBytes(Charset.forName("UTF-8"));
        long vectorsAt = EmbeddingSearcher.HEADER_BYTES;
        long idsAt = align(vectorsAt + 4L * count * stride);
        long labelsAt = align(idsAt + 8L * count);
        long total = labelsAt + labelBytes.length;
        if (total > Integer.MAX_VALUE) {
            throw new IllegalStateException("the store has grown past 2 GB");
        }
        ByteBuffer b = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            float[] v = vectors.get(i);
            int at = (int) vectorsAt + 4 * i * stride;
            for (int d = 0; d < dim; d++) {
                b.putFloat(at + 4 * d, v[d]);
            }
            b.putLong((int) idsAt + 8 * i, ids.get(i));
        }
        for (int i = 0; i < labelBytes.length; i++) {
            b.put((int) labelsAt + i, labelBytes[i]);
        }
        byte[] magic = {'L', 'T', 'G', 'A', 'L', 'L', 'R', 'Y'};
        for (int i = 0; i < magic.length; i++) {
            b.put(i, magic[i]);
        }
        b.putInt(8, EmbeddingSearcher.VERSION);
        b.putInt(12, EmbeddingSearcher.HEADER_BYTES);
        b.putInt(16, dim);
        b.putInt(20, stride);
        b.putInt(24, count);
        b.putInt(28, EmbeddingSearcher.METRIC_INNER_PRODUCT);
        b.putInt(32, EmbeddingSearcher.FLOAT32);
        putHex(b, 40, paramsSha256);
        putHex(b, 72, nbSha256);
        b.putLong(104, 0L);
        b.putLong(112, vectorsAt);
        b.putLong(120, idsAt);
        b.putLong(128, labelsAt);
        b.putLong(136, labelBytes.length);
        b.putLong(144, total);
        byte[] data = b.array();
        CRC32 body = new CRC32();
        body.update(data, EmbeddingSearcher.HEADER_BYTES, data.length - EmbeddingSearcher.HEADER_BYTES);
        b.putInt(152, (int) body.getValue());
        CRC32 head = new CRC32();
        head.update(data, 0, EmbeddingSearcher.HEAD_FIELDS_BYTES);
        b.putInt(EmbeddingSearcher.HEAD_FIELDS_BYTES, (int) head.getValue());
        return data;
    }

    private static long align(long n) {
        return (n + 63) / 64 * 64;
    }

    private static void putHex(ByteBuffer b, int at, String hex) {
        for (int i = 0; i < 32; i++) {
            b.put(at + i, (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16));
        }
    }

    private static byte[] readAll(File file) throws IOException {
        long length = file.length();
        if (length > Integer.MAX_VALUE) {
            throw new IOException(file + ": larger than 2 GB");
        }
        byte[] data = new byte[(int) length];
        FileInputStream in = new FileInputStream(file);
        try {
            int read = 0;
            while (read < data.length) {
                int n = in.read(data, read, data.length - read);
                if (n < 0) {
                    throw new IOException(file + ": shorter than its length");
                }
                read += n;
            }
        } finally {
            in.close();
        }
        return data;
    }
}
