"""PaddleClas configs: the deploy YAML (`deploy/configs/...`), the `inference.yml` its export writes beside the
model (`ppcls/utils/config.py::dump_infer_config`, also what PaddleX's classifier exports hold), and a training
config's `Infer:` section. Each value is read as PaddleClas 2.6's own operators read it (deploy/python/
preprocess.py and postprocess.py), with PaddleClas's defaults, and every value records where it came from.

What PaddleClas does that a reader must know:
- The predictor decodes with cv2 and flips to RGB itself (`img[:, :, ::-1]`); inference configs carry no
  DecodeImage (the export strips it). A training config's `Infer.transforms` DecodeImage(to_rgb) is honoured.
- ResizeImage: `resize_short` > 0 wins over `size`; `size` is an int or [width, height]; the long side is
  `int(round(side * short / min(w, h)))`. CropImage size is an int or [width, height], centred with `//`.
- NormalizeImage: `scale` a number or a string PaddleClas `eval`s ('1.0/255.0'), stored as float32;
  `(img * scale - mean) / std` on HWC, so `order: chw` before ToCHWImage cannot run there.
- PostProcess: the result is the post-processor whose class name is in `main_indicator` (the last such);
  without `main_indicator` PaddleClas 2.6's deploy returns nothing at all, so a file with exactly one
  post-processor (the exported form) means that one. SavePreLabel only copies files: ignored.
- Topk: `topk` defaults to 1; `label_list` wins over `class_id_map_file`. ThreshOutput: `threshold` defaults to 0;
  on C = 2 outputs it compares probs[1]; on other widths its multi-class branch takes the top-1 when its
  probability is > threshold, else `default_label_index`, named from `class_id_map_file`. PaddleClas 2.6's
  ThreshOutput/MultiLabelThreshOutput/attribute classes take no `label_list`, so its own deploy cannot run the
  exported files that hold one; we read them (for ThreshOutput label_0/label_1 must agree with label_list).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from . import labels as label_files
from .model import ChannelOrder, DeployConfig, Interp, Resize, ResizeMode, Task
from .values import Origins, fields, integer, number, triple

# PaddleClas's UnifiedResize names (cv2 backend / PIL backend) and the integer flags it passes through.
CV2_NAMES = {"nearest": Interp.NEAREST, "bilinear": Interp.BILINEAR, "bicubic": Interp.BICUBIC, "area": Interp.AREA,
             "lanczos": Interp.LANCZOS}
CV2_FLAGS = {0: Interp.NEAREST, 1: Interp.BILINEAR, 2: Interp.BICUBIC, 3: Interp.AREA, 4: Interp.LANCZOS}
PIL_NAMES = {"nearest": Interp.NEAREST, "bilinear": Interp.BILINEAR, "bicubic": Interp.BICUBIC, "box": Interp.BOX,
             "lanczos": Interp.LANCZOS, "hamming": Interp.HAMMING}
PIL_FLAGS = {0: Interp.NEAREST, 1: Interp.LANCZOS, 2: Interp.BILINEAR, 3: Interp.BICUBIC, 4: Interp.BOX,
             5: Interp.HAMMING}
ATTRIBUTE_PARAMS = {
    "PersonAttribute": {"threshold": 0.5, "glasses_threshold": 0.3, "hold_threshold": 0.6},
    "VehicleAttribute": {"color_threshold": 0.5, "type_threshold": 0.5},
    "TableAttribute": {"source_threshold": 0.5, "number_threshold": 0.5, "color_threshold": 0.5,
                       "clarity_threshold": 0.5, "obstruction_threshold": 0.5, "angle_threshold": 0.5},
}
RESULT_POSTPROCESS = ("Topk", "ThreshOutput", "MultiLabelThreshOutput", "NormalizeFeatures", *ATTRIBUTE_PARAMS)
REFUSED_POSTPROCESS = {
    "ScoreOutput": "ScoreOutput (a regression score, e.g. the aesthetic predictor) is not supported",
    "FaceAttribute": "FaceAttribute is not supported",
    "Binarize": "Binarize (binary retrieval features) is not supported",
}


def _interp(path, p: dict, origins: Origins) -> tuple:
    backend = p.get("backend", "cv2")
    if not isinstance(backend, str) or backend.lower() not in ("cv2", "pil"):
        raise BadInput(f"{path}: ResizeImage.backend {backend!r} is not cv2 or pil (PaddleClas would silently fall "
                       "back to cv2's default bilinear and ignore the interpolation)")
    backend = backend.lower()
    value = p.get("interpolation")
    if value is None:
        interp = Interp.BILINEAR
    elif isinstance(value, str):
        name = value.lower()
        if name == "random":
            raise BadInput(f"{path}: ResizeImage.interpolation 'random' picks a method per image: an app cannot "
                           "reproduce it; set one method")
        names = CV2_NAMES if backend == "cv2" else PIL_NAMES
        if name not in names:
            raise BadInput(f"{path}: ResizeImage.interpolation {value!r} is not a {backend} method PaddleClas knows "
                           f"({', '.join(names)})")
        interp = names[name]
    elif isinstance(value, int) and not isinstance(value, bool):
        flags = CV2_FLAGS if backend == "cv2" else PIL_FLAGS
        if value not in flags:
            raise BadInput(f"{path}: ResizeImage.interpolation {value} is not supported for backend {backend} "
                           f"(supported: {', '.join(f'{k} {v.value}' for k, v in flags.items())})")
        interp = flags[value]
    else:
        raise BadInput(f"{path}: ResizeImage.interpolation {value!r} is neither a name nor a flag")
    origins.add("resize.interp", f"ResizeImage interpolation {value!r}, backend {backend}"
                if value is not None else f"PaddleClas default (bilinear), backend {backend}")
    return interp, backend == "pil"


def _size_pair(path, op, value) -> tuple:
    """PaddleClas sizes: an int, or [width, height]."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return integer(path, op, "size", value[0], minimum=1), integer(path, op, "size", value[1], minimum=1)
    v = integer(path, op, "size", value, minimum=1)
    return v, v


def read_transforms(path, ops, where: str, origins: Origins, training: bool) -> dict:
    """The transform list -> resize/crop/normalisation/channel order keyword arguments of DeployConfig."""
    if not isinstance(ops, list):
        raise BadInput(f"{path}: {where} is not a list of transform ops")
    out = {"crop": None, "channel_order": ChannelOrder.RGB}
    origins.add("channel_order", "DecodeImage.to_rgb" if training else
                "PaddleClas's predictor decodes with cv2 and converts to RGB")
    chw = False
    for index, item in enumerate(ops):
        if not isinstance(item, dict) or len(item) != 1:
            raise BadInput(f"{path}: {where}[{index}] must be a single-key mapping, got {item!r}")
        (op, params), = item.items()
        at = f"{where}[{index}].{op}"
        if op == "DecodeImage":
            p = fields(path, op, params, {"to_rgb", "channel_first", "to_np", "backend"})
            if p.get("channel_first"):
                raise BadInput(f"{path}: DecodeImage.channel_first is not supported (the transforms after it work "
                               "on HWC images)")
            if p.get("backend", "cv2") not in ("cv2",):
                raise BadInput(f"{path}: DecodeImage.backend {p['backend']!r} is not supported (cv2)")
            out["channel_order"] = ChannelOrder.RGB if p.get("to_rgb", True) else ChannelOrder.BGR
            origins.add("channel_order", f"{at}.to_rgb" if "to_rgb" in p else f"{at} (PaddleClas default to_rgb)")
        elif op == "ResizeImage":
            if "resize" in out:
                raise BadInput(f"{path}: {where} has two ResizeImage ops")
            if out["crop"]:
                raise BadInput(f"{path}: {where} crops before it resizes: not supported")
            p = fields(path, op, params, {"size", "resize_short", "interpolation", "backend", "return_numpy"})
            interp, antialias = _interp(path, p, origins)
            short = p.get("resize_short")
            if short is not None and integer(path, op, "resize_short", short) > 0:
                out["resize"] = Resize(ResizeMode.SHORT, short=int(short), interp=interp, antialias=antialias)
                origins.add("resize", f"{at}.resize_short {short}")
            elif p.get("size") is not None:
                w, h = _size_pair(path, op, p["size"])
                out["resize"] = Resize(ResizeMode.FIXED, width=w, height=h, interp=interp, antialias=antialias)
                origins.add("resize", f"{at}.size {p['size']} (width, height)")
            else:
                raise BadInput(f"{path}: {at} needs size or a positive resize_short")
        elif op == "CropImage":
            p = fields(path, op, params, {"size"})
            if p.get("size") is None:
                raise BadInput(f"{path}: {at} needs size")
            out["crop"] = _size_pair(path, op, p["size"])
            origins.add("crop", f"{at}.size {p['size']} (width, height), centred")
        elif op == "NormalizeImage":
            p = fields(path, op, params, {"scale", "mean", "std", "order", "channel_num", "output_fp16"})
            channels = integer(path, op, "channel_num", p.get("channel_num", 3))
            if channels != 3:
                raise BadInput(f"{path}: NormalizeImage.channel_num {channels} is not supported (3; PaddleClas's 4 "
                               "appends a zero channel)")
            if p.get("output_fp16"):
                raise BadInput(f"{path}: NormalizeImage.output_fp16 is not supported (Paddle Lite takes fp32 input)")
            if (p.get("order") == "chw") != chw:
                raise BadInput(f"{path}: NormalizeImage.order {p.get('order')!r} does not match the image layout at "
                               "that point (PaddleClas would fail to broadcast mean/std)")
            out["scale"] = number(path, op, "scale", p.get("scale", 1.0 / 255.0))
            out["mean"] = triple(path, op, "mean", p.get("mean", [0.485, 0.456, 0.406]))
            out["std"] = triple(path, op, "std", p.get("std", [0.229, 0.224, 0.225]))
            for name in ("scale", "mean", "std"):
                origins.add(name, f"{at}.{name}" if name in p else f"{at} (PaddleClas default)")
        elif op == "ToCHWImage":
            fields(path, op, params, set())
            chw = True
        else:
            raise BadInput(f"{path}: unknown transform op {op!r} in {where} (supported: DecodeImage, ResizeImage, "
                           "CropImage, NormalizeImage, ToCHWImage)")
    if "resize" not in out:
        raise BadInput(f"{path}: {where} has no ResizeImage")
    if "scale" not in out:
        raise BadInput(f"{path}: {where} has no NormalizeImage")
    if not chw:
        raise BadInput(f"{path}: {where} has no ToCHWImage (the model takes NCHW)")
    return out


def _label_list(path, op, p) -> tuple | None:
    value = p.get("label_list")
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise BadInput(f"{path}: {op}.label_list must be a non-empty list of names")
    return tuple(str(v) for v in value)


def _map_labels(path, op, p, training: bool, origins: Origins, field: str) -> tuple:
    """Names from class_id_map_file, found as PaddleClas would find it; () when the op names none."""
    name = p.get("class_id_map_file")
    if not name:
        return ()
    found = label_files.find_map(str(name), path, training, f"{op}.class_id_map_file")
    mapping = label_files.parse_map(found, p.get("delimiter"))
    origins.add(field, f"{op}.class_id_map_file {name!r} -> {found}")
    return label_files.by_index(mapping)


def read_postprocess(path, post, training: bool, origins: Origins, notes: list) -> dict:
    """The result post-processor -> task/labels/thresholds keyword arguments of DeployConfig."""
    if training:  # Infer.PostProcess: {name: Topk, topk: 5, class_id_map_file: ...}
        if not isinstance(post, dict) or "name" not in post:
            raise BadInput(f"{path}: Infer.PostProcess needs a name")
        post = dict(post)
        chosen, params = str(post.pop("name")), post
    else:
        if not isinstance(post, dict) or not post:
            raise BadInput(f"{path}: PostProcess must be a mapping of post-processors")
        post = dict(post)
        indicator = post.pop("main_indicator", None)
        for name in post:
            if name in REFUSED_POSTPROCESS and (not indicator or name in str(indicator)):
                raise BadInput(f"{path}: {REFUSED_POSTPROCESS[name]}")
            if name not in RESULT_POSTPROCESS and name != "SavePreLabel" and name not in REFUSED_POSTPROCESS:
                raise BadInput(f"{path}: unknown PostProcess op {name!r} (supported: {', '.join(RESULT_POSTPROCESS)})")
        if "SavePreLabel" in post:
            notes.append("PostProcess.SavePreLabel ignored (it copies images into folders; no result)")
        results = [name for name in post if name != "SavePreLabel"]
        if indicator:
            picked = [name for name in results if name in str(indicator)]
            if not picked:
                raise BadInput(f"{path}: PostProcess.main_indicator {indicator!r} names none of {', '.join(results)}")
            chosen = picked[-1]
            origins.add("postprocess", f"PostProcess.main_indicator {indicator!r}")
        elif len(results) == 1:
            chosen = results[0]
            origins.add("postprocess", f"PostProcess.{chosen} (the only post-processor)")
        else:
            raise BadInput(f"{path}: PostProcess has {', '.join(results) or 'no post-processor'} and no "
                           "main_indicator: which one is the result?")
        params = post[chosen] or {}
    op = chosen
    if op in REFUSED_POSTPROCESS:
        raise BadInput(f"{path}: {REFUSED_POSTPROCESS[op]}")
    if op == "Topk":
        p = fields(path, op, params, {"topk", "class_id_map_file", "delimiter", "label_list"})
        topk = integer(path, op, "topk", p.get("topk", 1), minimum=1)
        origins.add("topk", f"{op}.topk" if "topk" in p else "PaddleClas default (1)")
        names = _label_list(path, op, p)
        if names is not None:
            origins.add("labels", f"{op}.label_list ({len(names)} names)")
            if p.get("class_id_map_file"):
                notes.append(f"{op}.label_list wins over class_id_map_file, as in PaddleClas")
        else:
            names = _map_labels(path, op, p, training, origins, "labels")
        return {"task": Task.CLASSIFY, "topk": topk, "labels": names, "postprocess": op}
    if op == "ThreshOutput":
        p = fields(path, op, params, {"threshold", "label_0", "label_1", "label_list", "default_label_index",
                                      "class_id_map_file", "delimiter"})
        threshold = number(path, op, "threshold", p.get("threshold", 0))
        origins.add("threshold", f"{op}.threshold" if "threshold" in p else "PaddleClas default (0)")
        pair = (str(p.get("label_0", "0")), str(p.get("label_1", "1")))
        names = _label_list(path, op, p)
        if names is not None and tuple(names[:2]) != pair:
            raise BadInput(f"{path}: {op} label_0/label_1 {list(pair)} disagree with label_list {list(names[:2])}")
        origins.add("labels", f"{op}.label_0/label_1")
        multi = _map_labels(path, op, p, training, origins, "multiclass_labels")
        if not multi and names is not None:
            multi = names
        return {"task": Task.BINARY, "threshold": threshold, "labels": pair, "postprocess": op,
                "default_label_index": integer(path, op, "default_label_index", p.get("default_label_index", 0),
                                               minimum=0),
                "multiclass_labels": multi}
    if op == "MultiLabelThreshOutput":
        p = fields(path, op, params, {"threshold", "class_id_map_file", "delimiter", "label_list"})
        threshold = number(path, op, "threshold", p.get("threshold", 0.5))
        origins.add("threshold", f"{op}.threshold" if "threshold" in p else "PaddleClas default (0.5)")
        names = _map_labels(path, op, p, training, origins, "labels")
        if not names and _label_list(path, op, p) is not None:
            names = _label_list(path, op, p)
            origins.add("labels", f"{op}.label_list (display only)")
        return {"task": Task.MULTILABEL, "threshold": threshold, "labels": names, "postprocess": op}
    if op in ATTRIBUTE_PARAMS:
        defaults = ATTRIBUTE_PARAMS[op]
        p = fields(path, op, params, set(defaults) | {"label_list", "class_id_map_file", "delimiter"})
        values = tuple(sorted((k, number(path, op, k, p.get(k, v))) for k, v in defaults.items()))
        names = _label_list(path, op, p) or ()
        if names:
            origins.add("labels", f"{op}.label_list (display only: {op} names its attributes itself)")
        origins.add("post_params", f"{op} thresholds ({', '.join(k for k in defaults if k not in p) or 'none'} "
                                   "at PaddleClas defaults)")
        return {"task": Task.MULTILABEL, "labels": names, "postprocess": op, "post_params": values}
    if op == "NormalizeFeatures":
        fields(path, op, params, set())
        return {"task": Task.EMBEDDING, "postprocess": op}
    raise BadInput(f"{path}: unknown PostProcess op {op!r} (supported: {', '.join(RESULT_POSTPROCESS)})")


def read(path, data: dict, training: bool = False) -> DeployConfig:
    """A PaddleClas inference/deploy config (`PreProcess`/`PostProcess`) or a training config (`Infer`)."""
    path = Path(path)
    origins, notes = Origins(), []
    if training:
        infer = data.get("Infer")
        if not isinstance(infer, dict):
            raise BadInput(f"{path}: a PaddleClas training config without an Infer section: export the model and "
                           "use the inference.yml written beside it")
        pre = read_transforms(path, infer.get("transforms"), "Infer.transforms", origins, training=True)
        post = read_postprocess(path, infer.get("PostProcess"), True, origins, notes)
    else:
        known = {"Global", "Hpi", "PreProcess", "PostProcess"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInput(f"{path}: unknown top-level field(s) {', '.join(unknown)} in a PaddleClas inference "
                           "config (known: Global, Hpi, PreProcess, PostProcess)")
        pre_section = data.get("PreProcess")
        if not isinstance(pre_section, dict) or "transform_ops" not in pre_section:
            raise BadInput(f"{path}: no PreProcess.transform_ops list (is this a PaddleClas inference config?)")
        pre = read_transforms(path, pre_section["transform_ops"], "PreProcess.transform_ops", origins, False)
        if "PostProcess" not in data or data["PostProcess"] is None:
            raise BadInput(f"{path}: no PostProcess: lite-tools needs to know what the output means")
        post = read_postprocess(path, data["PostProcess"], False, origins, notes)
        if "Hpi" in data:
            notes.append("Hpi (PaddleX high-performance inference settings) ignored: they configure server "
                         "backends, not the model's maths")
    glob = data.get("Global") if isinstance(data.get("Global"), dict) else {}
    model_name = str(glob.get("model_name") or glob.get("pdx_model_name") or "")
    if model_name:
        origins.add("model_name", "Global.model_name")
    return DeployConfig(**pre, **post, model_name=model_name, source=str(path), origins=origins.pairs(),
                        notes=tuple(notes))
