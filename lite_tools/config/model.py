"""`DeployConfig`: the one source of truth for how pixels become the model's input and how its outputs become
labels, attributes and boxes. The Python reference and every template read this, never their own copies."""

from __future__ import annotations

import dataclasses
import enum
import math
from pathlib import Path

from ..errors import BadInput


BOX_FORMATS = ("normalized", "pixels")
# How a PaddleDetection detector's outputs look (the file alone cannot tell nms from decoded: export.nms=False writes
# the same infer_cfg.yml): "nms" [N, 6] rows + a box count; "decoded" pre-NMS boxes [1, N, 4] in network-input
# pixels + scores [1, C, N]; "raw" PicoDet heads (scores and box distributions per FPN level); "" undecided.
DET_FORMS = ("", "nms", "decoded", "raw")
# The PaddleClas post-processors a MULTILABEL config follows (deploy/python/postprocess.py), each with its quirks.
MULTILABEL_POSTPROCESS = ("MultiLabelThreshOutput", "PersonAttribute", "VehicleAttribute", "TableAttribute")


class Task(str, enum.Enum):
    CLASSIFY = "classify"  # PaddleClas Topk: top-k over class probabilities
    BINARY = "binary"  # PaddleClas ThreshOutput: C = 2: probs[1] >= threshold -> label_1; else its multi-class branch
    MULTILABEL = "multilabel"  # sigmoid scores (in the graph) -> attributes, per `postprocess`
    SSD = "ssd"  # boxes [N, 6] = label, score, xmin, ymin, xmax, ymax
    PICODET = "picodet"
    EMBEDDING = "embedding"


class ResizeMode(str, enum.Enum):
    SHORT = "short"  # scale so the short side is `short`; long side round-half-even as PaddleClas's round()
    FIXED = "fixed"  # exactly width x height (stretch), or fit inside it with keep_ratio


class Interp(str, enum.Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    AREA = "area"  # OpenCV's INTER_AREA (cv2 only)
    LANCZOS = "lanczos"  # OpenCV's INTER_LANCZOS4 (8 taps) or Pillow's LANCZOS (support 3, widened)
    BOX = "box"  # Pillow only
    HAMMING = "hamming"  # Pillow only


# What each resampler offers (PaddleClas's UnifiedResize names): the readers and DeployConfig accept these only.
CV2_METHODS = (Interp.NEAREST, Interp.BILINEAR, Interp.BICUBIC, Interp.AREA, Interp.LANCZOS)
PIL_METHODS = (Interp.NEAREST, Interp.BILINEAR, Interp.BICUBIC, Interp.LANCZOS, Interp.BOX, Interp.HAMMING)


class ChannelOrder(str, enum.Enum):
    RGB = "RGB"
    BGR = "BGR"


@dataclasses.dataclass(frozen=True)
class Resize:
    mode: ResizeMode
    short: int = 0  # SHORT
    width: int = 0  # FIXED
    height: int = 0
    keep_ratio: bool = False  # FIXED: fit inside width x height (PaddleDetection keep_ratio) instead of stretching
    interp: Interp = Interp.BILINEAR
    antialias: bool = False  # PIL-style filter widening when shrinking (backend: pil); OpenCV does not


# The upstream OpenCV's CPU code for INTER_CUBIC (the x86-64 wheel runs it through Intel IPP, which picks its code
# per CPU): "avx2" IPP's AVX2 code (l9), "avx512" its AVX-512 code (k0), "none" no IPP (aarch64 wheels,
# cv2.ipp.setUseIPP(False)). IPP's SSE4.2 code (y8, CPUs without AVX2) is not modelled.
UPSTREAM_CPUS = {"avx2": "l9", "avx512": "k0", "none": None}
DEFAULT_L2_CACHE = 256 * 1024  # what OpenCV assumes where IPP reports no L2 size (AMD): ipp_warp.L2_CACHE (tested)
# The options that set it: the CLI's, and resolve's keywords (batch files' keys), in UpstreamCv2's field order.
UPSTREAM_OPTION_NAMES = ("--upstream-cpu", "--upstream-threads", "--upstream-l2")
UPSTREAM_OPTIONS = "/".join(UPSTREAM_OPTION_NAMES)
L2_LIMIT = 2**31  # bytes: IPP's L2 size is an int
UPSTREAM_KEYWORDS = ("upstream_cpu", "upstream_threads", "upstream_l2")


@dataclasses.dataclass(frozen=True)
class UpstreamCv2:
    """The machine whose cv2.resize the tensor reproduces, for the results that depend on it: IPP's cubic sums
    depend on its CPU code (`cpu`), IPP's warpAffine (keep_ratio cubic with fx/fy) also on cv2.getNumThreads()
    (`threads`) and the L2 size IPP reads (`l2_cache` bytes; 0: none reported, as on AMD, so 256 KiB)."""
    cpu: str = "avx2"
    threads: int = 1
    l2_cache: int = 0

    @property
    def ipp(self) -> bool:
        return UPSTREAM_CPUS[self.cpu] is not None

    @property
    def ipp_dispatch(self) -> str:
        return UPSTREAM_CPUS[self.cpu] or "l9"

    @property
    def l2_bytes(self) -> int:
        return self.l2_cache or DEFAULT_L2_CACHE

    def overriding(self, cpu=None, threads=None, l2_cache=None) -> "UpstreamCv2":
        """This machine with the values given (None keeps this one's), unchecked (problem() says what is wrong)."""
        return UpstreamCv2(self.cpu if cpu is None else cpu, self.threads if threads is None else threads,
                           self.l2_cache if l2_cache is None else l2_cache)

    def problem(self) -> str | None:
        fault = self.fault()
        return fault[1] if fault else None

    def fault(self) -> tuple | None:
        """(index of the faulty field in cpu, threads, l2_cache order, what is wrong), or None: callers name the
        one option or key at fault (UPSTREAM_OPTION_NAMES, UPSTREAM_KEYWORDS)."""
        if self.cpu not in UPSTREAM_CPUS:
            return 0, (f"upstream cpu {self.cpu!r} is not one of {', '.join(UPSTREAM_CPUS)} (IPP's SSE4.2 code, for "
                       "CPUs without AVX2, is not modelled)")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or not 1 <= self.threads <= 25:
            return 1, (f"upstream OpenCV threads must be a whole number from 1 to 25 (beyond 25 OpenCV's pool may "
                       f"merge stripes as timing has it: upstream's own result is not deterministic), got "
                       f"{self.threads!r}")
        if (isinstance(self.l2_cache, bool) or not isinstance(self.l2_cache, int)
                or not 0 <= self.l2_cache < L2_LIMIT):
            return 2, (f"upstream L2 cache must be a whole number of bytes from 0 (none reported) to "
                       f"{L2_LIMIT - 1}, got {self.l2_cache!r}")
        return None

    def describe(self, threads: bool = True) -> str:
        """The machine in words; threads=False: its CPU code only (what a resize without IPP's warpAffine
        depends on)."""
        cpu = {"avx2": "x86-64 with AVX2 (IPP's AVX2 code, l9)", "avx512": "x86-64 with AVX-512 (IPP's AVX-512 "
               "code, k0)", "none": "without IPP (aarch64 wheels, or cv2.ipp.setUseIPP(False))"}[self.cpu]
        if not threads:
            return cpu
        l2 = f"{self.l2_cache} bytes of L2 read by IPP" if self.l2_cache else "no L2 size reported to IPP (as on AMD)"
        return f"{cpu}, {self.threads} OpenCV thread{'s' if self.threads > 1 else ''}, {l2}"


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@dataclasses.dataclass(frozen=True)
class DeployConfig:
    task: Task
    resize: Resize
    crop: tuple | None  # (width, height) centre crop after resize, offsets (W - w) // 2, (H - h) // 2
    scale: float  # pixel (0..255) * scale, then (v - mean) / std
    mean: tuple
    std: tuple
    channel_order: ChannelOrder = ChannelOrder.RGB
    layout: str = "NCHW"
    labels: tuple = ()  # names by class index
    topk: int = 5
    threshold: float = 0.5  # BINARY: on probs[1]; MULTILABEL MultiLabelThreshOutput: per class
    score_threshold: float = 0.5  # SSD/PICODET: boxes below are dropped (PaddleDetection draw_threshold)
    # SSD/PICODET box coordinates: "normalized" to the network input (classic MobileNet-SSD), or "pixels" of the
    # source image (PaddleDetection exports rescale by their scale_factor input before the output).
    box_format: str = "normalized"
    input_name: str = ""
    source: str = ""  # where the values came from (preset name or file)
    # The upstream post-processor this config reproduces (Topk, ThreshOutput, MultiLabelThreshOutput,
    # PersonAttribute, VehicleAttribute, TableAttribute, NormalizeFeatures; "" for detectors and presets of old).
    postprocess: str = ""
    # Its named thresholds, as sorted (name, value) pairs: PersonAttribute threshold/glasses_threshold/
    # hold_threshold, VehicleAttribute color_threshold/type_threshold, TableAttribute's six.
    post_params: tuple = ()
    # ThreshOutput's multi-class branch (a model with C != 2): top-1 if its probability > threshold, else this
    # class; named from the class_id_map_file (multiclass_labels), or "" as PaddleClas does without one.
    default_label_index: int = 0
    multiclass_labels: tuple = ()
    model_name: str = ""  # PaddleX's Global.model_name, recorded
    det_form: str = ""  # one of DET_FORMS
    # PaddleDetection's NMS and fpn_stride in infer_cfg: export-time values written by the exporter, not
    # necessarily the graph's (a graph with NMS inside has its own attributes).
    export_nms: tuple = ()
    fpn_stride: tuple = ()
    pad_stride: int = 0  # PadStride after a fixed resize whose sides it divides: a no-op, recorded
    # The upstream machine whose cv2.resize the tensor reproduces (IPP's CPU code, OpenCV threads, L2 size).
    upstream_cv2: UpstreamCv2 = UpstreamCv2()
    # Where each value came from ((field, origin) pairs) and what was ignored or chosen: for `config show`.
    origins: tuple = dataclasses.field(default=(), compare=False)
    notes: tuple = dataclasses.field(default=(), compare=False)

    def __post_init__(self):
        where = self.source or "deploy config"
        if len(self.mean) != 3 or len(self.std) != 3:
            raise BadInput(f"{where}: mean and std need 3 values each")
        if not all(_finite(v) for v in (*self.mean, *self.std, self.scale)):
            raise BadInput(f"{where}: scale, mean and std must be finite numbers")
        if any(s == 0 for s in self.std):
            raise BadInput(f"{where}: std has a zero")
        if self.scale <= 0:
            raise BadInput(f"{where}: scale must be positive, got {self.scale}")
        r = self.resize
        methods = PIL_METHODS if r.antialias else CV2_METHODS
        if r.interp not in methods:
            raise BadInput(f"{where}: {r.interp.value} is not a {'Pillow' if r.antialias else 'OpenCV'} resize method "
                           f"(choose from {', '.join(m.value for m in methods)})")
        if r.mode == ResizeMode.SHORT and not r.short >= 1:
            raise BadInput(f"{where}: resize_short must be a positive size, got {r.short}")
        if r.mode == ResizeMode.FIXED and not (r.width >= 1 and r.height >= 1):
            raise BadInput(f"{where}: resize size must be positive, got {r.width}x{r.height}")
        if self.crop is not None and not (len(self.crop) == 2 and all(isinstance(v, int) and v >= 1
                                                                     for v in self.crop)):
            raise BadInput(f"{where}: crop size must be two positive integers, got {self.crop}")
        if not (isinstance(self.topk, int) and self.topk >= 1):
            raise BadInput(f"{where}: topk must be a positive integer, got {self.topk!r}")
        for name in ("threshold", "score_threshold"):
            value = getattr(self, name)
            if not (_finite(value) and 0.0 <= value <= 1.0):
                raise BadInput(f"{where}: {name} must be a number in [0, 1], got {value!r}")
        for name, value in self.post_params:
            if not (_finite(value) and 0.0 <= value <= 1.0):
                raise BadInput(f"{where}: {self.postprocess}.{name} must be a number in [0, 1], got {value!r}")
        u = self.upstream_cv2
        why = u.problem() if isinstance(u, UpstreamCv2) else f"upstream_cv2 must be an UpstreamCv2, got {u!r}"
        if why:
            raise BadInput(f"{where}: {why}")
        if self.layout != "NCHW":
            raise BadInput(f"{where}: layout {self.layout!r} is not supported (the apps and the reference feed NCHW)")
        if self.box_format not in BOX_FORMATS:
            raise BadInput(f"{where}: box_format {self.box_format!r} is not one of {', '.join(BOX_FORMATS)}")
        if self.det_form not in DET_FORMS:
            raise BadInput(f"{where}: det_form {self.det_form!r} is not one of {', '.join(DET_FORMS[1:])}")
        if self.task == Task.BINARY and len(self.labels) != 2:
            raise BadInput(f"{where}: a binary task needs exactly two labels (label_0, label_1)")
        if self.task == Task.MULTILABEL and self.postprocess not in MULTILABEL_POSTPROCESS:
            raise BadInput(f"{where}: a multilabel task needs one of {', '.join(MULTILABEL_POSTPROCESS)}, "
                           f"got {self.postprocess!r}")

    @property
    def input_size(self) -> tuple:
        """(width, height) of the network input, when it is fixed."""
        if self.crop:
            return tuple(self.crop)
        if self.resize.mode == ResizeMode.FIXED and not self.resize.keep_ratio:
            return (self.resize.width, self.resize.height)
        return None

    def param(self, name: str, default: float | None = None) -> float:
        """A named post-processing threshold (post_params)."""
        return dict(self.post_params).get(name, default)

    def origin(self, name: str) -> str:
        return dict(self.origins).get(name, self.source)

    def to_json(self) -> dict:
        def plain(v):
            if isinstance(v, enum.Enum):
                return v.value
            if dataclasses.is_dataclass(v):
                return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
            if isinstance(v, (tuple, list)):
                return [plain(x) for x in v]
            return v
        data = {"format": "lite-tools-deploy-config/1", **plain(self)}
        data["post_params"] = dict(self.post_params)
        data["export_nms"] = dict(self.export_nms)
        data["origins"] = dict(self.origins)
        if self.upstream_cv2 == UpstreamCv2():  # the default machine is left out: older lite-tools read the file
            del data["upstream_cv2"]
        return data

    @classmethod
    def from_json(cls, data: dict, source: str = "") -> "DeployConfig":
        if not isinstance(data, dict) or data.get("format") != "lite-tools-deploy-config/1":
            raise BadInput(f"{source}: not a lite-tools deploy config (missing format: lite-tools-deploy-config/1)")
        known = {f.name for f in dataclasses.fields(cls)} | {"format"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInput(f"{source}: unknown field(s) {', '.join(unknown)} in a lite-tools deploy config")
        def whole(name, v):  # JSON's 224, never 224.7 truncated nor true as 1
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"{name} must be an integer, got {v!r}")
            return v

        def real(name, v):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"{name} must be a number, got {v!r}")
            return float(v)

        def flag(name, v):
            if not isinstance(v, bool):
                raise ValueError(f"{name} must be true or false, got {v!r}")
            return v

        def upstream(u):
            if not isinstance(u, dict) or set(u) - {"cpu", "threads", "l2_cache"}:
                raise ValueError(f"upstream_cv2 must be an object of cpu, threads and l2_cache, got {u!r}")
            machine = UpstreamCv2(str(u.get("cpu", "avx2")), whole("upstream_cv2.threads", u.get("threads", 1)),
                                  whole("upstream_cv2.l2_cache", u.get("l2_cache", 0)))
            fault = machine.fault()
            if fault:
                raise ValueError(f"upstream_cv2.{dataclasses.fields(machine)[fault[0]].name}: {fault[1]}")
            return machine

        try:
            r = data["resize"]
            resize = Resize(ResizeMode(r["mode"]), whole("resize.short", r.get("short", 0)),
                            whole("resize.width", r.get("width", 0)), whole("resize.height", r.get("height", 0)),
                            flag("resize.keep_ratio", r.get("keep_ratio", False)),
                            Interp(r.get("interp", "bilinear")), flag("resize.antialias", r.get("antialias", False)))
            pairs = lambda d: tuple(sorted((str(k), real(f"post_params.{k}", v))  # noqa: E731
                                           for k, v in dict(d or {}).items()))
            return cls(task=Task(data["task"]), resize=resize,
                       crop=tuple(whole("crop", v) for v in data["crop"]) if data.get("crop") else None,
                       scale=real("scale", data["scale"]), mean=tuple(real("mean", v) for v in data["mean"]),
                       std=tuple(real("std", v) for v in data["std"]),
                       channel_order=ChannelOrder(data.get("channel_order", "RGB")),
                       layout=data.get("layout", "NCHW"), labels=tuple(map(str, data.get("labels", ()))),
                       topk=whole("topk", data.get("topk", 5)), threshold=real("threshold", data.get("threshold", 0.5)),
                       score_threshold=real("score_threshold", data.get("score_threshold", 0.5)),
                       box_format=data.get("box_format", "normalized"),
                       input_name=data.get("input_name", ""), source=data.get("source", source),
                       postprocess=str(data.get("postprocess", "")), post_params=pairs(data.get("post_params")),
                       default_label_index=whole("default_label_index", data.get("default_label_index", 0)),
                       multiclass_labels=tuple(map(str, data.get("multiclass_labels", ()))),
                       model_name=str(data.get("model_name", "")), det_form=str(data.get("det_form", "")),
                       export_nms=tuple(sorted((str(k), v) for k, v in dict(data.get("export_nms") or {}).items())),
                       fpn_stride=tuple(whole("fpn_stride", v) for v in data.get("fpn_stride", ())),
                       pad_stride=whole("pad_stride", data.get("pad_stride", 0)),
                       upstream_cv2=upstream(data.get("upstream_cv2", {})),
                       origins=tuple(sorted(dict(data.get("origins") or {}).items())),
                       notes=tuple(map(str, data.get("notes", ()))))
        except KeyError as e:
            raise BadInput(f"{source}: invalid deploy config: no field {e}") from None
        except ValueError as e:  # our own checks' words (and Enum's "'x' is not a valid Interp")
            raise BadInput(f"{source}: invalid deploy config: {e}") from None
        except (TypeError, AttributeError) as e:
            raise BadInput(f"{source}: invalid deploy config ({type(e).__name__}: {e})") from None

    def replace(self, **changes) -> "DeployConfig":
        return dataclasses.replace(self, **changes)


def write_json(config: DeployConfig, path: Path, inputs=()) -> None:
    """Write `config` as our JSON, atomically; refuse a `path` that is a directory, has no parent folder, or is one
    of `inputs` (the files the config was read from: replacing a PaddleClas YAML with JSON loses it)."""
    from ..jsonio import check_out_file, dumps, write_text_atomic

    check_out_file(path, inputs)
    write_text_atomic(path, dumps(config.to_json(), indent=2, ensure_ascii=False) + "\n")
