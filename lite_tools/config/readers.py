"""Readers for the deploy configs users already hold.

PaddleClas `deploy/configs/*.yaml` (PreProcess.transform_ops / PostProcess) and PaddleDetection's exported
`infer_cfg.yml` (Preprocess / arch / label_list / draw_threshold). Every op and field we do not understand is an
error that names it: guessing a preprocessing step is how apps end up silently wrong.
"""

from __future__ import annotations

import fractions
from pathlib import Path

from ..errors import BadInput
from .model import ChannelOrder, DeployConfig, Interp, Resize, ResizeMode, Task

CV2_INTERP = {0: Interp.NEAREST, 1: Interp.BILINEAR, 2: Interp.BICUBIC}
INTERP_NAMES = {"nearest": Interp.NEAREST, "bilinear": Interp.BILINEAR, "linear": Interp.BILINEAR,
                "bicubic": Interp.BICUBIC, "cubic": Interp.BICUBIC}
DET_ARCH_TASK = {"SSD": Task.SSD, "PicoDet": Task.PICODET, "GFL": Task.PICODET}


def load_yaml(path: Path) -> dict:
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"{path}: cannot read ({e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise BadInput(f"{path}: is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a mapping at the top level")
    return data


def _fields(path, op: str, params, allowed: set) -> dict:
    params = params or {}
    if not isinstance(params, dict):
        raise BadInput(f"{path}: {op} expects a mapping of fields, got {type(params).__name__}")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadInput(f"{path}: {op} has unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    return params


def _number(path, op, field, value) -> float:
    """Numbers, or the strings PaddleClas configs use for them ('1.0/255.0', '0.00392157')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            text = value.replace(" ", "")
            if "/" in text:
                num, den = text.split("/")
                return float(fractions.Fraction(num)) / float(fractions.Fraction(den))
            return float(text)
        except (ValueError, ZeroDivisionError):
            pass
    raise BadInput(f"{path}: {op}.{field} is not a number: {value!r}")


def _triple(path, op, field, value) -> tuple:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise BadInput(f"{path}: {op}.{field} needs 3 values, got {value!r}")
    return tuple(_number(path, op, field, v) for v in value)


def _labels_from_file(config_path: Path, name: str) -> tuple:
    """PaddleClas class_id_map_file: 'ID NAME' per line, resolved next to the YAML; () when not there."""
    path = (Path(config_path).parent / name) if not Path(name).is_absolute() else Path(name)
    if not path.is_file():
        return ()
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and parts[0].isdigit():
            labels[int(parts[0])] = parts[1]
    return tuple(labels.get(i, str(i)) for i in range(max(labels) + 1)) if labels else ()


def read_paddleclas(path) -> DeployConfig:
    path = Path(path)
    data = load_yaml(path)
    pre = data.get("PreProcess")
    if not isinstance(pre, dict) or not isinstance(pre.get("transform_ops"), list):
        raise BadInput(f"{path}: no PreProcess.transform_ops list (is this a PaddleClas inference config?)")
    resize, crop, norm, order = None, None, None, ChannelOrder.RGB
    for item in pre["transform_ops"]:
        if not isinstance(item, dict) or len(item) != 1:
            raise BadInput(f"{path}: each transform op must be a single-key mapping, got {item!r}")
        (op, params), = item.items()
        if op == "DecodeImage":
            p = _fields(path, op, params, {"to_rgb", "channel_first", "to_np"})
            order = ChannelOrder.RGB if p.get("to_rgb", True) else ChannelOrder.BGR
        elif op == "ResizeImage":
            p = _fields(path, op, params, {"size", "resize_short", "interpolation", "backend", "return_numpy"})
            backend = str(p.get("backend", "cv2")).lower()
            if backend not in ("cv2", "pil"):
                raise BadInput(f"{path}: ResizeImage.backend {backend!r} is not cv2 or pil")
            interp_name = str(p.get("interpolation") or "bilinear").lower()
            if interp_name not in INTERP_NAMES:
                raise BadInput(f"{path}: ResizeImage.interpolation {interp_name!r} is not supported "
                               f"(supported: nearest, bilinear, bicubic)")
            common = {"interp": INTERP_NAMES[interp_name], "antialias": backend == "pil"}
            if p.get("resize_short"):
                resize = Resize(ResizeMode.SHORT, short=int(p["resize_short"]), **common)
            elif p.get("size") is not None:
                size = p["size"]
                w, h = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
                resize = Resize(ResizeMode.FIXED, width=w, height=h, **common)
            else:
                raise BadInput(f"{path}: ResizeImage needs size or resize_short")
        elif op == "CropImage":
            p = _fields(path, op, params, {"size"})
            size = p.get("size")
            if size is None:
                raise BadInput(f"{path}: CropImage needs size")
            crop = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        elif op == "NormalizeImage":
            p = _fields(path, op, params, {"scale", "mean", "std", "order", "channel_num", "output_fp16"})
            if int(p.get("channel_num", 3)) != 3:
                raise BadInput(f"{path}: NormalizeImage.channel_num {p['channel_num']} is not supported (only 3)")
            if p.get("output_fp16"):
                raise BadInput(f"{path}: NormalizeImage.output_fp16 is not supported (Paddle Lite takes fp32 input)")
            norm = (_number(path, op, "scale", p.get("scale", "1.0/255.0")),
                    _triple(path, op, "mean", p.get("mean", [0.485, 0.456, 0.406])),
                    _triple(path, op, "std", p.get("std", [0.229, 0.224, 0.225])))
        elif op == "ToCHWImage":
            _fields(path, op, params, set())
        else:
            raise BadInput(f"{path}: unknown PreProcess op {op!r} (supported: DecodeImage, ResizeImage, CropImage, "
                           "NormalizeImage, ToCHWImage)")
    if resize is None:
        raise BadInput(f"{path}: PreProcess has no ResizeImage")
    if norm is None:
        raise BadInput(f"{path}: PreProcess has no NormalizeImage")

    task, labels, topk, threshold = Task.CLASSIFY, (), 5, 0.5
    post = data.get("PostProcess") or {}
    if not isinstance(post, dict):
        raise BadInput(f"{path}: PostProcess must be a mapping")
    for op, params in post.items():
        if op in ("main_indicator", "SavePreLabel"):
            continue
        if op == "Topk":
            p = _fields(path, op, params, {"topk", "class_id_map_file"})
            topk = int(p.get("topk", 5))
            if p.get("class_id_map_file"):
                labels = _labels_from_file(path, str(p["class_id_map_file"]))
        elif op == "ThreshOutput":
            p = _fields(path, op, params, {"threshold", "label_0", "label_1"})
            task = Task.BINARY
            threshold = _number(path, op, "threshold", p.get("threshold", 0.5))
            labels = (str(p.get("label_0", "0")), str(p.get("label_1", "1")))
        else:
            raise BadInput(f"{path}: unknown PostProcess op {op!r} (supported: Topk, ThreshOutput, SavePreLabel)")
    scale, mean, std = norm
    return DeployConfig(task=task, resize=resize, crop=crop, scale=scale, mean=mean, std=std, channel_order=order,
                        labels=labels, topk=topk, threshold=threshold, source=str(path))


def read_paddledet(path) -> DeployConfig:
    path = Path(path)
    data = load_yaml(path)
    known = {"mode", "draw_threshold", "metric", "use_dynamic_shape", "arch", "min_subgraph_size", "Preprocess",
             "label_list", "NMS", "fpn_stride", "tracker", "export_onnx", "export_eb", "mask", "calibration_image_dir"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise BadInput(f"{path}: unknown field(s) {', '.join(unknown)} in infer_cfg.yml")
    arch = data.get("arch")
    if arch not in DET_ARCH_TASK:
        raise BadInput(f"{path}: arch {arch!r} is not supported (supported: {', '.join(DET_ARCH_TASK)})")
    steps = data.get("Preprocess")
    if not isinstance(steps, list):
        raise BadInput(f"{path}: no Preprocess list (is this PaddleDetection's exported infer_cfg.yml?)")
    resize, norm = None, None
    for step in steps:
        if not isinstance(step, dict) or "type" not in step:
            raise BadInput(f"{path}: each Preprocess step needs a type, got {step!r}")
        kind = step["type"]
        params = {k: v for k, v in step.items() if k != "type"}
        if kind == "Resize":
            p = _fields(path, kind, params, {"target_size", "keep_ratio", "interp"})
            size = p.get("target_size")
            if not isinstance(size, (list, tuple)) or len(size) != 2:
                raise BadInput(f"{path}: Resize.target_size needs [height, width], got {size!r}")
            interp = p.get("interp", 1)
            if interp not in CV2_INTERP:
                raise BadInput(f"{path}: Resize.interp {interp!r} is not supported (0 nearest, 1 linear, 2 cubic)")
            resize = Resize(ResizeMode.FIXED, width=int(size[1]), height=int(size[0]),
                            keep_ratio=bool(p.get("keep_ratio", False)), interp=CV2_INTERP[interp])
        elif kind == "NormalizeImage":
            p = _fields(path, kind, params, {"mean", "std", "is_scale", "norm_type"})
            if p.get("norm_type", "mean_std") != "mean_std":
                raise BadInput(f"{path}: NormalizeImage.norm_type {p['norm_type']!r} is not supported (mean_std)")
            norm = (1.0 / 255.0 if p.get("is_scale", True) else 1.0,
                    _triple(path, kind, "mean", p.get("mean", [0.485, 0.456, 0.406])),
                    _triple(path, kind, "std", p.get("std", [0.229, 0.224, 0.225])))
        elif kind == "Permute":
            _fields(path, kind, params, set())
        else:
            raise BadInput(f"{path}: unknown Preprocess type {kind!r} (supported: Resize, NormalizeImage, Permute)")
    if resize is None or norm is None:
        raise BadInput(f"{path}: Preprocess needs a Resize and a NormalizeImage step")
    labels = data.get("label_list") or []
    if not isinstance(labels, list):
        raise BadInput(f"{path}: label_list must be a list")
    scale, mean, std = norm
    # PaddleDetection's exported post-process divides boxes by scale_factor: they come out in source pixels.
    return DeployConfig(task=DET_ARCH_TASK[arch], resize=resize, crop=None, scale=scale, mean=mean, std=std,
                        labels=tuple(str(x) for x in labels), box_format="pixels",
                        score_threshold=_number(path, "draw_threshold", "value", data.get("draw_threshold", 0.5)),
                        source=str(path))


def read_config_file(path) -> DeployConfig:
    """Dispatch on content: our JSON, PaddleDetection infer_cfg.yml, or a PaddleClas inference YAML."""
    path = Path(path)
    if path.suffix == ".json":
        import json
        try:
            return DeployConfig.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
        except FileNotFoundError:
            raise BadInput(f"{path}: no such file") from None
        except ValueError:
            raise BadInput(f"{path}: is not valid JSON") from None
    data = load_yaml(path)
    if "Preprocess" in data or "arch" in data:
        return read_paddledet(path)
    if "PreProcess" in data:
        return read_paddleclas(path)
    raise BadInput(f"{path}: neither a PaddleClas inference config (PreProcess) nor a PaddleDetection "
                   "infer_cfg.yml (Preprocess, arch)")
