"""PaddleDetection exports: `infer_cfg.yml` as `tools/export_model.py` writes it, the `infer_cfg.json` its Paddle
Lite guide converts it to (`deploy/lite/convert_yml_to_json.py`), and PaddleX's detection `inference.yml`.

Read as PaddleDetection's Python deploy (deploy/python/preprocess.py, infer.py) reads them:
- Resize: `target_size` [height, width] or an int, `keep_ratio` defaults to True, `interp` to 1 (cv2 linear).
- NormalizeImage: `is_scale` (x / 255) defaults to True, `norm_type` mean_std or none. No NormalizeImage at all is
  an export with `TestReader.fuse_normalize=true`: normalisation is inside the graph, the input stays 0..255.
- PadStride: pads the image to a multiple of `stride`; after a fixed resize whose sides it divides that is a no-op
  (recorded); one that would pad is refused.
- `arch` picks the post-processing: SSD (NMS in the graph), PicoDet's exports: `arch: GFL` with `fpn_stride` for
  NMS in the graph (rows + count) or `export.nms=False` (decoded boxes + scores: the same file, so the model's
  outputs decide), `arch: PicoDet` for raw heads. Boxes come out in source pixels (the graph divides by
  scale_factor). `NMS` and `fpn_stride` are the exporter's values, recorded as such.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput
from .model import DeployConfig, Interp, Resize, ResizeMode, Task
from .values import Origins, fields, integer, number, triple

CV2_INTERP = {0: Interp.NEAREST, 1: Interp.BILINEAR, 2: Interp.BICUBIC, 3: Interp.AREA, 4: Interp.LANCZOS}
KNOWN_TOP = {"mode", "draw_threshold", "metric", "use_dynamic_shape", "arch", "min_subgraph_size", "Preprocess",
             "label_list", "NMS", "fpn_stride", "tracker", "export_onnx", "export_eb", "mask", "calibration_image_dir",
             "Global", "Hpi"}
# Architectures PaddleDetection exports that lite-tools does not post-process, by the name users know them by.
REFUSED_ARCH = {"YOLO": "PP-YOLO / PP-YOLOE / YOLOv3", "PP-YOLOE": "PP-YOLOE", "YOLOX": "YOLOX", "YOLOF": "YOLOF",
                "DETR": "DETR / RT-DETR", "RCNN": "Faster / Mask / Cascade R-CNN", "CascadeRCNN": "Cascade R-CNN",
                "FCOS": "FCOS", "TTFNet": "TTFNet", "Face": "BlazeFace", "HRNet": "HRNet keypoints (TinyPose)",
                "KeyPointTopDown": "keypoint models", "CenterNet": "CenterNet", "FairMOT": "FairMOT",
                "JDE": "JDE", "DeepSORT": "DeepSORT", "S2ANet": "S2ANet (rotated boxes)", "SOLOv2": "SOLOv2",
                "RetinaNet": "RetinaNet", "TOOD": "TOOD", "PPYOLOEWithAuxHead": "PP-YOLOE"}
SUPPORTED = "supported: SSD, PicoDet"


def _target_size(path, value) -> tuple:
    """(width, height) from PaddleDetection's [height, width] or one int."""
    if isinstance(value, (list, tuple)) and len(value) == 2:
        h, w = (integer(path, "Resize", "target_size", v, minimum=1) for v in value)
        return w, h
    v = integer(path, "Resize", "target_size", value, minimum=1)
    return v, v


def check_family(path, data: dict) -> None:
    """Refuse what is not SSD or PicoDet, by the family's name."""
    if "use_python_inference" in data or data.get("mode") == "fluid":
        raise BadInput(f"{path}: a PaddleDetection 1.x export (use_python_inference, mode fluid) is not supported: "
                       "export the model again with PaddleDetection 2.x")
    arch = data.get("arch")
    if not isinstance(arch, (str, type(None))):
        raise BadInput(f"{path}: arch must be a name such as SSD, got {arch!r}")
    if arch in REFUSED_ARCH:
        raise BadInput(f"{path}: arch {arch} ({REFUSED_ARCH[arch]}) is not supported; {SUPPORTED}")
    if arch == "GFL" and not data.get("fpn_stride"):
        raise BadInput(f"{path}: arch GFL without fpn_stride is a GFL detector, not PicoDet: not supported; "
                       f"{SUPPORTED}")
    if arch not in ("SSD", "GFL", "PicoDet"):
        raise BadInput(f"{path}: arch {arch!r} is not supported; {SUPPORTED}")
    if data.get("mask"):
        raise BadInput(f"{path}: an instance segmentation export (mask: true) is not supported; {SUPPORTED}")


def flag(path, op: str, params: dict, name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise BadInput(f"{path}: {op}.{name} must be true or false, got {value!r}")
    return value


def padding_is_noop(path, pad_op: str, resize_op: str, resize: Resize, stride: int) -> str:
    """Padding to a multiple of `stride` after a fixed resize pads nothing when both sides are multiples already:
    the note that says so. Anything that would really pad is refused (lite-tools does not pad)."""
    if resize.keep_ratio or resize.width % stride or resize.height % stride:
        raise BadInput(f"{path}: {pad_op} {stride} would pad the resized image ({resize_op} "
                       f"{resize.height}x{resize.width}, keep_ratio {resize.keep_ratio}): padding is not supported")
    return f"{pad_op} {stride} is a no-op after the fixed {resize.width}x{resize.height} resize"


def normalisation_in_graph(origins: Origins, why: str) -> tuple:
    """(scale, mean, std) of an input left at 0..255 (the graph normalises), each origin saying `why`."""
    for name in ("scale", "mean", "std"):
        origins.add(name, why)
    return 1.0, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)


def read(path, data: dict) -> DeployConfig:
    path = Path(path)
    check_family(path, data)
    unknown = sorted(set(data) - KNOWN_TOP)
    if unknown:
        raise BadInput(f"{path}: unknown field(s) {', '.join(map(str, unknown))} in a PaddleDetection infer_cfg")
    steps = data.get("Preprocess")
    if not isinstance(steps, list):
        raise BadInput(f"{path}: no Preprocess list (is this PaddleDetection's exported infer_cfg.yml?)")
    origins, notes = Origins(), []
    resize, norm, pad_stride = None, None, 0
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or "type" not in step:
            raise BadInput(f"{path}: each Preprocess step needs a type, got {step!r}")
        kind = step["type"]
        at = f"Preprocess[{index}] {kind}"
        params = {k: v for k, v in step.items() if k != "type"}
        if kind == "Resize":
            p = fields(path, kind, params, {"target_size", "keep_ratio", "interp"})
            if "target_size" not in p:
                raise BadInput(f"{path}: Resize needs target_size")
            w, h = _target_size(path, p["target_size"])
            interp = p.get("interp", 1)
            if not isinstance(interp, int) or isinstance(interp, bool) or interp not in CV2_INTERP:
                raise BadInput(f"{path}: Resize.interp {interp!r} is not supported (0 nearest, 1 linear, 2 cubic, 3 area, 4 lanczos4)")
            keep = flag(path, kind, p, "keep_ratio", True)
            resize = Resize(ResizeMode.FIXED, width=w, height=h, keep_ratio=keep, interp=CV2_INTERP[interp])
            origins.add("resize", f"{at} target_size {p['target_size']} (height, width), keep_ratio "
                                  f"{keep}{'' if 'keep_ratio' in p else ' (PaddleDetection default)'}")
            origins.add("resize.interp", f"{at} interp {interp}{'' if 'interp' in p else ' (default)'}")
        elif kind == "NormalizeImage":
            p = fields(path, kind, params, {"mean", "std", "is_scale", "norm_type"})
            norm_type = p.get("norm_type", "mean_std")
            if norm_type not in ("mean_std", "none"):
                raise BadInput(f"{path}: NormalizeImage.norm_type {norm_type!r} is not supported (mean_std, none)")
            is_scale = flag(path, kind, p, "is_scale", True)
            mean = triple(path, kind, "mean", p.get("mean", [0.485, 0.456, 0.406]))
            std = triple(path, kind, "std", p.get("std", [0.229, 0.224, 0.225]))
            if norm_type == "none":
                mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
            norm = (1.0 / 255.0 if is_scale else 1.0, mean, std)
            for name in ("scale", "mean", "std"):
                origins.add(name, f"{at} ({'is_scale' if name == 'scale' else name}, norm_type {norm_type})")
        elif kind == "Permute":
            fields(path, kind, params, set())
        elif kind == "PadStride":
            p = fields(path, kind, params, {"stride"})
            pad_stride = integer(path, kind, "stride", p.get("stride", 0), minimum=0)
        else:
            raise BadInput(f"{path}: Preprocess type {kind!r} is not supported (supported: Resize, NormalizeImage, "
                           "Permute, PadStride)")
    if resize is None:
        raise BadInput(f"{path}: Preprocess has no Resize step")
    if pad_stride > 0:
        notes.append(padding_is_noop(path, "PadStride", "Resize", resize, pad_stride))
    if norm is None:
        norm = normalisation_in_graph(origins, "no NormalizeImage: exported with fuse_normalize, normalisation is "
                                               "in the graph")
    labels = data.get("label_list") or []
    if not isinstance(labels, list):
        raise BadInput(f"{path}: label_list must be a list")
    origins.add("labels", f"label_list ({len(labels)} names)")
    arch = data["arch"]
    task, form = (Task.SSD, "nms") if arch == "SSD" else (Task.PICODET, "raw" if arch == "PicoDet" else "")
    origins.add("det_form", {"nms": "arch SSD: NMS in the graph", "raw": "arch PicoDet: raw heads (export.benchmark "
                             "or post_process=False)", "": "arch GFL: NMS in the graph or export.nms=False; the "
                             "model's outputs decide"}[form])
    nms = data.get("NMS") or {}
    if not isinstance(nms, dict):
        raise BadInput(f"{path}: NMS must be a mapping")
    strides = data.get("fpn_stride") or []
    if not isinstance(strides, list):
        raise BadInput(f"{path}: fpn_stride must be a list")
    if nms or strides:
        origins.add("export_nms", "NMS / fpn_stride: export-time values in infer_cfg, not the graph's")
    threshold = number(path, "draw_threshold", "value", data.get("draw_threshold", 0.5))
    origins.add("score_threshold", "draw_threshold" if "draw_threshold" in data else "PaddleDetection default (0.5)")
    if "Hpi" in data:
        notes.append("Hpi (PaddleX high-performance inference settings) ignored")
    glob = data.get("Global") if isinstance(data.get("Global"), dict) else {}
    scale, mean, std = norm
    return DeployConfig(task=task, resize=resize, crop=None, scale=scale, mean=mean, std=std,
                        labels=tuple(str(x) for x in labels), box_format="pixels", score_threshold=threshold,
                        det_form=form, export_nms=tuple(sorted((str(k), v) for k, v in nms.items())),
                        fpn_stride=tuple(integer(path, "fpn_stride", "value", s, minimum=1) for s in strides),
                        pad_stride=pad_stride, model_name=str(glob.get("model_name") or ""), source=str(path),
                        origins=origins.pairs(), notes=tuple(notes))
