"""The gallery index file and its search (lite_tools/shitu/index.py) against faiss, and PaddleClas's id_map.pkl read
without pickle (lite_tools/shitu/paddleclas_index.py). No model: fast."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys

import faiss
import numpy as np
import pytest

from lite_tools.errors import BadInput
from lite_tools.shitu import index, paddleclas_index

SHA_A, SHA_B = "a1" * 32, "b2" * 32


def clustered(n=2000, dim=512, clusters=60, seed=0):
    """Unit vectors around `clusters` centres (a gallery of products photographed several times each)."""
    rng = np.random.RandomState(seed)
    centres = rng.randn(clusters, dim)
    x = centres[rng.randint(0, clusters, n)] + 0.6 * rng.randn(n, dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def perturbed(vectors, picks, noise=0.3, seed=1):
    """Queries: copies of gallery vectors with noise of norm ~`noise` (another photo of the same product)."""
    rng = np.random.RandomState(seed)
    q = vectors[picks] + rng.normal(0, noise / np.sqrt(vectors.shape[1]), (len(picks), vectors.shape[1]))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def same_up_to_ties(ours, theirs, scores_ours, scores_theirs, eps=1e-5) -> bool:
    """Same ids rank by rank, except where the two scores at that rank are within eps (a near tie may swap)."""
    return all(a == b or abs(sa - sb) <= eps for a, b, sa, sb in zip(ours, theirs, scores_ours, scores_theirs))


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    x = clustered()
    ids = np.random.RandomState(2).permutation(10 ** 6)[:len(x)].astype(np.int64)  # ids are not positions
    labels = [f"product {i % 60}" for i in range(len(x))]
    labels[3], labels[4] = "tab\there", "new\nline \\ and ünïcode"
    paths = [f"gallery/{i}.jpg" for i in range(len(x))]
    folder = tmp_path_factory.mktemp("index")
    for element in ("float32", "int8"):
        index.write(folder / f"{element}.index", element, x, ids, labels, paths, SHA_A, SHA_B)
    return {"x": x, "ids": ids, "labels": labels, "paths": paths, "folder": folder}


def test_round_trip_and_documented_header(gallery):
    for element in ("float32", "int8"):
        path = gallery["folder"] / f"{element}.index"
        f = index.read(path)
        assert f.element == element and f.dim == 512 and f.count == 2000
        assert np.array_equal(f.ids, gallery["ids"]) and list(f.labels) == gallery["labels"]
        assert list(f.paths) == gallery["paths"] and (f.params_sha256, f.nb_sha256) == (SHA_A, SHA_B)
        if element == "float32":
            assert np.array_equal(f.vectors, gallery["x"])
        else:  # symmetric per-dimension int8: within half a step of each dimension's scale
            assert (np.abs(f.vectors - gallery["x"]) <= f.scales / 2 * 1.0001 + 1e-9).all()
        raw = path.read_bytes()  # the header at the offsets index.py's docstring gives
        assert raw[:8] == b"LTGALLRY" and struct.unpack_from("<IIIIII", raw, 8) == (
            1, 192, 512, 512, 2000, 1) and struct.unpack_from("<I", raw, 32)[0] == index.ELEMENTS[element]
        assert raw[40:72].hex() == SHA_A and raw[72:104].hex() == SHA_B
        assert struct.unpack_from("<Q", raw, 144)[0] == len(raw)
        vectors_at, ids_at = struct.unpack_from("<QQ", raw, 112)
        assert vectors_at % 64 == 0 and np.array_equal(np.frombuffer(raw, "<i8", 2000, ids_at), gallery["ids"])


@pytest.mark.parametrize("damage, needle", [
    (lambda b: b[:-1], "truncated"),
    (lambda b: b[:5000] + bytes([b[5000] ^ 1]) + b[5001:], "checksum mismatch"),
    (lambda b: b[:20] + bytes([b[20] ^ 1]) + b[21:], "header checksum"),
    (lambda b: b"NOTMAGIC" + b[8:], "not a lite-tools gallery index"),
    (lambda b: b[:100], "not a lite-tools gallery index"),
])
def test_damaged_file_refused(gallery, tmp_path, damage, needle):
    bad = tmp_path / "bad.index"
    bad.write_bytes(damage((gallery["folder"] / "int8.index").read_bytes()))
    with pytest.raises(BadInput, match=needle) as e:
        index.read(bad)
    assert str(bad) in str(e.value)


def test_float32_search_agrees_with_faiss_flat_ip(gallery):
    """faiss IndexFlatIP is the host reference: same top-1, same top-5 ids up to ties."""
    x, ids = gallery["x"], gallery["ids"]
    f = index.read(gallery["folder"] / "float32.index")
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(x.shape[1]))
    flat.add_with_ids(x, ids)
    queries = np.concatenate([perturbed(x, np.arange(0, 2000, 40)), clustered(50, seed=9)])  # + unrelated ones
    scores, found = flat.search(queries, 5)
    for q, s_theirs, theirs in zip(queries, scores, found):
        hits = f.search(q, 5)
        assert hits[0].id == theirs[0] or abs(hits[0].score - s_theirs[0]) <= 1e-5
        assert same_up_to_ties([h.id for h in hits], list(theirs), [h.score for h in hits], list(s_theirs))
        assert abs(hits[0].score - float(q @ x[hits[0].position])) < 1e-5


def test_int8_ranking_close_to_float32_and_within_its_error_bound(gallery):
    """int8's top-1 is float32's for perturbed copies (recall@1 >= 0.99), and every int8 score lies within the
    bound its quantisation allows: |sum (c s - x) q| <= sum s |q| / 2, plus the query's own rounding."""
    x = gallery["x"]
    f32 = index.read(gallery["folder"] / "float32.index")
    i8 = index.read(gallery["folder"] / "int8.index")
    queries = perturbed(x, np.arange(0, 2000, 20))
    same = sum(f32.search(q, 1)[0].id == i8.search(q, 1)[0].id for q in queries)
    assert same / len(queries) >= 0.99, same
    for q in queries[:20]:
        exact = x.astype(np.float64) @ q.astype(np.float64)
        padded = np.zeros(i8.stride, np.float32)
        padded[:512] = q
        big_q, k = index.int8_query(i8.scales, padded)
        bound = np.sum(i8.scales * np.abs(q)) / 2 + np.abs(i8.rows.astype(np.float64)).sum(axis=1) * 0.5 / k
        assert (np.abs(i8.scores(q) - exact) <= bound + 1e-9).all()
    # the bound is not vacuous: a wrong scale breaks it
    broken = np.abs(i8.rows[:, :512].astype(np.float64) * (i8.scales * 1.05) @ queries[0] - x @ queries[0])
    assert (broken > np.sum(i8.scales * np.abs(queries[0])) / 2).any()


def test_ties_go_to_the_lower_id(tmp_path):
    """Equal vectors under ids in no order: every search lists them by id, in both element types."""
    rng = np.random.RandomState(3)
    base = rng.randn(4, 64).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    x = np.repeat(base, 5, axis=0)  # each vector five times
    ids = np.array(rng.permutation(100)[:20], np.int64)
    for element in ("float32", "int8"):
        index.write(tmp_path / "t.index", element, x, ids, ["l"] * 20, ["p"] * 20, SHA_A, SHA_B)
        f = index.read(tmp_path / "t.index")
        for v in range(4):
            hits = f.search(base[v], 5)
            assert [h.id for h in hits] == sorted(int(i) for i in ids[v * 5:(v + 1) * 5])
            assert len({h.score for h in hits}) == 1
        assert len(f.search(base[0], 50)) == 20  # k beyond the count: all of them


# ---- id_map.pkl, read without pickle ------------------------------------------------------------------------

def paddleclas_id_map(n=5, start=0):
    """As build_gallery.py's _add_gallery makes it: numpy int64 keys to 'path<TAB>label' lines."""
    ids = {}
    for i, d in zip(list((np.arange(0, n) + start).astype(np.int64)), [f"img/{k}.jpg\tlabel{k % 2}" for k in range(n)]):
        ids[i] = d
    return ids


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_id_map_read_as_pickle_would(tmp_path, protocol):
    """Real id maps (numpy int64 keys, every protocol Python 3 writes) read as pickle.load reads them."""
    for made in (paddleclas_id_map(7, start=40), {3: "a\tb", 10 ** 12: "c d"}):
        path = tmp_path / "id_map.pkl"
        path.write_bytes(pickle.dumps(made, protocol=protocol))
        got = paddleclas_index.read_id_map(path)
        assert got == pickle.loads(path.read_bytes()) and all(type(k) is int for k in got)


class RunsCommand:
    """A pickle that runs a shell command when loaded (what a hostile id_map.pkl does)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_hostile_id_map_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    hostile = tmp_path / "id_map.pkl"
    hostile.write_bytes(pickle.dumps({0: RunsCommand(f"touch {marker}")}))
    with pytest.raises(BadInput, match=r"posix\.system.*nothing was run"):
        paddleclas_index.read_id_map(hostile)
    assert not marker.exists()
    # the file really is hostile: pickle itself runs it (in a child, so this process stays clean)
    subprocess.run([sys.executable, "-c", f"import pickle; pickle.load(open({str(hostile)!r}, 'rb'))"], check=True)
    assert marker.exists()


@pytest.mark.parametrize("payload, needle", [
    (lambda: pickle.dumps({0: "a\tb", 1: eval}), "builtins.eval"),
    (lambda: pickle.dumps([1, 2]), "opcode EMPTY_LIST"),
    (lambda: pickle.dumps({0: b"bytes"}), "not int: str"),
    (lambda: pickle.dumps({"0": "a\tb"}), "not int: str"),
    (lambda: pickle.dumps({True: "a\tb"}), "not int: str"),
    (lambda: pickle.dumps({np.float64(1.5): "a\tb"}), "numpy.dtype('f8')"),
    (lambda: pickle.dumps({0: "a\tb"})[:-3], "not a complete pickle"),
    (lambda: b"", "empty file"),
])
def test_id_map_anything_else_refused(tmp_path, payload, needle):
    path = tmp_path / "id_map.pkl"
    path.write_bytes(payload())
    with pytest.raises(BadInput, match=needle.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")) as e:
        paddleclas_index.read_id_map(path)
    assert str(path) in str(e.value)


def test_object_dtype_scalar_refused(tmp_path):
    """numpy.core.multiarray.scalar(dtype('O'), bytes) would make numpy dereference the bytes as a pointer."""
    path = tmp_path / "id_map.pkl"
    path.write_bytes(pickle.dumps({np.int64(5): "a\tb"}, protocol=2).replace(b"i8", b"O8"))
    with pytest.raises(BadInput, match="only integer ids"):
        paddleclas_index.read_id_map(path)


@pytest.mark.parametrize("payload", [
    lambda: b"\x80\x02}K\x01N" + b"\x85" * 100000 + b"s.",  # a value nested 100000 tuples deep
    lambda: b"\x80\x02}K\x01" + b"}K\x01" * 50000 + b"X\x01\x00\x00\x00a" + b"s" * 50001 + b".",  # dicts, deep
    lambda: pickle.dumps({10 ** 5000: b"x"}, protocol=2),  # an int key too long for repr()
    lambda: pickle.dumps({0: b"x" * 10 ** 6}, protocol=4),  # a 1 MB value
])
def test_id_map_refusal_is_one_short_line_whatever_it_holds(tmp_path, payload):
    """The refusal names what the entry holds without repr() of it: repr recurses (RecursionError), refuses ints
    over 4300 digits (ValueError), or writes a megabyte into the one error line."""
    path = tmp_path / "id_map.pkl"
    path.write_bytes(payload())
    with pytest.raises(BadInput, match="not int: str") as e:
        paddleclas_index.read_id_map(path)
    assert "\n" not in str(e.value) and len(str(e.value)) < 400, str(e.value)[:400]


def test_names_that_are_not_utf8_refused_in_one_line(tmp_path):
    """A label folder or an id map entry that is not UTF-8 (a Latin-1 file name: Python gives it lone surrogates)
    cannot go into the index's UTF-8 labels: one line naming it, not a UnicodeEncodeError from index.encode."""
    from lite_tools.shitu import gallery

    root = tmp_path / "imgs"
    os.makedirs(os.path.join(os.fsencode(root), b"caf\xe9"))
    open(os.path.join(os.fsencode(root), b"caf\xe9", b"1.png"), "wb").close()
    (root / "cola").mkdir()
    (root / "cola" / "2.png").write_bytes(b"")
    with pytest.raises(BadInput, match="not valid UTF-8") as e:
        gallery.list_sources(root)
    assert "caf" in str(e.value)
    src = tmp_path / "pc"
    src.mkdir()
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(8))
    flat.add_with_ids(np.eye(8, dtype=np.float32)[:2], np.arange(2).astype(np.int64))
    faiss.write_index(flat, str(src / "vector.index"))
    (src / "id_map.pkl").write_bytes(pickle.dumps({0: "ok/1.jpg\tcola", 1: "caf\udce9/2.jpg\tcaf\udce9"}))
    with pytest.raises(BadInput, match="not valid UTF-8"):
        paddleclas_index.read_paddleclas_index(src)
    # what would have happened: the index file cannot hold it
    with pytest.raises(UnicodeEncodeError):
        index.encode("float32", np.eye(8, dtype=np.float32)[:1], [0], ["caf\udce9"], ["p"], SHA_A, SHA_B)
    # a source path that is not UTF-8 (the images folder, a skipped stray file) only goes into the manifest:
    # written as \udcXX escapes, read back as it was
    binding = gallery.ModelBinding("rec", SHA_A, SHA_A, SHA_B, "", (), ())
    x = np.eye(8, dtype=np.float32)[:2]
    gallery.write_folder(tmp_path / "G", x, np.arange(2), ["a", "b"], ["a/1", "b/2"], binding, "cfg",
                         {"source": {"images": "/data/caf\udce9"}, "skipped": [{"path": "/data/caf\udce9/x"}]})
    g = gallery.load(tmp_path / "G")
    assert g.manifest["source"]["images"] == "/data/caf\udce9" and g.count == 2


def test_faiss_index_asking_for_terabytes_refused_in_one_line(tmp_path):
    """A vector.index whose codes size says 2^39 floats: faiss's allocation fails (std::bad_alloc, a MemoryError
    in Python); that is one line naming the file, not a traceback."""
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(8))
    flat.add_with_ids(np.eye(8, dtype=np.float32), np.arange(8).astype(np.int64))
    path = tmp_path / "vector.index"
    faiss.write_index(flat, str(path))
    raw = bytearray(path.read_bytes())
    at = raw.find(b"IxFI") + 4 + 4 + 8 + 8 + 8 + 1 + 4  # fourcc, d, ntotal, 2 dummies, is_trained, metric
    assert struct.unpack_from("<Q", raw, at)[0] == 64  # the codes' size field: 8 x 8 floats
    struct.pack_into("<Q", raw, at, 2 ** 39)
    path.write_bytes(bytes(raw))
    with pytest.raises(BadInput, match="faiss cannot read it") as e:
        paddleclas_index.read_faiss_index(path)
    assert str(path) in str(e.value)
