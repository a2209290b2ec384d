"""PaddleClas 2.6.0's own deploy code, run from its unpacked wheel (scripts/fetch_paddleclas.sh): the independent
reading of a deploy config that tests/test_corpus.py holds lite-tools' reader to.

The wheel is never installed, and its `paddleclas/__init__.py` never runs (it imports the whole training stack):
stub packages `paddleclas`, `paddleclas.deploy` and `paddleclas.deploy.python` point at the wheel's folders, and
the real `deploy/python/{preprocess,postprocess,det_preprocess}.py` and `deploy/utils/config.py` load from there.
PaddleClas files are parsed by upstream's `parse_config`, their operators built by `create_operators` and their
post-processors by `build_postprocess`, as predict_cls.py does, in the folder PaddleClas runs from; PaddleDetection
files get the wheel's Det* operators (the ones PP-ShiTu runs PaddleDetection exports with). The objects' attributes
are then read back into the DeployConfig fields they determine. Where upstream cannot build a file, the reading says
so in `facts`, and the rules of issue 9 supply what upstream leaves open (listed where they apply).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import enum
import functools
import json
import os
import sys
import types
from pathlib import Path

import numpy as np

STUBS = ("paddleclas", "paddleclas.deploy", "paddleclas.deploy.python")
DET_OPS = {"Resize": "DetResize", "NormalizeImage": "DetNormalizeImage", "Permute": "DetPermute",
           "PadStride": "DetPadStride"}


@dataclasses.dataclass
class Reading:
    """What upstream's objects say about one file, as DeployConfig fields (`fields`), plus what they could not do."""

    source: str
    family: str = ""  # "PaddleClas <post-processor>" / "PaddleDetection <arch>"
    fields: dict = dataclasses.field(default_factory=dict)
    facts: list = dataclasses.field(default_factory=list)  # upstream's own failures and the rule that filled in
    unbuilt: list = dataclasses.field(default_factory=list)  # ops / post-processors upstream has no way to build
    channel_num: int = 3
    output_dtype: str = "float32"
    pads: bool = False  # PadStride changes the tensor's size for some image
    missing_labels: str = ""  # a class_id_map_file upstream did not find (it then names nothing)
    label_conflict: str = ""  # ThreshOutput's label_0/label_1 disagree with label_list
    dropped_label_list: dict = dataclasses.field(default_factory=dict)  # {post-processor: the label_list it refused}


@contextlib.contextmanager
def _chdir(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


class Upstream:
    """The wheel's modules, imported once per process under their own `paddleclas...` names."""

    def __init__(self, package_dir: Path):
        self.package_dir = Path(package_dir).resolve()
        self.deploy_dir = self.package_dir / "deploy"
        self.pre, self.post, self.det, self.config = _load(self.package_dir)
        import cv2
        from PIL import Image

        self.cv2_interp = {cv2.INTER_NEAREST: "nearest", cv2.INTER_LINEAR: "bilinear", cv2.INTER_CUBIC: "bicubic",
                           cv2.INTER_AREA: "area", cv2.INTER_LANCZOS4: "lanczos"}
        self.pil_interp = {Image.NEAREST: "nearest", Image.BILINEAR: "bilinear", Image.BICUBIC: "bicubic",
                           Image.BOX: "box", Image.LANCZOS: "lanczos", Image.HAMMING: "hamming"}

    # ---- PaddleClas inference configs ------------------------------------------------------------------------
    def read_paddleclas(self, path: Path, cwd: Path) -> Reading:
        """Build the file's PreProcess ops and PostProcess as predict_cls.py would, run from `cwd`; read them back."""
        path = Path(path).resolve()
        r = Reading(str(path))
        with _chdir(cwd):
            config = self._parse_config(path)
            ops = []
            for item in config["PreProcess"]["transform_ops"]:
                try:
                    ops.extend(self.pre.create_operators([item]))
                except (AttributeError, TypeError) as e:
                    r.unbuilt.append(next(iter(item)))
                    r.facts.append(f"create_operators cannot build {next(iter(item))}: {type(e).__name__}: {e}")
            main, name = self._postprocess(config.get("PostProcess"), r)
        f = r.fields
        f.update(channel_order="RGB", layout="NHWC", crop=None,  # predict_cls feeds cv2.imread(...)[:, :, ::-1]
                 model_name=str((config.get("Global") or {}).get("model_name", "")))
        for op in ops:
            kind = type(op).__name__
            if kind == "ResizeImage":
                f["resize"] = self._cls_resize(op)
            elif kind == "CropImage":
                f["crop"] = tuple(int(v) for v in op.size)  # CropImage unpacks `w, h = self.size`
            elif kind == "NormalizeImage":
                f["scale"] = op.scale  # np.float32 of the literal (or of eval(str))
                f["mean"] = tuple(op.mean.ravel())
                f["std"] = tuple(op.std.ravel())
                r.channel_num, r.output_dtype = op.channel_num, op.output_dtype
            elif kind == "ToCHWImage":
                f["layout"] = "NCHW"
            elif kind == "DecodeImage":
                f["channel_order"] = "RGB" if op.to_rgb else "BGR"
            else:
                r.unbuilt.append(kind)
        r.family = f"PaddleClas {name or '(none)'}"
        f["postprocess"] = name
        self._post_fields(main, name, r)
        return r

    def _parse_config(self, path: Path):
        """deploy/utils/config.py's parse_config (AttrDict, then literal_eval of string values by create_attr_dict),
        with libyaml's SafeLoader for its pure-Python one: the same YAML, ten times faster on 1000-label files."""
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(path, "r") as f:
            config = self.config.AttrDict(yaml.load(f, Loader=loader))
        self.config.create_attr_dict(config)
        return config

    def _cls_resize(self, op) -> dict:
        func = op._resize_func.resize_func
        if isinstance(func, functools.partial):
            pil = func.func.__name__ == "_pil_resize"
            resample = func.keywords["resample"]
        else:  # bare cv2.resize (an unknown backend: upstream warns through a name it never imported)
            pil, resample = False, 1
        table = self.pil_interp if pil else self.cv2_interp
        interp = "random" if isinstance(resample, tuple) else table.get(resample, str(resample))
        if op.resize_short is not None:
            geometry = {"mode": "short", "short": int(op.resize_short)}
        else:
            geometry = {"mode": "fixed", "width": int(op.w), "height": int(op.h), "keep_ratio": False}
        return {**geometry, "interp": interp, "antialias": pil}

    def _postprocess(self, post_cfg, r: Reading):
        """(the post-processor PostProcesser would return, its class name). A constructor that rejects the
        label_list the exporter writes is recorded and rebuilt without it; the list is kept for issue 9's rules."""
        if not post_cfg:
            return None, ""
        cfg = copy.deepcopy(dict(post_cfg))
        main_indicator = cfg.get("main_indicator") or ""
        named = [k for k in cfg if k != "main_indicator"]
        for name in named:
            cls = getattr(self.post, name, None)
            if cls is None:
                r.unbuilt.append(name)
                r.facts.append(f"deploy/python/postprocess.py has no {name}: PaddleClas 2.6 cannot run this file")
                del cfg[name]
                continue
            params = dict(cfg[name] or {})
            try:
                cls(**params)
            except TypeError as e:
                if "label_list" not in params:
                    raise
                r.facts.append(f"{name}(label_list=...) raises TypeError in PaddleClas 2.6 ({e}); "
                               "built without label_list, whose meaning comes from issue 9's rules")
                r.dropped_label_list[name] = [str(v) for v in params.pop("label_list")]
                cfg[name] = params
        processor = self.post.build_postprocess(cfg)
        chosen = [fn for fn in processor.func_list if type(fn).__name__ in processor.main_indicator]
        if chosen:
            main, name = chosen[-1], type(chosen[-1]).__name__
        elif not main_indicator and len(named) == 1:
            r.facts.append(f"no main_indicator: PaddleClas 2.6's PostProcesser returns None; {named[0]}, the only "
                           "post-processor, is the one the exporter meant")
            main, name = (processor.func_list[0] if processor.func_list else None), named[0]
        else:
            return None, ""
        map_file = (post_cfg.get(name) or {}).get("class_id_map_file")
        if main is not None and map_file and getattr(main, "class_id_map", None) is None:
            r.missing_labels = os.path.abspath(map_file)  # parse_class_id_map only warns, then names nothing
        return main, name

    @staticmethod
    def _names(class_id_map) -> tuple:
        if not class_id_map:
            return ()
        if isinstance(class_id_map, dict):  # parse_class_id_map: {id: name}
            return tuple(str(class_id_map.get(i, "")) for i in range(max(class_id_map) + 1))
        return tuple(str(v) for v in class_id_map)  # Topk keeps a label_list as given

    def _post_fields(self, main, name, r: Reading):
        f = r.fields
        f["post_params"] = ()
        label_list = r.dropped_label_list.get(name)
        if name == "Topk":  # upstream: label_list wins over class_id_map_file
            f.update(task="classify", topk=main.topk, labels=self._names(main.class_id_map))
        elif name == "ThreshOutput":
            f.update(task="binary", threshold=main.threshold, labels=(str(main.label_0), str(main.label_1)),
                     default_label_index=main.default_label_index, multiclass_labels=self._names(main.class_id_map))
            if label_list is not None:  # issue 9: names by class index; label_0/label_1 must be its first two
                f["multiclass_labels"] = tuple(label_list)
                if list(f["labels"]) != label_list[:2]:
                    r.label_conflict = f"label_0/label_1 {f['labels']} vs label_list[0:2] {label_list[:2]}"
        elif name == "MultiLabelThreshOutput":
            f.update(task="multilabel", threshold=main.threshold,
                     labels=tuple(label_list) if label_list is not None else self._names(main.class_id_map))
        elif name in ("PersonAttribute", "VehicleAttribute", "TableAttribute"):
            f.update(task="multilabel", labels=tuple(label_list or ()),  # issue 9: display-only names
                     post_params=tuple(sorted((k, float(v)) for k, v in vars(main).items()
                                              if k.endswith("threshold"))))
        elif name == "NormalizeFeatures":
            f.update(task="embedding", labels=())

    # ---- PaddleDetection infer_cfg ---------------------------------------------------------------------------
    def read_paddledet(self, path: Path) -> Reading:
        """The file's Preprocess steps as the wheel's Det* operators, plus PaddleDetection's export rules."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        import yaml

        data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=getattr(yaml, "CSafeLoader",
                                                                                              yaml.SafeLoader))
        r = Reading(str(path))
        arch = data.get("arch")
        r.family = f"PaddleDetection {arch}"
        ops, pad = [], None
        for step in data.get("Preprocess") or []:
            params = dict(step)
            kind = params.pop("type", None)
            if kind not in DET_OPS:
                r.unbuilt.append(str(kind))
                r.facts.append(f"the wheel has no operator for PaddleDetection's {kind}")
                continue
            try:
                (op,) = self.pre.create_operators([{DET_OPS[kind]: params}])
            except TypeError as e:
                r.unbuilt.append(kind)
                r.facts.append(f"{DET_OPS[kind]} cannot take {sorted(params)}: {e}")
                continue
            ops.append(op)
        f = r.fields
        f.update(channel_order="RGB", layout="NHWC", crop=None, box_format="pixels", pad_stride=0,
                 labels=tuple(str(v) for v in data.get("label_list") or ()),
                 score_threshold=float(data.get("draw_threshold", 0.5)),
                 model_name=str((data.get("Global") or {}).get("model_name", "")),
                 export_nms=tuple(sorted((data.get("NMS") or {}).items())),
                 fpn_stride=tuple(int(v) for v in data.get("fpn_stride") or ()))
        normalized = any(step.get("type") == "NormalizeImage" for step in data.get("Preprocess") or [])
        for op in ops:
            kind = type(op).__name__
            if kind == "DetResize":
                height, width = op.target_size
                f["resize"] = {"mode": "fixed", "width": int(width), "height": int(height),
                               "keep_ratio": bool(op.keep_ratio), "antialias": False,
                               "interp": self.cv2_interp.get(op.interp, str(op.interp))}
            elif kind == "DetNormalizeImage":
                f["scale"] = np.float32(1 / 255.0) if op.is_scale else np.float32(1.0)
                f["mean"] = tuple(float(v) for v in op.mean)
                f["std"] = tuple(float(v) for v in op.std)
            elif kind == "DetPermute":
                f["layout"] = "NCHW"
            elif kind == "DetPadStride":
                pad = op
        if not normalized:  # TestReader.fuse_normalize: the graph normalises
            r.facts.append("no NormalizeImage: normalisation is in the graph (fuse_normalize)")
            f.update(scale=np.float32(1.0), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
        if pad is not None and pad.coarsest_stride > 0:
            r.pads = self._pads(ops, pad)
            f["pad_stride"] = int(pad.coarsest_stride)
        if arch == "SSD":
            f.update(task="ssd", det_form="nms")
        elif arch == "PicoDet":
            f.update(task="picodet", det_form="raw")
        elif arch == "GFL" and data.get("fpn_stride"):
            f.update(task="picodet", det_form="")  # with NMS in the graph or export.nms=False: the same file
            r.family = "PaddleDetection GFL (PicoDet)"
        return r

    def _pads(self, ops, pad) -> bool:
        """Run upstream's preprocessing on a few image shapes: does its PadStride ever change the tensor's size?"""
        others = [op for op in ops if op is not pad]
        for h, w in ((37, 53), (480, 640), (1080, 720), (300, 1999)):
            shapes = []
            for chain in (others, ops):
                info = {"im_shape": np.array([h, w], np.float32), "scale_factor": np.ones(2, np.float32),
                        "input_shape": [3, h, w]}
                im, _ = self.det.det_preprocess(np.zeros((h, w, 3), np.uint8), info, chain)
                shapes.append(im.shape)
            if shapes[0] != shapes[1]:
                return True
        return False


def _load(package_dir: Path):
    """Import the wheel's deploy modules under stub parent packages (paddleclas/__init__.py is never run)."""
    existing = sys.modules.get("paddleclas")
    if existing is not None and list(getattr(existing, "__path__", [])) != [str(package_dir)]:
        raise RuntimeError(f"another paddleclas is imported ({getattr(existing, '__path__', existing)})")
    dirs = (package_dir, package_dir / "deploy", package_dir / "deploy" / "python")
    for name, folder in zip(STUBS, dirs):
        if name not in sys.modules:
            module = types.ModuleType(name, "stub package: the unpacked wheel's folder, without its __init__")
            module.__path__ = [str(folder)]
            sys.modules[name] = module
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, module)
    added_six = False
    try:
        import six  # noqa: F401  preprocess.py reads six.PY2 only
    except ImportError:
        six = types.ModuleType("six", "stub: preprocess.py only reads six.PY2")
        six.PY2, six.PY3 = False, True
        sys.modules["six"] = six
        added_six = True
    import importlib

    try:
        pre = importlib.import_module("paddleclas.deploy.python.preprocess")
    finally:
        if added_six:  # the module keeps its own reference; nothing else in the process sees the stub
            del sys.modules["six"]
    post = importlib.import_module("paddleclas.deploy.python.postprocess")
    det = importlib.import_module("paddleclas.deploy.python.det_preprocess")
    config = importlib.import_module("paddleclas.deploy.utils.config")
    return pre, post, det, config


# ---- comparing a DeployConfig with a reading --------------------------------------------------------------------
def plain(cfg, name: str):
    """A DeployConfig field in the reading's plain form (enum values, resize as a dict)."""
    value = getattr(cfg, name)
    if name == "resize":
        return {"mode": value.mode.value, "short": value.short, "width": value.width, "height": value.height,
                "keep_ratio": value.keep_ratio, "interp": value.interp.value, "antialias": value.antialias}
    return value.value if isinstance(value, enum.Enum) else value


def _same(want, got) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(_same(v, got.get(k)) for k, v in want.items())
    if isinstance(want, tuple):
        return isinstance(got, (tuple, list)) and len(want) == len(got) and all(map(_same, want, got))
    if isinstance(want, np.float32):  # upstream computes with this float32: the reader's value must round to it
        return isinstance(got, (int, float, np.floating)) and not isinstance(got, bool) and np.float32(got) == want
    if isinstance(want, bool) or isinstance(got, bool):
        return type(want) is type(got) and want == got
    if isinstance(want, (int, float)):
        return isinstance(got, (int, float)) and float(got) == float(want)
    return type(want) is type(got) and want == got


def _show(want, got) -> str:
    if isinstance(want, tuple) and isinstance(got, (tuple, list)) and len(want) > 4:
        first = next((i for i, (w, g) in enumerate(zip(want, got)) if not _same(w, g)), min(len(want), len(got)))
        return (f"{len(want)} upstream vs {len(got)} read; first difference at [{first}]: "
                f"{want[first] if first < len(want) else '-'!r} vs {got[first] if first < len(got) else '-'!r}")
    return f"upstream {want!r} vs read {got!r}"


def mismatches(cfg, fields: dict) -> list:
    """'field: how it differs' for every field of the reading that the DeployConfig does not reproduce."""
    out = []
    for name, want in fields.items():
        got = plain(cfg, name)
        if not _same(want, got):
            out.append(f"{name}: {_show(want, got)}")
    return out
