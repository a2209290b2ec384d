"""PP-ShiTu's system config (PaddleClas `deploy/configs/inference_general.yaml` and its siblings), read as PaddleClas
2.6's `deploy/python/predict_system.py` (SystemPredictor, DetPredictor, RecPredictor) and `build_gallery.py` read
it, into one `SystemConfig`: two DeployConfigs (the mainbody detector and the recogniser) plus the system's own
settings. The stages reuse the single-model code (opt, parity, the Java core) through those two DeployConfigs.

What PaddleClas does with each section, and so what a reader must know:
- `Global`: `det_inference_model_dir` (empty: no detector, the whole image only), `rec_inference_model_dir`,
  `threshold` (detections under it dropped), `max_det_results` (kept before that threshold), `rec_nms_thresold`
  (sic: the spelling PaddleClas reads; `rec_nms_threshold` would be a KeyError there, so we name it),
  `label_list` (the detector's class names), `image_shape` (handed to DetResize, which overwrites it: recorded).
  Its engine settings (use_gpu, enable_mkldnn, cpu_num_threads, ir_optim, use_tensorrt, ...) configure the server
  predictor, not the maths: ignored, said so. None of the system values has a default upstream (KeyError).
- `DetPreProcess.transform_ops`: PaddleClas's own det_preprocess operators (not PaddleDetection's): DetResize
  (`target_size` int or [height, width]; `keep_ratio` default True; `interp` default cv2.INTER_LINEAR),
  DetNormalizeImage (`mean`, `std` required; `is_scale` default True: x / 255), DetPermute (HWC -> CHW),
  DetPadStride (`stride`, default 0: none). DetPredictor feeds the model's inputs by name: `image`, `im_shape`
  (after resize) and `scale_factor` ([scale_y, scale_x]), and reads only its first output as [N, 6] rows in source
  pixels: the detector must be an export with NMS in the graph. `DetPostProcess` is never read (must be empty).
- `RecPreProcess.transform_ops`: PaddleClas's classifier operators (ResizeImage, CropImage, NormalizeImage,
  ToCHWImage), read by lite_tools.config.paddleclas. `RecPostProcess: null`: RecPredictor L2-normalises the
  features itself (feature_normalize); `NormalizeFeatures` (what an exported inference.yml says) means the same;
  `Binarize` (binary retrieval) is refused by name.
- `IndexProcess`: `return_k`, `score_thres` (a hit is kept when its score >= it), `dist_type` (`IP`; `hamming`
  is binary retrieval, refused by name; anything else makes PaddleClas build an L2 index and still keep hits whose
  *distance* is >= score_thres, refused as meaningless), `index_dir` (vector.index + id_map.pkl),
  `image_root`, `data_file`, `delimiter` (the gallery list file build_gallery reads), `index_method` (HNSW32,
  IVF, Flat: recorded; lite-tools' own search is exhaustive), `embedding_size`, `index_operation`, `batch_size`.

Paths are strings as written, resolved when they are used (`locate`), with the rule lite-tools applies to a
config's `class_id_map_file` (config/labels.py): the working directory first (PaddleClas opens paths as written),
then as if run from the layout the YAML sits in (the nearest `deploy/` whose parent holds `ppcls/`: PaddleClas's
`./models/...` and `./drink_dataset_v2.0/...` are relative to `deploy/`). The path used is returned so the command
can print it; none found is an error listing every path tried.

Every unknown section, field or op is an error naming it, as the single-model readers do.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ..config import labels as label_files
from ..config import paddleclas, paddledet
from ..config.model import ChannelOrder, DeployConfig, Resize, ResizeMode, Task
from ..config.readers import parse_yaml, read_text
from ..config.values import Origins, fields, integer, number, triple
from ..errors import BadInput

TOP_LEVEL = {"Global", "DetPreProcess", "DetPostProcess", "RecPreProcess", "RecPostProcess", "IndexProcess", "Eval"}
GLOBAL_SYSTEM = {"det_inference_model_dir", "rec_inference_model_dir", "threshold", "max_det_results",
                 "rec_nms_thresold", "label_list", "image_shape"}
# Read by PaddleClas's deploy scripts but not by the system's maths (engine, batch, input list, logging).
GLOBAL_IGNORED = {"infer_imgs", "batch_size", "use_gpu", "enable_mkldnn", "cpu_num_threads", "enable_benchmark",
                  "benchmark", "use_fp16", "use_int8", "ir_optim", "use_tensorrt", "gpu_mem", "enable_profile",
                  "use_onnx", "use_xpu", "use_npu", "use_mlu", "output_dir", "save_log_path", "model_name",
                  "android_demo", "inference_model_dir"}
INDEX_FIELDS = {"index_method", "image_root", "index_dir", "data_file", "index_operation", "delimiter", "dist_type",
                "embedding_size", "batch_size", "return_k", "score_thres", "hamming_radius"}
INDEX_METHODS = ("HNSW32", "IVF", "Flat")
INDEX_OPERATIONS = ("new", "append", "remove")
DET_OPS = ("DetResize", "DetNormalizeImage", "DetPermute", "DetPadStride")
BINARY = "a PP-ShiTu binary retrieval config (dist_type: hamming / Binarize) is not supported"


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """IndexProcess, as SystemPredictor and build_gallery read it."""
    return_k: int
    score_thres: float
    dist_type: str  # "IP"
    index_dir: str  # as written; locate() resolves
    image_root: str = ""
    data_file: str = ""
    delimiter: str | None = None  # the data_file's; None when the config gives none (build_gallery needs one)
    index_method: str = "HNSW32"  # what PaddleClas would build (its default); our own search is exhaustive
    embedding_size: int | None = None
    index_operation: str = "new"


@dataclasses.dataclass(frozen=True)
class SystemConfig:
    """A PP-ShiTu system: detector + recogniser DeployConfigs and the settings predict_system.py applies between
    them. `detector` is None when Global.det_inference_model_dir is empty (PaddleClas then recognises the whole
    image only)."""
    detector: DeployConfig | None
    recogniser: DeployConfig
    det_model_dir: str  # as written ("" without a detector)
    rec_model_dir: str
    threshold: float  # Global.threshold: detections with score < it are dropped (after max_det_results)
    max_det_results: int
    rec_nms_threshold: float  # Global.rec_nms_thresold (sic)
    search: SearchSettings
    image_shape: tuple = ()  # Global.image_shape, recorded (DetResize overwrites it)
    det_labels: tuple = ()  # Global.label_list
    source: str = ""
    origins: tuple = dataclasses.field(default=(), compare=False)
    notes: tuple = dataclasses.field(default=(), compare=False)

    def locate(self, name: str, what: str, directory: bool = True) -> Path:
        """`name` (a path as written in the config) found by the config issue's rule; BadInput listing every path
        tried when it is nowhere."""
        return locate(name, Path(self.source), what, directory)

    def to_json(self) -> dict:
        return {"format": "lite-tools-shitu-config/1", "source": self.source,
                "detector": self.detector.to_json() if self.detector else None,
                "recogniser": self.recogniser.to_json(), "det_model_dir": self.det_model_dir,
                "rec_model_dir": self.rec_model_dir, "threshold": self.threshold,
                "max_det_results": self.max_det_results, "rec_nms_threshold": self.rec_nms_threshold,
                "image_shape": list(self.image_shape), "det_labels": list(self.det_labels),
                "search": dataclasses.asdict(self.search), "origins": dict(self.origins), "notes": list(self.notes)}


def locate(name: str, config_path: Path, what: str, directory: bool = True) -> Path:
    tried = label_files.candidates(str(name), config_path, training=False)
    for path in tried:
        if (path.is_dir() if directory else path.is_file()):
            return path
    kind = "folder" if directory else "file"
    raise BadInput(f"{config_path}: {what} {name!r}: no such {kind} (tried {', '.join(str(p) for p in tried)}; "
                   "PaddleClas opens it from the working directory)")


def is_system_config(data: dict) -> bool:
    return isinstance(data, dict) and bool(set(data) & {"DetPreProcess", "RecPreProcess", "IndexProcess"})


def read_system_config(path) -> SystemConfig:
    path = Path(path)
    return read(path, parse_yaml(path, read_text(path)))


def _section(path, data: dict, name: str, required: bool = True) -> dict:
    value = data.get(name)
    if value is None:
        if required:
            raise BadInput(f"{path}: no {name} section (PaddleClas's SystemPredictor needs it)")
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"{path}: {name} must be a mapping, got {type(value).__name__}")
    return value


def _required(path, section: str, values: dict, name: str):
    if name not in values or values[name] is None:
        raise BadInput(f"{path}: {section}.{name} is missing (PaddleClas reads it without a default)")
    return values[name]


def _binary(path, data: dict) -> None:
    index = data.get("IndexProcess") if isinstance(data.get("IndexProcess"), dict) else {}
    rec_post = data.get("RecPostProcess") if isinstance(data.get("RecPostProcess"), dict) else {}
    if index.get("dist_type") == "hamming" or "Binarize" in rec_post or "hamming_radius" in index:
        raise BadInput(f"{path}: {BINARY} (Binarize features searched by Hamming distance; lite-tools searches "
                       "float features by inner product)")


def read(path, data: dict) -> SystemConfig:
    """The parsed YAML of a PP-ShiTu system config -> SystemConfig (see the module docstring)."""
    path = Path(path)
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping at the top level")
    if not is_system_config(data):
        raise BadInput(f"{path}: not a PP-ShiTu system config (no DetPreProcess / RecPreProcess / IndexProcess); "
                       "a single model's config goes to `lite-tools deploy`")
    _binary(path, data)
    unknown = sorted(map(str, set(data) - TOP_LEVEL))
    if unknown:
        raise BadInput(f"{path}: unknown section(s) {', '.join(unknown)} in a PP-ShiTu system config (known: "
                       f"{', '.join(sorted(TOP_LEVEL))})")
    if "IndexProcess" not in data:
        part = "detection-only" if "RecPreProcess" not in data else "recognition-only"
        raise BadInput(f"{path}: a PP-ShiTu {part} config (no IndexProcess): not a system config; PaddleClas's "
                       "SystemPredictor needs IndexProcess")
    origins, notes = Origins(), []
    glob = _section(path, data, "Global")
    unknown = sorted(map(str, set(glob) - GLOBAL_SYSTEM - GLOBAL_IGNORED))
    if "rec_nms_threshold" in glob and "rec_nms_thresold" not in glob:
        raise BadInput(f"{path}: Global.rec_nms_threshold: PaddleClas reads Global.rec_nms_thresold (sic) and "
                       "would fail with a KeyError; spell it as PaddleClas does")
    if unknown:
        raise BadInput(f"{path}: unknown Global field(s) {', '.join(unknown)} in a PP-ShiTu system config")
    ignored = sorted(set(glob) & GLOBAL_IGNORED)
    if ignored:
        notes.append(f"Global {', '.join(ignored)} ignored: PaddleClas's server predictor settings and input "
                     "list, not the system's maths")
    if "Eval" in data:
        notes.append("Eval ignored (PaddleClas's evaluation script reads it, not the predictor)")

    rec_dir = _path_value(path, "Global", "rec_inference_model_dir",
                          _required(path, "Global", glob, "rec_inference_model_dir"))
    if not rec_dir:
        raise BadInput(f"{path}: Global.rec_inference_model_dir is empty")
    det_dir = _path_value(path, "Global", "det_inference_model_dir", glob.get("det_inference_model_dir") or "")
    rec_nms = _fraction(path, "Global", "rec_nms_thresold", _required(path, "Global", glob, "rec_nms_thresold"))
    origins.add("rec_nms_threshold", "Global.rec_nms_thresold (sic)")

    detector, threshold, max_det, det_labels, image_shape = None, 0.0, 0, (), ()
    if det_dir:
        threshold = _fraction(path, "Global", "threshold", _required(path, "Global", glob, "threshold"))
        max_det = integer(path, "Global", "max_det_results", _required(path, "Global", glob, "max_det_results"),
                          minimum=0)
        det_labels = _label_list(path, _required(path, "Global", glob, "label_list"))
        image_shape = _image_shape(path, _required(path, "Global", glob, "image_shape"))
        for name in ("threshold", "max_det_results", "label_list", "image_shape"):
            origins.add(name, f"Global.{name}")
        post = data.get("DetPostProcess")
        if post not in (None, {}):
            raise BadInput(f"{path}: DetPostProcess {post!r}: PaddleClas's DetPredictor never reads it (the "
                           "detector's NMS is in its graph); leave it empty")
        detector = read_det_preprocess(path, _section(path, data, "DetPreProcess"), threshold, det_labels)
    else:
        notes.append("Global.det_inference_model_dir is empty: no detector, the whole image is recognised "
                     "(PaddleClas's SystemPredictor does the same)")
        for name in ("DetPreProcess", "DetPostProcess"):
            if data.get(name):
                notes.append(f"{name} ignored: there is no detector")

    recogniser = read_rec(path, data, notes)
    search = read_index(path, _section(path, data, "IndexProcess"), origins, notes)
    return SystemConfig(detector=detector, recogniser=recogniser, det_model_dir=det_dir, rec_model_dir=rec_dir,
                        threshold=threshold, max_det_results=max_det, rec_nms_threshold=rec_nms, search=search,
                        image_shape=image_shape, det_labels=det_labels, source=str(path), origins=origins.pairs(),
                        notes=tuple(notes))


def _path_value(path, section, name, value) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{path}: {section}.{name} must be a path, got {value!r}")
    return value


def _fraction(path, section, name, value) -> float:
    v = number(path, section, name, value)
    if not 0.0 <= v <= 1.0:
        raise BadInput(f"{path}: {section}.{name} must be a number in [0, 1], got {value!r}")
    return v


def _label_list(path, value) -> tuple:
    if not isinstance(value, list) or not value:
        raise BadInput(f"{path}: Global.label_list must be a non-empty list of names, got {value!r}")
    return tuple(str(v) for v in value)


def _image_shape(path, value) -> tuple:
    if not isinstance(value, list) or len(value) != 3:
        raise BadInput(f"{path}: Global.image_shape must be [3, height, width], got {value!r}")
    return tuple(integer(path, "Global", "image_shape", v, minimum=1) for v in value)


def read_det_preprocess(path, section: dict, threshold: float, labels: tuple) -> DeployConfig:
    """DetPreProcess.transform_ops -> the detector's DeployConfig (NMS in the graph, boxes in source pixels)."""
    fields(path, "DetPreProcess", section, {"transform_ops"})
    ops = section.get("transform_ops")
    if not isinstance(ops, list):
        raise BadInput(f"{path}: DetPreProcess.transform_ops is not a list of transform ops")
    origins, notes = Origins(), []
    resize, norm, permuted, stride = None, None, False, 0
    seen = []
    for index, item in enumerate(ops):
        if not isinstance(item, dict) or len(item) != 1:
            raise BadInput(f"{path}: DetPreProcess.transform_ops[{index}] must be a single-key mapping, got {item!r}")
        (op, params), = item.items()
        at = f"DetPreProcess.transform_ops[{index}].{op}"
        if op not in DET_OPS:
            raise BadInput(f"{path}: unknown transform op {op!r} in DetPreProcess (supported: {', '.join(DET_OPS)})")
        if op in seen:
            raise BadInput(f"{path}: DetPreProcess has two {op} ops")
        seen.append(op)
        if op == "DetResize":
            if norm is not None or permuted:
                raise BadInput(f"{path}: {at} comes after normalising or permuting: lite-tools resizes the decoded "
                               "8-bit image first")
            p = fields(path, op, params, {"target_size", "keep_ratio", "interp"})
            size = _required(path, op, p, "target_size")
            if isinstance(size, list) and len(size) == 2:
                h, w = (integer(path, op, "target_size", v, minimum=1) for v in size)
            else:
                h = w = integer(path, op, "target_size", size, minimum=1)
            keep = paddledet.flag(path, op, p, "keep_ratio", True)
            interp = p.get("interp", 1)
            if isinstance(interp, bool) or not isinstance(interp, int):
                raise BadInput(f"{path}: {op}.interp must be an OpenCV interpolation flag, got {interp!r}")
            if interp not in paddledet.CV2_INTERP:
                raise BadInput(f"{path}: {op}.interp {interp} is not an OpenCV interpolation flag lite-tools knows "
                               "(0 nearest, 1 linear, 2 cubic, 3 area, 4 lanczos4)")
            resize = Resize(ResizeMode.FIXED, width=w, height=h, keep_ratio=keep, interp=paddledet.CV2_INTERP[interp])
            origins.add("resize", f"{at}.target_size {size} (height, width), keep_ratio {keep}"
                                  f"{'' if 'keep_ratio' in p else ' (PaddleClas default)'}")
            origins.add("resize.interp", f"{at}.interp {interp}{'' if 'interp' in p else ' (PaddleClas default)'}")
        elif op == "DetNormalizeImage":
            if permuted:
                raise BadInput(f"{path}: {at} after DetPermute: PaddleClas would normalise a CHW image by HWC means")
            p = fields(path, op, params, {"mean", "std", "is_scale"})
            mean = triple(path, op, "mean", _required(path, op, p, "mean"))
            std = triple(path, op, "std", _required(path, op, p, "std"))
            is_scale = paddledet.flag(path, op, p, "is_scale", True)
            norm = (1.0 / 255.0 if is_scale else 1.0, mean, std)
            origins.add("scale", f"{at}.is_scale {is_scale}{'' if 'is_scale' in p else ' (PaddleClas default)'}")
            origins.add("mean", f"{at}.mean")
            origins.add("std", f"{at}.std")
        elif op == "DetPermute":
            fields(path, op, params, set())
            permuted = True
        else:  # DetPadStride
            if not permuted:
                raise BadInput(f"{path}: {at} before DetPermute: PaddleClas's DetPadStride pads a CHW image")
            p = fields(path, op, params, {"stride"})
            stride = integer(path, op, "stride", p.get("stride", 0), minimum=0)
    if resize is None:
        raise BadInput(f"{path}: DetPreProcess has no DetResize (the detector takes a fixed-size input)")
    if not permuted:
        raise BadInput(f"{path}: DetPreProcess has no DetPermute (the model takes NCHW)")
    if stride > 0:
        notes.append(paddledet.padding_is_noop(path, "DetPadStride", "DetResize", resize, stride))
    if norm is None:
        norm = paddledet.normalisation_in_graph(origins, "no DetNormalizeImage: the input stays 0..255 "
                                                         "(normalisation in the graph)")
    origins.add("channel_order", "PaddleClas's predict_system decodes with cv2 and converts to RGB")
    origins.add("labels", "Global.label_list")
    origins.add("score_threshold", "Global.threshold")
    origins.add("det_form", "PaddleClas's DetPredictor reads the first output as [N, 6] rows: NMS in the graph")
    notes.append("the detector's boxes come from its graph's NMS, in source pixels (PaddleClas feeds "
                 "scale_factor); the system keeps the top Global.max_det_results, then drops those under "
                 "Global.threshold")
    scale, mean, std = norm
    return DeployConfig(task=Task.PICODET, resize=resize, crop=None, scale=scale, mean=mean, std=std,
                        channel_order=ChannelOrder.RGB, labels=labels, score_threshold=threshold,
                        box_format="pixels", det_form="nms", pad_stride=stride,
                        source=f"{path} (DetPreProcess)", origins=origins.pairs(), notes=tuple(notes))


def read_rec(path, data: dict, notes: list) -> DeployConfig:
    """RecPreProcess (PaddleClas's classifier transforms) + RecPostProcess -> the recogniser's DeployConfig."""
    section = _section(path, data, "RecPreProcess")
    fields(path, "RecPreProcess", section, {"transform_ops"})
    origins = Origins()
    pre = paddleclas.read_transforms(path, section.get("transform_ops"), "RecPreProcess.transform_ops", origins,
                                     training=False)
    post = data.get("RecPostProcess")
    rec_notes = []
    if post is None:
        rec_notes.append("RecPostProcess null: PaddleClas's RecPredictor L2-normalises the features itself")
    elif isinstance(post, dict) and set(post) - {"main_indicator"} == {"NormalizeFeatures"} \
            and post.get("main_indicator") in (None, "NormalizeFeatures") and not post["NormalizeFeatures"]:
        rec_notes.append("RecPostProcess NormalizeFeatures: L2-normalised features, as RecPredictor computes them")
    elif isinstance(post, dict):
        named = sorted(map(str, set(post) - {"main_indicator"}))
        raise BadInput(f"{path}: unknown RecPostProcess op(s) {', '.join(named) or '(none)'} (supported: null, "
                       "NormalizeFeatures)")
    else:
        raise BadInput(f"{path}: RecPostProcess must be null or a mapping, got {post!r}")
    origins.add("postprocess", "RecPredictor's feature_normalize (L2)")
    return DeployConfig(task=Task.EMBEDDING, **pre, postprocess="NormalizeFeatures",
                        source=f"{path} (RecPreProcess)", origins=origins.pairs(), notes=tuple(rec_notes))


def read_index(path, section: dict, origins: Origins, notes: list) -> SearchSettings:
    p = fields(path, "IndexProcess", section, INDEX_FIELDS)
    dist = _required(path, "IndexProcess", p, "dist_type")
    if dist != "IP":
        raise BadInput(f"{path}: IndexProcess.dist_type {dist!r} is not supported (IP): PaddleClas builds an L2 "
                       "index for it but still keeps a hit whose distance is >= score_thres, so a larger distance, "
                       "a worse match, passes")
    return_k = integer(path, "IndexProcess", "return_k", _required(path, "IndexProcess", p, "return_k"), minimum=1)
    score = number(path, "IndexProcess", "score_thres", _required(path, "IndexProcess", p, "score_thres"))
    if not -1.0 <= score <= 1.0:
        raise BadInput(f"{path}: IndexProcess.score_thres {score} is outside [-1, 1], the range of an inner product "
                       "of L2-normalised features")
    index_dir = _path_value(path, "IndexProcess", "index_dir", _required(path, "IndexProcess", p, "index_dir"))
    strings = {}
    for name in ("image_root", "data_file"):
        strings[name] = _path_value(path, "IndexProcess", name, p.get(name) or "")
    delimiter = p.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
        raise BadInput(f"{path}: IndexProcess.delimiter must be a non-empty string, got {delimiter!r}")
    method = p.get("index_method", "HNSW32")
    if method not in INDEX_METHODS:
        raise BadInput(f"{path}: IndexProcess.index_method {method!r} is not one of {', '.join(INDEX_METHODS)}")
    operation = str(p.get("index_operation", "new")).lower()
    if operation not in INDEX_OPERATIONS:
        raise BadInput(f"{path}: IndexProcess.index_operation {p['index_operation']!r} is not one of "
                       f"{', '.join(INDEX_OPERATIONS)}")
    size = p.get("embedding_size")
    if size is not None:
        size = integer(path, "IndexProcess", "embedding_size", size, minimum=1)
    if "batch_size" in p:
        integer(path, "IndexProcess", "batch_size", p["batch_size"], minimum=1)
        notes.append("IndexProcess.batch_size ignored (how many gallery images PaddleClas embeds at once)")
    if method != "Flat":
        notes.append(f"IndexProcess.index_method {method}: PaddleClas's faiss search is approximate; lite-tools "
                     "searches the gallery exhaustively (exact inner product)")
    for name in ("return_k", "score_thres", "dist_type", "index_dir"):
        origins.add(f"search.{name}", f"IndexProcess.{name}")
    return SearchSettings(return_k=return_k, score_thres=score, dist_type=dist, index_dir=index_dir,
                          image_root=strings["image_root"], data_file=strings["data_file"], delimiter=delimiter,
                          index_method=method, embedding_size=size, index_operation=operation)


# PaddleClas's published system settings (deploy/configs/inference_general.yaml), for --det/--rec without a config.
GENERAL_DEFAULTS = {"threshold": 0.2, "max_det_results": 5, "rec_nms_thresold": 0.05, "return_k": 5,
                    "score_thres": 0.5}


def defaults_for(detector: DeployConfig, recogniser: DeployConfig) -> SystemConfig:
    """A system of two models' own deploy configs (the detector's infer_cfg.yml, the recogniser's inference.yml)
    with the settings of PaddleClas's inference_general.yaml."""
    if detector.task not in (Task.PICODET, Task.SSD) or detector.box_format != "pixels":
        raise BadInput(f"{detector.source}: is not a PaddleDetection detector config (boxes in source pixels); "
                       "PP-ShiTu's detector is a PaddleDetection export")
    if recogniser.task != Task.EMBEDDING:
        raise BadInput(f"{recogniser.source}: is a {recogniser.task.value} config; the recogniser's is an embedding "
                       "config (PostProcess NormalizeFeatures)")
    d = GENERAL_DEFAULTS
    note = ("--det/--rec without --config: the settings of PaddleClas's inference_general.yaml (threshold 0.2, "
            "max_det_results 5, rec_nms_thresold 0.05, return_k 5, score_thres 0.5)")
    return SystemConfig(detector=detector.replace(score_threshold=d["threshold"]), recogniser=recogniser,
                        det_model_dir="", rec_model_dir="", threshold=d["threshold"],
                        max_det_results=d["max_det_results"], rec_nms_threshold=d["rec_nms_thresold"],
                        search=SearchSettings(return_k=d["return_k"], score_thres=d["score_thres"], dist_type="IP",
                                              index_dir=""),
                        det_labels=detector.labels, source="PaddleClas inference_general.yaml settings",
                        origins=(("settings", note),), notes=(note,))
