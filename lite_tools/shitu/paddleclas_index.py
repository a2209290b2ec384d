"""Importing a PaddleClas gallery: its `vector.index` (faiss) and `id_map.pkl` (pickle), as build_gallery.py writes
them, into a lite-tools GALLERY.

- id_map.pkl is read without pickle.load: a pickle is a program, and loading one runs whatever callables it names.
  read_id_map() walks the opcodes (pickletools.genops parses, never executes) with a small stack machine that knows
  exactly what a dict of int to str needs, plus the one construction PaddleClas's files really contain: numpy int64
  keys, pickled as numpy.core.multiarray.scalar(numpy.dtype("i8"), 8 bytes). Those are decoded here from their
  bytes, never by calling numpy; any other global, class, REDUCE or opcode is refused by name before anything could
  run (a dtype of "O" would make numpy read a pointer from the bytes: refused too).
- vector.index: faiss IndexIDMap2 (or IndexIDMap) over IndexFlat, IndexHNSWFlat or IndexIVFFlat, or a bare IndexFlat
  (the android_demo form, ids = positions), inner product only. The ids are the id map's keys, not positions: the
  vectors are reconstructed by id through the IDMap (IVF needs its direct map, made here in memory). Other index
  types are refused by name (their vectors cannot be reconstructed exactly). faiss runs in a spawned child with
  an address-space limit: a damaged HNSW graph segfaults faiss's search, and a size field asks it for any amount of
  memory; either becomes one line naming the file, never a crash of the CLI.
- labels: PaddleClas's predict_system shows id_map[id].split()[1] (the second whitespace-separated word), so that is
  the label; the path is the entry's text before the first delimiter.
"""

from __future__ import annotations

import pickletools
import resource
from pathlib import Path

import numpy as np

from .. import child
from ..errors import BadInput
from ..model import files
from . import index

ALLOWED_GLOBALS = {("numpy.core.multiarray", "scalar"): "scalar", ("numpy._core.multiarray", "scalar"): "scalar",
                   ("numpy", "dtype"): "dtype", ("_codecs", "encode"): "encode"}
INT_DTYPES = {"i1": (1, True), "i2": (2, True), "i4": (4, True), "i8": (8, True),
              "u1": (1, False), "u2": (2, False), "u4": (4, False), "u8": (8, False)}
IMPORTABLE = {"IndexFlat", "IndexFlatIP", "IndexFlatL2", "IndexHNSWFlat", "IndexIVFFlat"}
APPROXIMATE = {"IndexHNSWFlat", "IndexIVFFlat"}
REEMBED_SAMPLE = 8
REEMBED_COSINE_MIN = 0.99
# faiss's child may map this much beyond what it holds after importing faiss: a few copies of the file, and slack
CHILD_MEMORY_SLACK = 1 << 30
CHILD_TIMEOUT_S = 600
TOO_GREEDY = "it asks for more memory than a file of its size can need: a damaged or hostile file"
WHY = "a pickle may run code; lite-tools reads id_map.pkl only as a dict of int to str"


class _Global:
    def __init__(self, kind: str, name: str):
        self.kind, self.name = kind, name


class _Dtype:
    def __init__(self, code: str):
        self.code, self.order = code, "<"


class _Mark:
    pass


def read_id_map(path) -> dict:
    """{int: str} from a PaddleClas id_map.pkl, read as the module docstring says; every refusal names the file."""
    path = Path(path)
    files.require_file(path)
    data = path.read_bytes()

    def refuse(problem):
        return BadInput(f"{path}: {problem}")

    if not data:
        raise refuse("empty file")

    stack, memo = [], {}

    def pop_to_mark():
        for i in range(len(stack) - 1, -1, -1):
            if isinstance(stack[i], _Mark):
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise refuse("malformed pickle (no MARK)")

    result = None
    try:
        for opcode, arg, _ in pickletools.genops(data):
            op = opcode.name
            if op in ("PROTO", "FRAME"):
                continue
            if op == "STOP":
                result = stack.pop()
                break
            if op == "MARK":
                stack.append(_Mark())
            elif op in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
                memo[len(memo) if op == "MEMOIZE" else arg] = stack[-1]
            elif op in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif op in ("EMPTY_DICT",):
                stack.append({})
            elif op == "DICT":
                items = pop_to_mark()
                stack.append(dict(zip(items[::2], items[1::2])))
            elif op in ("SETITEM", "SETITEMS"):
                items = [stack.pop(), stack.pop()][::-1] if op == "SETITEM" else pop_to_mark()
                target = stack[-1]
                if not isinstance(target, dict) or len(items) % 2:
                    raise refuse(f"refused: {op} on something that is not a dict ({WHY})")
                for k, v in zip(items[::2], items[1::2]):
                    target[k] = v
            elif op == "EMPTY_TUPLE":
                stack.append(())
            elif op in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(op[-1])
                items = stack[-n:]
                del stack[-n:]
                stack.append(tuple(items))
            elif op == "TUPLE":
                stack.append(tuple(pop_to_mark()))
            elif op == "NONE":
                stack.append(None)
            elif op in ("NEWTRUE", "NEWFALSE"):
                stack.append(op == "NEWTRUE")
            elif op in ("INT", "LONG", "LONG1", "LONG4", "BININT", "BININT1", "BININT2"):
                stack.append(arg)
            elif op in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
                stack.append(str(arg))
            elif op in ("SHORT_BINBYTES", "BINBYTES", "BINBYTES8"):
                stack.append(bytes(arg))
            elif op in ("GLOBAL", "STACK_GLOBAL"):
                if op == "GLOBAL":
                    module, name = str(arg).split(" ", 1)
                else:
                    name, module = stack.pop(), stack.pop()
                    if not (isinstance(module, str) and isinstance(name, str)):
                        raise refuse(f"refused: STACK_GLOBAL on non-strings ({WHY})")
                kind = ALLOWED_GLOBALS.get((module, name))
                if kind is None:
                    raise refuse(f"refused: it names the global {module}.{name} ({WHY}); nothing was run")
                stack.append(_Global(kind, f"{module}.{name}"))
            elif op == "REDUCE":
                args, fn = stack.pop(), stack.pop()
                stack.append(_reduce(fn, args, refuse))
            elif op == "BUILD":
                state, target = stack.pop(), stack[-1]
                if not (isinstance(target, _Dtype) and isinstance(state, tuple) and len(state) >= 5
                        and state[1] in ("<", "=", "|", ">") and state[2:5] == (None, None, None)):
                    raise refuse(f"refused: BUILD of {type(target).__name__} ({WHY}); nothing was run")
                target.order = state[1]
            else:
                raise refuse(f"refused: opcode {op} ({WHY}); nothing was run")
    except BadInput:
        raise
    except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise refuse(f"not a complete pickle ({type(e).__name__}: {str(e)[:120]})") from None
    if not isinstance(result, dict):
        raise refuse(f"holds a {type(result).__name__}, not PaddleClas's dict of id to 'path<TAB>label'")
    for k, v in result.items():
        if not (isinstance(k, int) and not isinstance(k, bool)) or not isinstance(v, str):
            raise refuse(f"holds an entry {_brief(k)}: {_brief(v)}, not int: str (PaddleClas's id to "
                         "'path<TAB>label')")
    return result


def _brief(value) -> str:
    """A short, safe description of a refused key or value: repr() of what a hostile pickle builds can recurse
    past the stack (nested tuples), fail (an int over 4300 digits) or be a megabyte long."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an int of {value.bit_length()} bits"
    if isinstance(value, (bool, int, float, type(None))):
        return repr(value)
    if isinstance(value, (str, bytes)):
        shown = repr(value[:40])
        return shown + (f" ({len(value)} long)" if len(value) > 40 else "")
    return f"a {type(value).__name__}"


def _reduce(fn, args, refuse):
    """The three calls a PaddleClas id map holds, done here on their arguments (nothing is called)."""
    what = getattr(fn, "name", type(fn).__name__)
    if isinstance(fn, _Global) and isinstance(args, tuple):
        if fn.kind == "dtype" and len(args) == 3 and isinstance(args[0], str) and args[1:] == (False, True):
            code = args[0].lstrip("<>=|")
            if code in INT_DTYPES:
                return _Dtype(code)
            raise refuse(f"refused: numpy.dtype({args[0]!r}) (only integer ids are read; {WHY}); nothing was run")
        if fn.kind == "scalar" and len(args) == 2 and isinstance(args[0], _Dtype) and isinstance(args[1], bytes):
            size, signed = INT_DTYPES[args[0].code]
            if len(args[1]) != size:
                raise refuse(f"refused: a numpy {args[0].code} scalar of {len(args[1])} bytes ({WHY})")
            return int.from_bytes(args[1], "big" if args[0].order == ">" else "little", signed=signed)
        if fn.kind == "encode" and len(args) == 2 and isinstance(args[0], str) and args[1] == "latin1":
            return args[0].encode("latin1")
    raise refuse(f"refused: a call of {what} with arguments {type(args).__name__} ({WHY}); nothing was run")


def parse_entry(key: int, doc: str, delimiter: str, where) -> tuple:
    """(label, path) of one id map entry, as PaddleClas's predict_system reads the label."""
    try:
        doc.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{where}: id {key} maps to {_brief(doc)}, which is not valid UTF-8 (a lone surrogate): the "
                       "gallery stores labels and paths as UTF-8") from None
    words = doc.split()
    if len(words) < 2:
        raise BadInput(f"{where}: id {key} maps to {doc!r}, which has no label (PaddleClas's predict_system takes "
                       "the second word)")
    return words[1], doc.split(delimiter, 1)[0] if delimiter else words[0]


def read_faiss_index(path) -> tuple:
    """(vectors float32 [n, d], ids int64 [n], info) from a PaddleClas vector.index (module docstring)."""
    import faiss

    path = Path(path)
    files.require_file(path)
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as e:
        try:
            faiss.read_index_binary(str(path))
        except RuntimeError:
            pass
        else:
            raise BadInput(f"{path}: is a binary faiss index (dist_type hamming, Binarize features): lite-tools "
                           "searches float embeddings by inner product only") from None
        raise BadInput(f"{path}: faiss cannot read it ({_last_line(e)[:200]})") from None
    except MemoryError:  # a size field asking for more than there is (std::bad_alloc): damaged or hostile
        raise BadInput(f"{path}: faiss cannot read it ({TOO_GREEDY})") from None
    outer = faiss.downcast_index(index)
    kind = type(outer).__name__
    if kind in ("IndexIDMap2", "IndexIDMap"):
        inner = faiss.downcast_index(outer.index)
        ids = faiss.vector_to_array(outer.id_map).astype(np.int64)
    else:
        inner, ids = outer, np.arange(outer.ntotal, dtype=np.int64)
    inner_kind = type(inner).__name__
    if inner_kind not in IMPORTABLE:
        raise BadInput(f"{path}: a faiss {inner_kind} index cannot be imported (its vectors cannot be reconstructed "
                       f"exactly); supported: Flat, HNSW32 (IndexHNSWFlat), IVF (IndexIVFFlat), as PaddleClas's "
                       "index_method writes them")
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise BadInput(f"{path}: a faiss {inner_kind} index with the L2 metric (dist_type L2): lite-tools searches by "
                       "inner product (dist_type IP), as PaddleClas's PP-ShiTu configs do")
    n, d = int(index.ntotal), int(index.d)
    if n == 0:
        raise BadInput(f"{path}: holds no vectors: an empty gallery is of no use")
    if inner_kind == "IndexIVFFlat":
        faiss.extract_index_ivf(inner).make_direct_map()
    try:
        if inner is outer:
            vectors = inner.reconstruct_n(0, n)
        else:
            vectors = np.stack([outer.reconstruct(int(i)) for i in ids]) if kind == "IndexIDMap2" else \
                inner.reconstruct_n(0, n)
    except RuntimeError as e:
        raise BadInput(f"{path}: faiss cannot reconstruct the vectors of its {inner_kind} "
                       f"({_last_line(e)[:160]})") from None
    info = {"file": str(path), "type": kind if inner is outer else f"{kind}({inner_kind})", "count": n,
            "dimension": d, "metric": "IP", "approximate": inner_kind in APPROXIMATE}
    return np.ascontiguousarray(vectors, np.float32), ids, info, index


def _limit_memory(file_bytes: int) -> None:
    """Cap this process's address space at what it maps now plus 8 copies of the file plus CHILD_MEMORY_SLACK, so a
    size field asking for more ends in std::bad_alloc (MemoryError), not in the OOM killer's hands."""
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * resource.getpagesize()
    limit = mapped + 8 * file_bytes + CHILD_MEMORY_SLACK
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _read_and_search(path: str) -> tuple:
    """The spawned child's body: read the index, search it with agreement_queries(); (vectors, ids, info, queries,
    faiss's top-k ids), or BadInput naming the file."""
    import faiss  # before the limit: its libraries are mapped already

    faiss.omp_set_num_threads(1)  # 100 queries: threads would only add stacks to the address space

    try:
        _limit_memory(Path(path).stat().st_size)
        vectors, ids, info, faiss_index = read_faiss_index(path)
        queries = agreement_queries(vectors)
        _, theirs = faiss_index.search(queries, min(AGREEMENT_K, len(vectors)))
    except MemoryError:
        raise BadInput(f"{path}: faiss cannot search it ({TOO_GREEDY})") from None
    except RuntimeError as e:
        raise BadInput(f"{path}: faiss cannot search it ({_last_line(e)[:160]}): a damaged file") from None
    return vectors, ids, info, queries, theirs


def _last_line(e: Exception) -> str:
    """The last line of a faiss error (its C++ message ends there), or the exception's type when it says nothing."""
    return str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__


def read_faiss_isolated(path) -> tuple:
    """read_faiss_index() and faiss's search for agreement() in a spawned child (module docstring):
    (vectors, ids, info, queries, faiss's top-k ids per query)."""
    path = Path(path)
    files.require_file(path)
    try:
        return child.call(_read_and_search, str(path), timeout=CHILD_TIMEOUT_S)
    except (child.Died, child.Failed) as e:
        raise BadInput(f"{path}: faiss crashed reading or searching it ({e}): a damaged or hostile file") from None


def read_paddleclas_index(index_dir, delimiter: str = "\t") -> dict:
    """Everything of a PaddleClas index folder, checked for agreement between its two files."""
    index_dir = Path(index_dir)
    files.stat_of(index_dir, "directory")
    if not index_dir.is_dir():
        raise BadInput(f"{index_dir}: is not a directory (give the index_dir holding vector.index and id_map.pkl)")
    for name in ("vector.index", "id_map.pkl"):
        if not (index_dir / name).exists():
            raise BadInput(f"{index_dir / name}: no such file (a PaddleClas index_dir holds vector.index and "
                           "id_map.pkl)")
    id_map = read_id_map(index_dir / "id_map.pkl")
    vectors, ids, info, queries, theirs = read_faiss_isolated(index_dir / "vector.index")
    if len(id_map) != ids.size or set(id_map) != set(int(i) for i in ids):
        missing = sorted(set(int(i) for i in ids) - set(id_map))[:3]
        raise BadInput(f"{index_dir}: vector.index holds {ids.size} ids, id_map.pkl names {len(id_map)}"
                       + (f" (not e.g. {missing})" if missing else "") + ": they are not one gallery")
    if not np.isfinite(vectors).all():
        raise BadInput(f"{index_dir / 'vector.index'}: holds NaN or infinite vectors")
    entries = [parse_entry(int(i), id_map[int(i)], delimiter, index_dir / "id_map.pkl") for i in ids]
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    info["norm_range"] = [float(norms.min()), float(norms.max())]
    return {"vectors": vectors, "ids": ids, "labels": [e[0] for e in entries], "paths": [e[1] for e in entries],
            "docs": [id_map[int(i)] for i in ids], "info": info, "queries": queries, "faiss_top": theirs}


AGREEMENT_QUERIES = 100
AGREEMENT_K = 5


def agreement_queries(vectors: np.ndarray) -> np.ndarray:
    """Copies of stored vectors with a little noise (|noise| ~ 0.1), unit length: what agreement() searches."""
    rng = np.random.RandomState(0)
    picks = np.linspace(0, len(vectors) - 1, min(AGREEMENT_QUERIES, len(vectors))).astype(int)
    q = vectors[picks].astype(np.float64) + rng.normal(0, 0.1 / np.sqrt(vectors.shape[1]),
                                                        (picks.size, vectors.shape[1]))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def agreement(queries: np.ndarray, theirs: np.ndarray, search) -> dict:
    """How often the imported faiss index (its top-k ids `theirs` for `queries`) and our exact search give the same
    top-1 id (and top-k sets): for HNSW/IVF this measures their approximation, reported, not gated."""
    kk = theirs.shape[1]
    same_top1 = same_topk = 0
    for row, query in zip(theirs, queries):
        ours = [h.id for h in search(query, kk)]
        same_top1 += int(row[0] == ours[0])
        same_topk += int(set(int(x) for x in row) == set(ours))
    return {"queries": int(len(queries)), "k": kk, "top1_agreement": same_top1 / len(queries),
            "topk_agreement": same_topk / len(queries)}


def import_gallery(index_dir, rec_model, config, out, image_root=None, delimiter: str = "\t", force: bool = False,
                   progress=None, inputs=()) -> dict:
    """`lite-tools gallery build --from-paddleclas-index DIR`: a GALLERY from PaddleClas's vector.index +
    id_map.pkl, bound to `rec_model` but marked "origin unverified" (nothing proves every vector came from it).
    What can be checked is: the dimension against the rec model's output, and, where the gallery images are found
    under `image_root`, a sample re-embedded here (cosine >= 0.99 each, else refused)."""
    from .. import outputs, staging
    from ..reference.images import load_image
    from . import gallery

    progress = progress or (lambda m: None)
    gallery.check_config(config)
    found = read_paddleclas_index(index_dir, delimiter)
    info = found["info"]
    if image_root is not None:
        files.stat_of(Path(image_root), "directory")
    out = Path(out)
    outputs.check_destination(out, force, (index_dir, rec_model, image_root, *inputs))  # inputs: --config
    with staging.folder(outputs.parent_of(out), ".lite-tools-gallery-") as tmp:
        binding = gallery.bind(rec_model, Path(tmp) / "opt")
        config = gallery.check_config(config, binding)
        embedder = gallery.Embedder(rec_model, config)
        dim = binding.output_dim
        if dim is None:  # a variable output width in the program: ask the model
            from ..reference.images import synthetic_images
            dim = int(embedder.raw(synthetic_images(1)[0]).size)
        if dim != info["dimension"]:
            raise BadInput(f"{Path(index_dir) / 'vector.index'}: holds {info['dimension']}-d vectors but {rec_model} "
                           f"outputs {dim}-d embeddings: the index was built with another rec model")
        checked = []
        if image_root is not None:
            picks = np.linspace(0, info["count"] - 1, min(REEMBED_SAMPLE, info["count"])).astype(int)
            for p in sorted(set(picks.tolist())):
                image = Path(image_root) / found["paths"][p]
                if not image.is_file():
                    continue
                try:
                    ours = embedder(load_image(image))
                except BadInput as e:
                    progress(f"gallery: not re-embedded: {e}")
                    continue
                stored = found["vectors"][p].astype(np.float64)
                cosine = float(np.dot(stored, ours) / (np.linalg.norm(stored) * np.linalg.norm(ours)))
                checked.append({"id": int(found["ids"][p]), "path": str(image), "cosine": cosine})
                if not cosine >= REEMBED_COSINE_MIN:
                    raise BadInput(f"{index_dir}: the vector of id {int(found['ids'][p])} ({image}) has cosine "
                                   f"{cosine:.4f} with {rec_model}'s embedding of that image (< {REEMBED_COSINE_MIN}): "
                                   "the index was built with another rec model or other preprocessing")
        if checked:
            verdict = (f"{len(checked)} sampled gallery image(s) re-embedded: cosine >= "
                       f"{min(c['cosine'] for c in checked):.4f}")
        elif image_root is None:
            verdict = "no --image-root: no gallery image re-embedded"
        else:
            verdict = f"none of the sampled gallery images is under {image_root}: none re-embedded"
        progress(f"gallery: imported {info['count']} vectors from {info['type']}, origin unverified ({verdict})")
        view = index.decode(index.encode("float32", found["vectors"], found["ids"], found["labels"], found["paths"],
                                         binding.params_sha256, binding.nb_sha256), "import")
        agree = agreement(found["queries"], found["faiss_top"], view.search)
        if info["approximate"]:
            progress(f"gallery: {info['type']} is an approximate index: its top-1 agrees with exact search on "
                     f"{agree['top1_agreement']:.0%} of {agree['queries']} queries (reported, not gated)")
        source = {"images": None, "kind": "paddleclas index", "index_dir": str(index_dir),
                  "image_root": str(image_root) if image_root is not None else None}
        manifest = gallery.write_folder(Path(tmp) / "gallery", found["vectors"], found["ids"], found["labels"],
                                        found["paths"], binding, config.source, {
            "origin": gallery.ORIGIN_IMPORTED, "verified": False, "source": source, "skipped": [],
            "import": {**info, "reembedded": checked, "verdict": verdict, "faiss_agreement": agree,
                       "delimiter": delimiter},
            "history": [{"operation": "import", "added": info["count"], "index_dir": str(index_dir)}]})
        outputs.install(Path(tmp) / "gallery", out, "gallery build")
    return manifest
