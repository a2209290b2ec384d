"""The Java EmbeddingSearcher and GalleryStore (android_template/.../core) on the JVM, compiled as the app is (Java 8
against API 23's android.jar, dexable), against the Python reference (lite_tools/shitu/index.py): the same ids and
the same scores, bit for bit, for float32 and int8; the store's add / persist / reload / refuse."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from conftest import REPO
from javatools import build_harness
from lite_tools.shitu import index
from test_gallery_index import SHA_A, SHA_B, clustered, perturbed

CORE = REPO / "android_template" / "app" / "src" / "main" / "java" / "com" / "litetools" / "core"
SOURCES = [CORE / "EmbeddingSearcher.java", CORE / "GalleryStore.java", CORE / "EmbeddingPostprocessor.java"]
HARNESS = REPO / "tests" / "java" / "GalleryHarness.java"


@pytest.fixture(scope="module")
def jvm(tmp_path_factory, android_jar):
    """java(*args) -> CompletedProcess of tests/java/GalleryHarness.java over the core's classes."""
    classpath = build_harness(SOURCES, HARNESS, tmp_path_factory.mktemp("gallery-java"), android_jar)

    def java(*args):
        return subprocess.run(["java", "-cp", classpath, "GalleryHarness", *map(str, args)],
                              capture_output=True, text=True, timeout=300)
    return java


def java_hits(path) -> dict:
    """{query: [(id, score, position, label)]} from the harness's OUT lines."""
    hits = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        q, _, i, score, position, label = line.split("\t", 5)
        hits.setdefault(int(q), []).append((int(i), float(score), int(position), label))
    return hits


def python_hits(f: index.IndexFile, queries, k) -> dict:
    return {qi: [(h.id, h.score, h.position, h.label) for h in f.search(q, k)] for qi, q in enumerate(queries)}


def test_java_search_equals_python_bit_for_bit(jvm, tmp_path):
    """Clustered gallery, ids not positions, exact duplicates (ties), an odd dimension (padding), k over the count."""
    for dim, n in ((512, 1500), (37, 40)):
        x = clustered(n, dim, clusters=30 if n > 100 else 5, seed=dim)
        x[7] = x[3]  # a tie: the lower id must come first in both
        ids = np.random.RandomState(4).permutation(10 ** 5)[:n].astype(np.int64)
        labels = [f"label {i % 9}" for i in range(n)]
        queries = np.concatenate([perturbed(x, np.arange(0, n, max(1, n // 25))), x[3:4]])
        (tmp_path / "q.bin").write_bytes(queries.astype("<f4").tobytes())
        k = 60 if n < 60 else 10
        for element in ("float32", "int8"):
            path = tmp_path / f"{element}.index"
            index.write(path, element, x, ids, labels, [f"p{i}" for i in range(n)], SHA_A, SHA_B)
            proc = jvm("search", path, tmp_path / "q.bin", k, tmp_path / "out.txt")
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert java_hits(tmp_path / "out.txt") == python_hits(index.read(path), queries, k), (dim, element)
        tie = python_hits(index.read(tmp_path / "float32.index"), queries[-1:], 2)[0]
        assert [h[0] for h in tie] == sorted([int(ids[3]), int(ids[7])])


def test_java_search_of_a_gallery_bigger_than_the_cache_equals_python_bit_for_bit(jvm, tmp_path):
    """Vectors over 8 MB are copied out of the mapping in 1 KB chunks (one float32 row, two int8 rows of 512-d;
    EmbeddingSearcher's chunk sizes): the same ids and scores as the reference, an odd count ending in half a chunk,
    and the best rows placed in the last chunk and across a chunk boundary."""
    dim = 512
    for element, n in (("float32", 4200), ("int8", 17001)):
        assert n * dim * (4 if element == "float32" else 1) > 8 << 20  # the streamed path, not the cached one
        x = clustered(n, dim, clusters=400, seed=11)
        ids = np.arange(n, dtype=np.int64) * 7 + 3
        picks = np.array([0, 1, 2, n // 2 - 1, n // 2, n - 2, n - 1])
        queries = perturbed(x, picks)
        (tmp_path / "q.bin").write_bytes(queries.astype("<f4").tobytes())
        path = tmp_path / f"{element}.index"
        index.write(path, element, x, ids, [f"l{i % 5}" for i in range(n)], [f"p{i}" for i in range(n)], SHA_A,
                    SHA_B)
        proc = jvm("search", path, tmp_path / "q.bin", 5, tmp_path / "out.txt")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        ours = python_hits(index.read(path), queries, 5)
        assert [hits[0][2] for hits in ours.values()] == picks.tolist()  # each query finds its source row first
        assert java_hits(tmp_path / "out.txt") == ours, element


@pytest.mark.parametrize("damage, needle", [
    (lambda b: b[:-1], "truncated"),
    (lambda b: b[:3000] + bytes([b[3000] ^ 1]) + b[3001:], "checksum mismatch"),
    (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "header checksum"),
    (lambda b: b"NOTMAGIC" + b[8:], "not a lite-tools gallery index"),
])
def test_java_refuses_a_damaged_index(jvm, tmp_path, damage, needle):
    x = clustered(50, 64, clusters=5)
    good = index.encode("int8", x, np.arange(50), ["l"] * 50, ["p"] * 50, SHA_A, SHA_B)
    (tmp_path / "bad.index").write_bytes(damage(good))
    (tmp_path / "q.bin").write_bytes(x[:1].astype("<f4").tobytes())
    proc = jvm("search", tmp_path / "bad.index", tmp_path / "q.bin", 3, tmp_path / "out.txt")
    assert proc.returncode == 3 and proc.stdout.startswith("refused: IndexFormatException") and needle in proc.stdout
    assert str(tmp_path / "bad.index") in proc.stdout


def store(jvm, file, *action, dim=64, params=SHA_A, nb=SHA_B, first=1000):
    return jvm("store", file, dim, params, nb, first, *action)


def test_gallery_store_add_persist_reload(jvm, tmp_path):
    """Entries added in one JVM are there, unchanged, in the next; the file is lite-tools' format byte for byte
    (index.py's encode of the same entries), and the store's search is the reference's."""
    file = tmp_path / "user_gallery.index"
    x = clustered(6, 64, clusters=2, seed=5)
    (tmp_path / "v.bin").write_bytes(x.astype("<f4").tobytes())
    (tmp_path / "labels.txt").write_text("".join(f"mine {i}\n" for i in range(6)), encoding="utf-8")
    proc = store(jvm, file, "add", tmp_path / "v.bin", tmp_path / "labels.txt")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == [str(1000 + i) for i in range(6)]
    assert not (tmp_path / "user_gallery.index.tmp").exists()
    labels = [f"mine {i}" for i in range(6)]
    paths = [f"user:{i}" for i in range(6)]
    assert file.read_bytes() == index.encode("float32", x, np.arange(1000, 1006), labels, paths, SHA_A, SHA_B)
    proc = store(jvm, file, "remove", 1002)
    assert proc.returncode == 0 and proc.stdout.strip() == "true"
    proc = store(jvm, file, "add", tmp_path / "v.bin", tmp_path / "labels.txt")  # after a restart: ids go on
    assert proc.stdout.split() == [str(1006 + i) for i in range(6)]
    listed = store(jvm, file, "list").stdout.splitlines()
    kept = [i for i in range(6) if i != 2]
    assert listed == [f"{1000 + i}\tmine {i}\tuser:{i}" for i in kept] + [f"{1006 + i}\tmine {i}\tuser:{i}"
                                                                          for i in range(6)]
    f = index.read(file)
    assert np.array_equal(f.vectors, np.concatenate([x[kept], x]))
    queries = perturbed(x, np.arange(6))
    (tmp_path / "q.bin").write_bytes(queries.astype("<f4").tobytes())
    proc = store(jvm, file, "search", tmp_path / "q.bin", 4, tmp_path / "out.txt")
    assert proc.returncode == 0, proc.stdout
    assert java_hits(tmp_path / "out.txt") == python_hits(f, queries, 4)


def test_gallery_store_refuses_another_models_index(jvm, tmp_path):
    file = tmp_path / "user_gallery.index"
    x = clustered(3, 64, clusters=1)
    (tmp_path / "v.bin").write_bytes(x.astype("<f4").tobytes())
    (tmp_path / "labels.txt").write_text("a\nb\nc\n", encoding="utf-8")
    assert store(jvm, file, "add", tmp_path / "v.bin", tmp_path / "labels.txt").returncode == 0
    before = file.read_bytes()
    other = "c3" * 32
    for kwargs, needle in (({"params": other}, f"params sha256 {SHA_A}"), ({"nb": other}, f"(.nb {SHA_B})"),
                           ({"dim": 32}, "holds 64-d entries")):
        proc = store(jvm, file, "list", **kwargs)
        assert proc.returncode == 3 and proc.stdout.startswith("refused: ForeignIndexException"), proc.stdout
        assert needle in proc.stdout and (other in proc.stdout or "32-d" in proc.stdout)
    assert file.read_bytes() == before  # refused, never rewritten
    # a damaged store is refused too, and an interrupted save's leftover does not count
    (tmp_path / "user_gallery.index.tmp").write_bytes(b"half a file")
    listed = store(jvm, file, "list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 3
    assert not (tmp_path / "user_gallery.index.tmp").exists()
    file.write_bytes(before[:-2] + bytes([before[-2] ^ 1]) + before[-1:])
    proc = store(jvm, file, "list")
    assert proc.returncode == 3 and "checksum mismatch" in proc.stdout


def test_gallery_store_takes_only_normalised_embeddings(jvm, tmp_path):
    x = clustered(2, 64, clusters=1) * 2.0
    (tmp_path / "v.bin").write_bytes(x.astype("<f4").tobytes())
    (tmp_path / "labels.txt").write_text("a\nb\n", encoding="utf-8")
    proc = store(jvm, tmp_path / "s.index", "add", tmp_path / "v.bin", tmp_path / "labels.txt")
    assert proc.returncode == 3 and "not L2-normalised (norm 2.0" in proc.stdout
    assert not (tmp_path / "s.index").exists()


def test_int8_codes_of_minus_128_cannot_overflow_java(jvm, tmp_path):
    """Codes are written in [-127, 127], but a file may hold -128 (a byte is a byte; the CRC is no signature):
    QMAX is chosen for |code| <= 128 so that Java's int dot product (|sum| <= 128 * QMAX * stride) stays below 2^31
    for any file, and Java and Python rank it the same. Here 1024-d, every code of row 0 is -128 and the query
    scales to -QMAX everywhere: with a bound for 127, 128 * 16513 * 1024 wraps Java's int negative."""
    import struct
    import zlib

    dim, n = 1024, 6
    x = clustered(n, dim, clusters=2, seed=8)
    raw = bytearray(index.encode("int8", x, np.arange(n) * 3 + 1, ["l"] * n, ["p"] * n, SHA_A, SHA_B))
    scales_at, vectors_at = struct.unpack_from("<QQ", raw, 104)
    raw[scales_at:scales_at + 4 * dim] = np.full(dim, 1 / 127 / 32, "<f4").tobytes()  # equal scales
    raw[vectors_at:vectors_at + dim] = b"\x80" * dim  # row 0: every code -128
    struct.pack_into("<I", raw, 152, zlib.crc32(bytes(raw[index.HEADER_BYTES:])) & 0xFFFFFFFF)
    struct.pack_into("<I", raw, 156, zlib.crc32(bytes(raw[:156])) & 0xFFFFFFFF)
    path = tmp_path / "edge.index"
    path.write_bytes(bytes(raw))
    query = np.full((1, dim), -1 / np.sqrt(dim), np.float32)
    (tmp_path / "q.bin").write_bytes(query.astype("<f4").tobytes())
    f = index.read(path)
    big_q, _ = index.int8_query(f.scales, np.pad(query[0], (0, f.stride - dim)))
    exact = int(f.rows[0].astype(np.int64) @ big_q)
    assert exact == 128 * index.qmax(f.stride) * dim and exact <= 2 ** 31 - 1  # the worst case, and it fits
    proc = jvm("search", path, tmp_path / "q.bin", n, tmp_path / "out.txt")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ours = python_hits(f, query, n)
    assert ours[0][0][2] == 0  # row 0 (all -128 against an all-negative query) is the best
    assert java_hits(tmp_path / "out.txt") == ours
