"""GALLERY folders: `lite-tools gallery build|add|remove`, and loading one for a search or a deploy.

A GALLERY is an output folder (lite_tools.outputs: marker, staged, moved in all or none) holding:
- gallery.f32.index and gallery.int8.index (lite_tools.shitu.index): the same entries, float32 and int8;
- labels.tsv: `id TAB label TAB path` per entry, for people and tools;
- gallery.json: the manifest: the rec model it belongs to (sha256 of its .pdiparams and of the ARM .nb that
  `lite-tools opt` makes for it with default options), dimension, count, the images and image root it came from,
  the images skipped and why, where it came from (built here, or imported from PaddleClas: "origin unverified"),
  every operation since, and each file's sha256 (a file changed by hand is refused).

Embeddings are the reference's: our preprocessing (the rec DeployConfig) and Paddle Inference on the rec export,
then L2-normalised in float32 as PaddleClas's predict_rec.py does (lite_tools.shitu.pipeline.Recogniser). A gallery
is bound to its rec model: adding to it, removing from it with --rec, or deploying it with another model (another
params sha256 or .nb sha256) is refused naming both.

IMAGES is a folder with one subfolder per label (the subfolder's name is the label; images anywhere below it), or a
PaddleClas list file (`path<delimiter>label` per line, as build_gallery.py reads `data_file`; paths relative to
the image root, by default the list file's folder). The label is the line's second field; PaddleClas's
predict_system shows `split()[1]` of it, which differs only for labels holding whitespace.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

from .. import outputs, staging
from ..config import DeployConfig, Task, UpstreamCv2
from ..errors import BadInput
from ..model import files
from . import index

MANIFEST = "gallery.json"
LABELS = "labels.tsv"
FORMAT = "lite-tools-gallery/1"
COMMANDS = ("gallery build", "gallery add", "gallery remove")
ORIGIN_BUILT = "built by lite-tools from labelled images"
ORIGIN_IMPORTED = "imported from a PaddleClas index: origin unverified"


@dataclasses.dataclass(frozen=True)
class ModelBinding:
    """The rec model a gallery belongs to."""
    model_dir: str
    params_sha256: str
    model_sha256: str
    nb_sha256: str  # the ARM .nb lite-tools opt makes with default options
    lite_version: str
    inputs: tuple  # ((name, shape), ...) from the opt manifest
    outputs: tuple

    @property
    def output_dim(self) -> int | None:
        shape = list(self.outputs[0][1]) if self.outputs else []
        return int(shape[-1]) if len(shape) == 2 and shape[-1] > 0 else None

    def to_json(self) -> dict:
        return {"model_dir": self.model_dir, "params_sha256": self.params_sha256, "model_sha256": self.model_sha256,
                "arm_nb_sha256": self.nb_sha256, "lite_version": self.lite_version}


def bind(rec_model, work: Path | None = None) -> ModelBinding:
    """Optimise the rec export for ARM (lite-tools opt, cached) and describe it."""
    from .. import opt

    def run(folder: Path) -> dict:
        return opt.optimize(rec_model, folder, opt.OptOptions(targets=("arm",), name="model"))

    if work is not None:
        manifest = run(Path(work))
    else:
        with staging.folder(tempfile.gettempdir(), "lite-tools-gallery-opt-") as tmp:
            manifest = run(Path(tmp))
    arm = manifest["targets"]["arm"]
    return ModelBinding(str(rec_model), manifest["model"]["params_sha256"], manifest["model"]["model_sha256"],
                        arm["sha256"], str(arm.get("opt_version", "")),
                        tuple((t["name"], tuple(t["shape"])) for t in manifest["inputs"]),
                        tuple((t["name"], tuple(t["shape"])) for t in manifest["outputs"]))


def rec_config(path) -> DeployConfig:
    """The recogniser's DeployConfig from --config: the rec export's inference.yml (PostProcess NormalizeFeatures),
    our JSON, or a PP-ShiTu system config (its RecPreProcess)."""
    from ..config import read_config_file
    from ..config.readers import parse_yaml, read_text
    from .system_config import is_system_config, read

    path = Path(path)
    if path.suffix != ".json":
        data = parse_yaml(path, read_text(path))
        if is_system_config(data):
            return read(path, data).recogniser
    return read_config_file(path)


def check_config(config: DeployConfig, binding: ModelBinding | None = None) -> DeployConfig:
    if config.task != Task.EMBEDDING:
        raise BadInput(f"{config.source}: is a {config.task.value} config ({config.postprocess or 'preset'}); a "
                       "gallery needs the rec model's embedding config (PostProcess NormalizeFeatures, or a PP-ShiTu "
                       "config's RecPreProcess)")
    if binding is not None:
        from ..config import for_model

        config = for_model.settle(config, [list(o) for o in binding.outputs], binding.model_dir,
                                  inputs=[list(i) for i in binding.inputs])
    return config


class Embedder:
    """Image -> L2-normalised float32 embedding, the reference way (module docstring)."""

    def __init__(self, rec_model, config: DeployConfig):
        from ..engines import PaddleInferenceEngine
        from .pipeline import Recogniser

        mf = files.locate(rec_model)
        self.config = config
        self._recogniser = Recogniser(config, PaddleInferenceEngine(mf.model_file, mf.param_file))

    def raw(self, rgb: np.ndarray) -> np.ndarray:
        return self._recogniser.raw(rgb)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        from .pipeline import l2_normalise

        with np.errstate(divide="ignore", invalid="ignore"):
            return l2_normalise(self.raw(rgb))


# ---- the images of a gallery ----------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Source:
    """Where IMAGES' entries are: [(file to read, label, path to record)], plus how they were found."""
    items: tuple
    kind: str  # "folder" | "list"
    images: str
    image_root: str
    root_from: str  # why that root
    skipped: tuple = ()  # (path, reason) found while listing


def list_sources(images, image_root=None, delimiter: str = "\t") -> Source:
    images = Path(images)
    files.stat_of(images, "file or directory")
    if images.is_dir():
        if image_root is not None:
            raise BadInput(f"--image-root {image_root}: applies to a list file; {images} is a folder of label "
                           "subfolders")
        return _folder_sources(images)
    return _list_sources(images, image_root, delimiter)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _folder_sources(folder: Path) -> Source:
    items, skipped = [], []
    labels = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    for stray in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        skipped.append((str(stray), f"{stray}: not in a label subfolder ({folder} holds one subfolder per label)"))
    for label_dir in labels:
        for path in sorted(p for p in label_dir.rglob("*") if p.is_file() and not _hidden(p, folder)):
            items.append((path, label_dir.name, _utf8(path.relative_to(folder).as_posix(), path)))
    if not items:
        raise BadInput(f"{folder}: holds no images in label subfolders (a gallery folder holds one subfolder per "
                       "label, its images inside)")
    return Source(tuple(items), "folder", str(folder), str(folder), "the images folder", tuple(skipped))


def _utf8(name: str, path: Path) -> str:
    """`name` when it is valid UTF-8; a file name that is not (Latin-1, say: Python reads its bytes as lone
    surrogates) cannot be a label or path in the index's UTF-8 labels section, so it is refused, naming it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{path}: its name is not valid UTF-8 (the gallery stores labels and paths as UTF-8): "
                       "rename it") from None
    return name


def _list_sources(list_file: Path, image_root, delimiter: str) -> Source:
    files.require_file(list_file)
    if not delimiter:
        raise BadInput("--delimiter: must not be empty")
    root = Path(image_root) if image_root is not None else list_file.resolve().parent
    root_from = "--image-root" if image_root is not None else "the list file's folder (default)"
    if image_root is not None:
        files.stat_of(root, "directory")
        if not root.is_dir():
            raise BadInput(f"--image-root {root}: is not a directory")
    try:
        text = list_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadInput(f"{list_file}: is not UTF-8 text (byte {e.start}): a PaddleClas list file holds "
                       "'path<delimiter>label' lines") from None
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        fields = line.split(delimiter)
        if len(fields) < 2 or not fields[0] or not fields[1].strip():
            raise BadInput(f"{list_file}:{number}: {line[:80]!r} is not 'path{_shown(delimiter)}label' (PaddleClas's "
                           "build_gallery.py splits each line by its delimiter)")
        items.append((root / fields[0], fields[1].strip(), fields[0]))
    if not items:
        raise BadInput(f"{list_file}: lists no images")
    return Source(tuple(items), "list", str(list_file), str(root), root_from)


def _shown(delimiter: str) -> str:
    return {"\t": "<TAB>", " ": "<SPACE>"}.get(delimiter, delimiter)


def embed_sources(source: Source, embedder: Embedder, progress) -> tuple:
    """(vectors float32 [n, d], labels, paths, skipped [(path, reason)]): every decodable image embedded, the
    others skipped with the reason (said on the way)."""
    from ..reference.images import load_image, max_pixels
    from ..reference.preprocess import unusable

    limit = max_pixels()
    vectors, labels, paths, skipped = [], [], [], list(source.skipped)
    for path, why in source.skipped:
        progress(f"gallery: skipped {why}")
    for file, label, recorded in source.items:
        reason = None
        if not Path(file).is_file():
            reason = f"{file}: no such file"
        else:
            try:
                rgb = load_image(file, limit)
                reason = unusable(rgb.shape[1], rgb.shape[0], embedder.config)
                if reason:
                    reason = f"{file}: {reason}"
            except BadInput as e:
                reason = str(e)
        if reason is None:
            v = embedder(rgb)
            if not np.isfinite(v).all():
                reason = f"{file}: the rec model's features are zero or not finite: no direction to search by"
            else:
                vectors.append(v)
                labels.append(label)
                paths.append(recorded)
        if reason:
            skipped.append((str(file), reason))
            progress(f"gallery: skipped {reason}")
    dim = vectors[0].size if vectors else 0
    return np.array(vectors, np.float32).reshape(len(vectors), dim), labels, paths, skipped


def _no_images(source: Source, skipped: list) -> BadInput:
    from ..reference.images import NAMED_IN_ERROR

    named = "; ".join(reason for _, reason in skipped[:NAMED_IN_ERROR])
    more = len(skipped) - NAMED_IN_ERROR
    return BadInput(f"{source.images}: no gallery image could be embedded, and an empty gallery is refused: "
                    f"{named}" + (f"; and {more} more" if more > 0 else ""))


# ---- a GALLERY folder -----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Gallery:
    folder: Path
    manifest: dict
    indexes: dict  # "float32" | "int8" -> index.IndexFile

    @property
    def float32(self) -> index.IndexFile:
        return self.indexes["float32"]

    @property
    def dim(self) -> int:
        return self.float32.dim

    @property
    def count(self) -> int:
        return self.float32.count

    @property
    def ids(self) -> np.ndarray:
        return self.float32.ids

    @property
    def labels(self) -> tuple:
        return self.float32.labels

    @property
    def paths(self) -> tuple:
        return self.float32.paths

    @property
    def params_sha256(self) -> str:
        return self.float32.params_sha256

    @property
    def nb_sha256(self) -> str:
        return self.float32.nb_sha256

    def file(self, element: str) -> Path:
        """The index file to ship (EmbeddingSearcher maps either)."""
        return self.folder / index.FILE_NAMES[element]

    def search(self, query, k: int = 5, element: str = "float32") -> list:
        """[index.Hit] best first (score descending, ties by the lower id), as the app's EmbeddingSearcher."""
        return self.indexes[element].search(query, k)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(folder) -> Gallery:
    """A GALLERY folder, every file checked against its manifest and the two index files against each other."""
    folder = Path(folder)
    files.stat_of(folder, "directory")
    manifest_path = folder / MANIFEST
    if not folder.is_dir() or not manifest_path.is_file():
        raise BadInput(f"{folder}: is not a lite-tools gallery (no {MANIFEST}; make one with lite-tools gallery "
                       "build)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BadInput(f"{manifest_path}: cannot be read as JSON ({type(e).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInput(f"{manifest_path}: not a lite-tools gallery manifest (format {FORMAT})")
    indexes = {}
    for element, name in index.FILE_NAMES.items():
        path = folder / name
        recorded = (manifest.get("files") or {}).get(element, {})
        if not path.is_file():
            raise BadInput(f"{path}: missing from the gallery")
        if recorded.get("sha256") != _sha256(path):
            raise BadInput(f"{path}: changed since lite-tools wrote it (its sha256 is not the manifest's): rebuild "
                           "the gallery")
        indexes[element] = index.read(path)
    f32, i8 = indexes["float32"], indexes["int8"]
    if (f32.dim, f32.params_sha256, f32.nb_sha256, f32.labels, f32.paths) != \
            (i8.dim, i8.params_sha256, i8.nb_sha256, i8.labels, i8.paths) or not np.array_equal(f32.ids, i8.ids):
        raise BadInput(f"{folder}: its float32 and int8 index files hold different entries")
    if manifest.get("count") != f32.count or manifest.get("dimension") != f32.dim:
        raise BadInput(f"{manifest_path}: says {manifest.get('count')} entries of {manifest.get('dimension')}-d, the "
                       f"index holds {f32.count} of {f32.dim}-d")
    return Gallery(folder, manifest, indexes)


def require_model(gallery: Gallery, binding: ModelBinding) -> None:
    """BadInput naming both models when `gallery` was not built with `binding`'s rec model."""
    if (gallery.params_sha256, gallery.nb_sha256) == (binding.params_sha256, binding.nb_sha256):
        return
    hint = ("the same params, another .nb: another Paddle Lite version made it" if
            gallery.params_sha256 == binding.params_sha256 else "another rec model")
    raise BadInput(f"{gallery.folder}: was built with the rec model whose params sha256 is {gallery.params_sha256} "
                   f"(ARM .nb {gallery.nb_sha256}), but {binding.model_dir} has params {binding.params_sha256} "
                   f"(.nb {binding.nb_sha256}): {hint}; its vectors mean nothing to this model: rebuild the gallery "
                   "with it (lite-tools gallery build)")


def require_params(gallery: Gallery, rec_model) -> None:
    """The quick half of require_model, before any optimiser runs: the params file's sha256."""
    from ..cache import sha256_file_remembered

    mf = files.locate(rec_model)
    params = sha256_file_remembered(mf.param_file)
    if params != gallery.params_sha256:
        raise BadInput(f"{gallery.folder}: was built with the rec model whose params sha256 is {gallery.params_sha256}"
                       f", but {mf.param_file} has sha256 {params}: another rec model; its vectors mean nothing to "
                       "this model: rebuild the gallery with it (lite-tools gallery build)")


def _int8_check(vectors: np.ndarray) -> dict:
    """How the int8 file ranks perturbed copies of the gallery's own vectors against float32 (recorded in the
    manifest; computed in one batch, as index.py's int8 arithmetic does per query)."""
    n, dim = vectors.shape
    rng = np.random.RandomState(0)
    picks = np.linspace(0, n - 1, min(100, n)).astype(int)
    noise = rng.normal(0, 0.1 / np.sqrt(dim), (picks.size, dim))  # |noise| ~ 0.1
    queries = (vectors[picks] + noise).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    scales, codes = index.quantize(vectors)
    exact = vectors.astype(np.float64) @ queries.T.astype(np.float64)
    padded = np.zeros((picks.size, index.stride_of(dim)), np.float32)
    padded[:, :dim] = queries
    quantised = [index.int8_query(scales, q) for q in padded]
    approx = (codes.astype(np.int64) @ np.stack([big[:dim] for big, _ in quantised]).T) / np.array(
        [k for _, k in quantised])
    return {"queries": int(picks.size),
            "top1_agreement_with_float32": float(np.mean(exact.argmax(axis=0) == approx.argmax(axis=0))),
            "max_score_difference": float(np.abs(exact - approx).max())}


def write_folder(folder: Path, vectors, ids, labels, paths, binding: ModelBinding, config_source: str,
                 manifest: dict) -> dict:
    """Write the gallery's files into `folder` (a staging folder) and return the manifest written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for element, name in index.FILE_NAMES.items():
        sha = index.write(folder / name, element, vectors, ids, labels, paths, binding.params_sha256,
                          binding.nb_sha256)
        written[element] = {"file": name, "sha256": sha, "bytes": (folder / name).stat().st_size}
    (folder / LABELS).write_text("".join(f"{int(i)}\t{index.escape(lb)}\t{index.escape(p)}\n"
                                         for i, lb, p in zip(ids, labels, paths)), encoding="utf-8")
    counts = {}
    for lb in labels:
        counts[lb] = counts.get(lb, 0) + 1
    full = {"format": FORMAT, "dimension": int(vectors.shape[1]), "count": int(len(ids)), "metric": "IP",
            "normalised": "L2, float32, as PaddleClas's predict_rec.py", "rec_model": binding.to_json(),
            "rec_config": config_source, "labels": counts, "files": {**written, "labels": LABELS},
            "int8": _int8_check(np.asarray(vectors, np.float32)), **manifest}
    from ..jsonio import dumps

    text = dumps(full, indent=1, ensure_ascii=False) + "\n"
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a source path (the images folder, a skipped file) that is not UTF-8: \udcXX
        data = (dumps(full, indent=1) + "\n").encode("ascii")
    (folder / MANIFEST).write_bytes(data)
    return full


def _skipped_json(skipped) -> list:
    return [{"path": p, "reason": r} for p, r in skipped]


def _source_json(source: Source) -> dict:
    return {"images": source.images, "kind": source.kind, "image_root": source.image_root,
            "image_root_from": source.root_from}


def build(images, rec_model, config: DeployConfig, out, image_root=None, delimiter: str = "\t", force: bool = False,
          progress=None, inputs=()) -> dict:
    """`lite-tools gallery build IMAGES`: embed every image, write GALLERY; return its manifest."""
    progress = progress or (lambda m: None)
    check_config(config)
    source = list_sources(images, image_root, delimiter)
    if source.kind == "list":
        progress(f"gallery: image root {source.image_root} ({source.root_from})")
    out = Path(out)
    outputs.check_destination(out, force, (images, rec_model, image_root, *inputs))
    with staging.folder(outputs.parent_of(out), ".lite-tools-gallery-") as tmp:
        progress("gallery: optimising the rec model for arm (its .nb sha256 binds the gallery)")
        binding = bind(rec_model, Path(tmp) / "opt")
        config = check_config(config, binding)
        vectors, labels, paths, skipped = embed_sources(source, Embedder(rec_model, config), progress)
        if not labels:
            raise _no_images(source, skipped)
        ids = np.arange(len(labels), dtype=np.int64)
        manifest = write_folder(Path(tmp) / "gallery", vectors, ids, labels, paths, binding, config.source, {
            "origin": ORIGIN_BUILT, "source": _source_json(source), "skipped": _skipped_json(skipped),
            MACHINE: machine_json(config), PREPROCESS: preprocess_json(config),
            "history": [{"operation": "new", "added": len(labels), "skipped": len(skipped),
                         **_source_json(source)}]})
        outputs.install(Path(tmp) / "gallery", out, "gallery build")
    return manifest


# The manifest's record of the upstream machine whose cv2.resize the embeddings' inputs reproduce
# (DeployConfig.upstream_cv2 of the rec config, --upstream-*); absent: the default machine, or PaddleClas's own index.
MACHINE = "rec_upstream_cv2"


def machine_json(config: DeployConfig) -> dict:
    return dataclasses.asdict(config.upstream_cv2)


def require_machine(gallery: "Gallery", config: DeployConfig, doing: str) -> None:
    """Refuse to mix embeddings of two upstream machines' pixels, where the rec config's resize depends on the
    machine (reference.preprocess.depends_on_machine: cubic resizes)."""
    from ..reference.preprocess import depends_on_machine

    if MACHINE not in gallery.manifest and gallery.manifest.get("origin") == ORIGIN_IMPORTED:
        return  # PaddleClas's own vectors: computed on the upstream machine, whichever it is
    recorded = gallery.manifest.get(MACHINE, dataclasses.asdict(UpstreamCv2()))
    if recorded != machine_json(config) and depends_on_machine(config):
        raise BadInput(f"{gallery.folder}: its embeddings reproduce the upstream machine {recorded}, the rec config "
                       f"{config.source} now {machine_json(config)}: to {doing}, give the same --upstream-* (its "
                       "cubic resize depends on the machine)")


# The manifest's record of the rec preprocessing the embeddings' inputs came from (the settled rec config's fields
# below, as its JSON writes them); absent: a gallery of an older lite-tools, or PaddleClas's own index.
PREPROCESS = "rec_preprocess"
PREPROCESS_FIELDS = ("resize", "crop", "scale", "mean", "std", "channel_order", "layout")


def preprocess_json(config: DeployConfig) -> dict:
    data = config.to_json()
    return json.loads(json.dumps({field: data[field] for field in PREPROCESS_FIELDS}))  # as the manifest reads back


def require_preprocess(gallery: "Gallery", config: DeployConfig, doing: str) -> None:
    """Refuse to mix embeddings of two preprocessings (probe 2026-12-03: `gallery add` with a bilinear rec config
    to a gallery built with a bicubic one was silent, and shitu deploy then said READY): the vectors of one
    image would differ with the config, so a search would compare unlike things."""
    recorded = gallery.manifest.get(PREPROCESS)
    if not isinstance(recorded, dict):
        return
    now = preprocess_json(config)
    differ = [field for field in PREPROCESS_FIELDS if recorded.get(field) != now[field]]
    if differ:
        first = differ[0]
        raise BadInput(f"{gallery.folder}: its embeddings were made with another rec preprocessing (differing: "
                       f"{', '.join(differ)}; {first} {json.dumps(recorded.get(first))} there, "
                       f"{json.dumps(now[first])} in {config.source}): to {doing}, give the rec config it was built "
                       f"with (gallery.json's rec_config: {gallery.manifest.get('rec_config') or 'not recorded'})")


def _check_ours(folder: Path) -> None:
    writer = outputs.written_by(folder)
    if writer not in {f"lite-tools {c}" for c in COMMANDS}:
        raise BadInput(f"{folder}: was not written by lite-tools gallery ({writer or 'no lite-tools marker'}); "
                       "lite-tools changes only galleries it wrote")


def add(gallery_dir, images, rec_model, config: DeployConfig, image_root=None, delimiter: str = "\t",
        progress=None, inputs=()) -> dict:
    """`lite-tools gallery add GALLERY IMAGES` (PaddleClas's index_operation append): new ids after the largest."""
    progress = progress or (lambda m: None)
    gallery_dir = Path(gallery_dir)
    load(gallery_dir)  # a clear error for a path that is no gallery, before waiting on it
    with outputs.changing(gallery_dir, progress):
        return _add(gallery_dir, images, rec_model, config, image_root, delimiter, progress, inputs)


def _add(gallery_dir: Path, images, rec_model, config, image_root, delimiter, progress, inputs) -> dict:
    old = load(gallery_dir)
    _check_ours(gallery_dir)
    check_config(config)
    require_params(old, rec_model)
    require_machine(old, config, "add to it")
    source = list_sources(images, image_root, delimiter)
    if source.kind == "list":
        progress(f"gallery: image root {source.image_root} ({source.root_from})")
    outputs.check_destination(gallery_dir, True, (images, rec_model, image_root, *inputs))
    with staging.folder(outputs.parent_of(gallery_dir), ".lite-tools-gallery-") as tmp:
        binding = bind(rec_model, Path(tmp) / "opt")
        require_model(old, binding)
        config = check_config(config, binding)
        require_preprocess(old, config, "add to it")
        vectors, labels, paths, skipped = embed_sources(source, Embedder(rec_model, config), progress)
        if not labels:
            raise _no_images(source, skipped)
        start = int(old.ids.max()) + 1
        ids = np.concatenate([old.ids, np.arange(start, start + len(labels), dtype=np.int64)])
        manifest = _carried(old.manifest, {"operation": "append", "added": len(labels), "skipped": len(skipped),
                                           "first_id": start, **_source_json(source)})
        manifest["skipped"] = list(old.manifest.get("skipped", [])) + _skipped_json(skipped)
        manifest[MACHINE] = machine_json(config)
        result = write_folder(Path(tmp) / "gallery", np.concatenate([old.float32.vectors, vectors]), ids,
                              old.labels + tuple(labels), old.paths + tuple(paths), binding, config.source, manifest)
        staging.stop_at("gallery-add")  # test-only: a second add arrives while this one holds the gallery
        outputs.install(Path(tmp) / "gallery", gallery_dir, "gallery add")
    return result


def _carried(manifest: dict, operation: dict) -> dict:
    """What an add or a remove keeps of the old manifest (origin, source, import facts), with the new history."""
    kept = {k: v for k, v in manifest.items() if k in ("origin", "source", "skipped", "import", MACHINE, PREPROCESS)}
    kept["history"] = list(manifest.get("history", [])) + [operation]
    return kept


def remove(gallery_dir, labels=(), ids=(), rec_model=None, progress=None) -> dict:
    """`lite-tools gallery remove GALLERY --label L --id N` (PaddleClas's index_operation remove)."""
    progress = progress or (lambda m: None)
    gallery_dir = Path(gallery_dir)
    load(gallery_dir)
    with outputs.changing(gallery_dir, progress):
        return _remove(gallery_dir, labels, ids, rec_model)


def _remove(gallery_dir: Path, labels, ids, rec_model) -> dict:
    old = load(gallery_dir)
    _check_ours(gallery_dir)
    if not labels and not ids:
        raise BadInput("gallery remove needs --label LABEL or --id ID (one or more)")
    unknown_labels = [lb for lb in labels if lb not in old.labels]
    unknown_ids = [i for i in ids if i not in set(int(x) for x in old.ids)]
    if unknown_labels or unknown_ids:
        what = [f"label {lb!r}" for lb in unknown_labels] + [f"id {i}" for i in unknown_ids]
        raise BadInput(f"{gallery_dir}: has no entry with {', '.join(what)}; nothing was removed")
    drop = np.array([lb in set(labels) or int(i) in set(ids) for lb, i in zip(old.labels, old.ids)])
    if drop.all():
        raise BadInput(f"{gallery_dir}: removing {int(drop.sum())} of {old.count} entries would leave the gallery "
                       "empty, and an empty gallery is refused; nothing was removed")
    if rec_model is not None:
        require_params(old, rec_model)
    outputs.check_destination(gallery_dir, True, (rec_model,))
    keep = ~drop
    with staging.folder(outputs.parent_of(gallery_dir), ".lite-tools-gallery-") as tmp:
        if rec_model is not None:
            binding = bind(rec_model, Path(tmp) / "opt")
            require_model(old, binding)
        else:
            rec = old.manifest.get("rec_model", {})
            binding = ModelBinding(rec.get("model_dir", ""), old.params_sha256, rec.get("model_sha256", ""),
                                   old.nb_sha256, rec.get("lite_version", ""), (), ())
        manifest = _carried(old.manifest, {"operation": "remove", "removed": int(drop.sum()),
                                           "labels": list(labels), "ids": [int(i) for i in ids]})
        result = write_folder(Path(tmp) / "gallery", old.float32.vectors[keep], old.ids[keep],
                              tuple(np.array(old.labels, dtype=object)[keep]),
                              tuple(np.array(old.paths, dtype=object)[keep]), binding,
                              old.manifest.get("rec_config", ""), manifest)
        outputs.install(Path(tmp) / "gallery", gallery_dir, "gallery remove")
    return result
