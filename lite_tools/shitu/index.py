"""The gallery index file the app memory-maps, and the search over it that the Java EmbeddingSearcher repeats
bit for bit (so Python, Java and faiss can be compared: Java == Python exactly, faiss up to ties).

Why a format of our own: faiss's files need faiss on the phone, and PaddleClas's id_map.pkl is a pickle. This one
is read with a ByteBuffer view: no parsing; float32 vectors are read in place, int8 ones copied once into a Java
int[] (the JIT vectorises loops over arrays, not over a ByteBuffer).

Layout, little-endian, every section at a multiple of 64 bytes:

    0   8  magic b"LTGALLRY"           72  32 sha256 of the ARM .nb (lite-tools opt, default options)
    8   4  version (1)                104   8 scales offset (int8: dim float32; float32 files: 0)
   12   4  header bytes (192)         112   8 vectors offset (count rows of `stride` elements)
   16   4  dim                        120   8 ids offset (count int64, unique; PaddleClas ids are not positions)
   20   4  stride (dim rounded up     128   8 labels offset (UTF-8: per row `label TAB path LF`, with \\ \\t \\n
           to 8; the padding is 0)              escaped as in lite_tools/java/CoreHarness.java)
   24   4  count                      136   8 labels bytes
   28   4  metric (1: inner product   144   8 file bytes
           on L2-normalised vectors)  152   4 CRC-32 of bytes [header bytes, file bytes)
   32   4  element (1 float32, 2 int8)156   4 CRC-32 of bytes [0, 156)
   36   4  0                          160  32 zero
   40  32  sha256 of the rec export's .pdiparams

Scores, defined so that the Java searcher computes exactly the same numbers:
- float32: 8 float32 accumulators, lane l summing x[j] * q[j] for j = l (mod 8) in ascending j (each product and
  sum rounded to float32, no FMA), then ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)).
- int8: codes c[i, d] = clip(rint(x / s[d]), -127, 127) with s[d] = max_i |x[i, d]| / 127 (float32). The query
  becomes integers: w[d] = q[d] * s[d] (float64), K = QMAX / max |w|, Q[d] = rint(w[d] * K), with QMAX =
  min(32767, (2^31 - 1) // (128 * stride)) so that the integer dot product sum c * Q never overflows 32 bits, even
  for a file holding the code -128 that the writer never makes (the same as 127 up to 512-d). The
  ranking is by that exact integer; the score reported is that integer / K (about the cosine).
- top-k by score descending, ties by the lower id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import BadInput

MAGIC = b"LTGALLRY"
VERSION = 1
HEADER_BYTES = 192
ALIGN = 64
LANES = 8
METRIC_IP = 1
ELEMENTS = {"float32": 1, "int8": 2}
ELEMENT_NAMES = {v: k for k, v in ELEMENTS.items()}
FILE_NAMES = {"float32": "gallery.f32.index", "int8": "gallery.int8.index"}
_HEAD = struct.Struct("<8sIIIIIIII32s32sQQQQQQI")  # everything before the header's own CRC (156 bytes)
_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n"}
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n"}


def stride_of(dim: int) -> int:
    return (dim + LANES - 1) // LANES * LANES


def qmax(stride: int) -> int:
    """The largest query integer: 128 * QMAX * stride must stay below 2^31 (Java's int accumulator), for any
    byte a file holds (a code of -128 included)."""
    return min(32767, (2 ** 31 - 1) // (128 * stride))


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def escape(text: str) -> str:
    return "".join(_ESCAPES.get(c, c) for c in text)


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in _UNESCAPES:
            out.append(_UNESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclasses.dataclass(frozen=True)
class Hit:
    id: int
    score: float
    position: int
    label: str
    path: str


@dataclasses.dataclass(frozen=True)
class IndexFile:
    """One index file, read and checked. `vectors` are float32 [count, dim] (for int8 files: the codes times the
    scales, what the int8 search approximates)."""
    element: str
    dim: int
    ids: np.ndarray  # int64 [count]
    labels: tuple
    paths: tuple
    params_sha256: str
    nb_sha256: str
    rows: np.ndarray  # float32 or int8 [count, stride], as stored
    scales: np.ndarray | None  # int8: float32 [dim]

    @property
    def count(self) -> int:
        return int(self.ids.size)

    @property
    def stride(self) -> int:
        return stride_of(self.dim)

    @property
    def vectors(self) -> np.ndarray:
        if self.element == "float32":
            return self.rows[:, :self.dim]
        return (self.rows[:, :self.dim].astype(np.float64) * self.scales.astype(np.float64)).astype(np.float32)

    def scores(self, query) -> np.ndarray:
        """The score of every row for one query (float64; see the module docstring for how)."""
        q = _query(query, self.dim)
        if self.element == "float32":
            return float32_scores(self.rows, q).astype(np.float64)
        exact, k = int8_scores(self.rows, self.scales, q)
        return exact / k

    def search(self, query, k: int) -> list:
        """Top-k hits, score descending, ties by the lower id."""
        q = _query(query, self.dim)
        if self.element == "float32":
            key = float32_scores(self.rows, q)
            shown = key.astype(np.float64)
        else:
            key, scale = int8_scores(self.rows, self.scales, q)
            shown = key / scale
        order = np.lexsort((self.ids, -key.astype(np.float64)))[:max(0, int(k))]
        return [Hit(int(self.ids[p]), float(shown[p]), int(p), self.labels[p], self.paths[p]) for p in order]


def _query(query, dim: int) -> np.ndarray:
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.size != dim:
        raise BadInput(f"query has {q.size} values, the gallery holds {dim}-d vectors")
    if not np.isfinite(q).all():
        raise BadInput("query holds NaN or infinity")
    padded = np.zeros(stride_of(dim), np.float32)
    padded[:dim] = q
    return padded


def float32_scores(rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """float32 [count]: the 8-lane float32 sum of the module docstring, exactly as EmbeddingSearcher adds."""
    acc = np.zeros((rows.shape[0], LANES), np.float32)
    for j in range(0, rows.shape[1], LANES):
        acc += rows[:, j:j + LANES] * q[j:j + LANES]
    return ((acc[:, 0] + acc[:, 1]) + (acc[:, 2] + acc[:, 3])) + ((acc[:, 4] + acc[:, 5]) + (acc[:, 6] + acc[:, 7]))


def int8_query(scales: np.ndarray, q: np.ndarray) -> tuple:
    """(Q int64 [stride], K): the query as integers (module docstring); K = 1 for a query that scales to 0."""
    stride = q.size
    w = np.zeros(stride, np.float64)
    w[:scales.size] = q[:scales.size].astype(np.float64) * scales.astype(np.float64)
    peak = float(np.abs(w).max())
    if peak == 0.0:
        return np.zeros(stride, np.int64), 1.0
    limit = qmax(stride)
    k = limit / peak
    return np.clip(np.rint(w * k), -limit, limit).astype(np.int64), k


def int8_scores(rows: np.ndarray, scales: np.ndarray, q: np.ndarray) -> tuple:
    """(exact int64 scores [count], K)."""
    big_q, k = int8_query(scales, q)
    return rows.astype(np.int64) @ big_q, k


def quantize(vectors: np.ndarray) -> tuple:
    """(scales float32 [dim], codes int8 [count, dim]): symmetric, one scale per dimension."""
    x = np.asarray(vectors, np.float32).astype(np.float64)
    scales = (np.abs(x).max(axis=0) / 127.0).astype(np.float32) if x.shape[0] else np.zeros(x.shape[1], np.float32)
    s = scales.astype(np.float64)
    safe = np.where(s > 0, s, 1.0)
    codes = np.where(s > 0, np.rint(x / safe), 0.0)
    return scales, np.clip(codes, -127, 127).astype(np.int8)


def encode(element: str, vectors, ids, labels, paths, params_sha256: str, nb_sha256: str) -> bytes:
    """The bytes of an index file (the Java GalleryStore writes float32 files the same way)."""
    vectors = np.asarray(vectors, np.float32)
    if vectors.ndim != 2 or vectors.shape[1] < 1:
        raise ValueError(f"vectors must be [count, dim], got {vectors.shape}")
    count, dim = vectors.shape
    ids = np.asarray(ids, np.int64).reshape(-1)
    if ids.size != count or len(labels) != count or len(paths) != count:
        raise ValueError("ids, labels and paths must have one entry per vector")
    if np.unique(ids).size != count:
        raise ValueError("ids must be unique")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors hold NaN or infinity")
    stride = stride_of(dim)
    scales_at = 0
    at = HEADER_BYTES
    body = []
    if element == "int8":
        scales, codes = quantize(vectors)
        scales_at = at
        body.append((scales_at, scales.astype("<f4").tobytes()))
        at = _align(at + dim * 4)
        rows = np.zeros((count, stride), np.int8)
        rows[:, :dim] = codes
    elif element == "float32":
        rows = np.zeros((count, stride), "<f4")
        rows[:, :dim] = vectors
    else:
        raise ValueError(f"unknown element type {element!r}")
    vectors_at = at
    body.append((vectors_at, rows.tobytes()))
    ids_at = _align(vectors_at + rows.nbytes)
    body.append((ids_at, ids.astype("<i8").tobytes()))
    labels_at = _align(ids_at + count * 8)
    text = "".join(f"{escape(str(lb))}\t{escape(str(p))}\n" for lb, p in zip(labels, paths)).encode("utf-8")
    body.append((labels_at, text))
    total = labels_at + len(text)
    data = bytearray(total)
    for offset, chunk in body:
        data[offset:offset + len(chunk)] = chunk
    body_crc = zlib.crc32(memoryview(data)[HEADER_BYTES:]) & 0xFFFFFFFF
    head = _HEAD.pack(MAGIC, VERSION, HEADER_BYTES, dim, stride, count, METRIC_IP, ELEMENTS[element], 0,
                      bytes.fromhex(params_sha256), bytes.fromhex(nb_sha256), scales_at, vectors_at, ids_at,
                      labels_at, len(text), total, body_crc)
    data[:len(head)] = head
    data[len(head):len(head) + 4] = struct.pack("<I", zlib.crc32(head) & 0xFFFFFFFF)
    return bytes(data)


def write(path, element: str, vectors, ids, labels, paths, params_sha256: str, nb_sha256: str) -> str:
    """Write an index file; return its sha256."""
    data = encode(element, vectors, ids, labels, paths, params_sha256, nb_sha256)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read(path) -> IndexFile:
    """Read and check an index file: every problem is a BadInput naming the file (a truncated copy, a flipped
    byte, another format)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise BadInput(f"{path}: cannot read ({e.strerror or e})") from None
    return decode(data, str(path))


def decode(data: bytes, where: str) -> IndexFile:
    def bad(problem):
        return BadInput(f"{where}: {problem}")

    if len(data) < HEADER_BYTES or data[:8] != MAGIC:
        raise bad("not a lite-tools gallery index (no LTGALLRY header)")
    fields = _HEAD.unpack_from(data)
    (_, version, header_bytes, dim, stride, count, metric, element, _, params, nb, scales_at, vectors_at, ids_at,
     labels_at, labels_bytes, total, body_crc) = fields
    if version != VERSION:
        raise bad(f"index format version {version}, this lite-tools reads version {VERSION}")
    (head_crc,) = struct.unpack_from("<I", data, _HEAD.size)
    if zlib.crc32(data[:_HEAD.size]) & 0xFFFFFFFF != head_crc:
        raise bad("header checksum mismatch (the file is damaged)")
    if header_bytes != HEADER_BYTES or metric != METRIC_IP or element not in ELEMENT_NAMES:
        raise bad(f"unsupported header (header bytes {header_bytes}, metric {metric}, element {element})")
    if total != len(data):
        raise bad(f"holds {len(data)} bytes, its header says {total} (truncated or extended copy)")
    if zlib.crc32(memoryview(data)[HEADER_BYTES:]) & 0xFFFFFFFF != body_crc:
        raise bad("checksum mismatch (the file is damaged)")
    name = ELEMENT_NAMES[element]
    width = 4 if name == "float32" else 1
    if dim < 1 or stride != stride_of(dim):
        raise bad(f"dimension {dim} with row stride {stride}")
    sections = [(vectors_at, count * stride * width), (ids_at, count * 8), (labels_at, labels_bytes)]
    if name == "int8":
        sections.append((scales_at, dim * 4))
    if any(at % 8 or at < HEADER_BYTES or at + size > total for at, size in sections):
        raise bad("section offsets outside the file")
    rows = np.frombuffer(data, "<f4" if name == "float32" else np.int8, count * stride, vectors_at)
    rows = rows.reshape(count, stride).astype(np.float32 if name == "float32" else np.int8)
    ids = np.frombuffer(data, "<i8", count, ids_at).astype(np.int64)
    scales = np.frombuffer(data, "<f4", dim, scales_at).astype(np.float32) if name == "int8" else None
    try:
        text = data[labels_at:labels_at + labels_bytes].decode("utf-8")
    except UnicodeDecodeError:
        raise bad("labels are not UTF-8") from None
    lines = text.split("\n")
    if lines[-1] != "" or len(lines) - 1 != count or any(ln.count("\t") != 1 for ln in lines[:-1]):
        raise bad(f"labels section does not hold {count} 'label TAB path' lines")
    pairs = [ln.split("\t") for ln in lines[:-1]]
    if np.unique(ids).size != count:
        raise bad("ids are not unique")
    if name == "float32" and not np.isfinite(rows).all():
        raise bad("vectors hold NaN or infinity")
    if scales is not None and not (np.isfinite(scales).all() and (scales >= 0).all()):
        raise bad("int8 scales are not finite and non-negative")
    return IndexFile(name, dim, ids, tuple(unescape(a) for a, _ in pairs), tuple(unescape(b) for _, b in pairs),
                     params.hex(), nb.hex(), rows, scales)
