"""SSD-MobileNetV1-300 for Pascal VOC, as published with MobileNet-SSD: six feature maps (19, 10, 5, 3, 2, 1),
3 priors per cell on the first and 6 elsewhere = 1917 priors, `prior_box` + `box_coder` (decode_center_size,
normalised) + `multiclass_nms3`. Output: boxes [N, 6] = (label, score, xmin, ymin, xmax, ymax) in [0, 1]
of the network input, and the number of boxes per image."""

from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F
from paddle.base.layer_helper import LayerHelper
from paddle.vision.ops import box_coder, prior_box

NUM_CLASSES = 21  # background + 20 VOC classes
# MobileNetV1 depthwise-separable blocks: (in, out, stride). The 19x19 map is block 11's output.
BACKBONE = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
    [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
FIRST_MAP_BLOCK = 10
EXTRAS = [(1024, 256, 512), (512, 128, 256), (256, 128, 256), (256, 64, 128)]  # (in, 1x1 mid, 3x3/s2 out)
MAP_CHANNELS = [512, 1024, 512, 256, 256, 128]
MIN_SIZES = [60.0, 105.0, 150.0, 195.0, 240.0, 285.0]
MAX_SIZES = [None, 150.0, 195.0, 240.0, 285.0, 300.0]
ASPECT_RATIOS = [[2.0], [2.0, 3.0], [2.0, 3.0], [2.0, 3.0], [2.0, 3.0], [2.0, 3.0]]
HEAD_KERNEL = 1  # PaddleDetection's ssd_mobilenet_v1_300 config: SSDHead kernel_size 1, padding 0
PRIOR_VARIANCE = [0.1, 0.1, 0.2, 0.2]
NMS = {"score_threshold": 0.01, "nms_top_k": 400, "keep_top_k": 200, "nms_threshold": 0.45, "nms_eta": 1.0,
       "background_label": 0, "normalized": True}


def priors_per_cell(i: int) -> int:
    return 1 + (1 if MAX_SIZES[i] else 0) + 2 * len(ASPECT_RATIOS[i])  # flip adds r and 1/r


class ConvBNReLU(nn.Layer):
    def __init__(self, in_ch, out_ch, kernel, stride=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2D(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(out_ch)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class DepthwiseSeparable(nn.Layer):
    def __init__(self, in_ch, out_ch, stride):
        super().__init__()
        self.depthwise = ConvBNReLU(in_ch, in_ch, 3, stride, groups=in_ch)
        self.pointwise = ConvBNReLU(in_ch, out_ch, 1)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class ExtraBlock(nn.Layer):
    def __init__(self, in_ch, mid_ch, out_ch):
        super().__init__()
        self.pointwise = ConvBNReLU(in_ch, mid_ch, 1)
        self.normal = ConvBNReLU(mid_ch, out_ch, 3, 2)

    def forward(self, x):
        return self.normal(self.pointwise(x))


def multiclass_nms3(bboxes, scores, attrs=None):
    """Append Paddle's multiclass_nms3 op with `attrs` (default: this model's NMS), as PaddleDetection's
    MultiClassNMS does in a static graph (zoo/picodet.py uses it too): rows + box count. Lite runs it on the
    host."""
    attrs = NMS if attrs is None else attrs
    if paddle.in_dynamic_mode():
        out, _, num = paddle._C_ops.multiclass_nms3(bboxes, scores, None, attrs["score_threshold"],
                                                    attrs["nms_top_k"], attrs["keep_top_k"],
                                                    attrs["nms_threshold"], attrs["normalized"],
                                                    attrs["nms_eta"], attrs["background_label"])
        return out, num
    helper = LayerHelper("multiclass_nms3")
    out = helper.create_variable_for_type_inference(dtype=bboxes.dtype)
    index = helper.create_variable_for_type_inference(dtype="int32")
    num = helper.create_variable_for_type_inference(dtype="int32")
    helper.append_op(type="multiclass_nms3", inputs={"BBoxes": bboxes, "Scores": scores}, attrs=dict(attrs),
                     outputs={"Out": out, "Index": index, "NmsRoisNum": num})
    out.stop_gradient = index.stop_gradient = num.stop_gradient = True
    return out, num


class SSDMobileNetV1(nn.Layer):
    def __init__(self, num_classes=NUM_CLASSES):
        super().__init__()
        self.num_classes = num_classes
        self.conv1 = ConvBNReLU(3, 32, 3, 2)
        self.blocks = nn.LayerList([DepthwiseSeparable(i, o, s) for i, o, s in BACKBONE])
        self.extras = nn.LayerList([ExtraBlock(*e) for e in EXTRAS])
        self.loc_heads = nn.LayerList([nn.Conv2D(c, priors_per_cell(i) * 4, HEAD_KERNEL)
                                       for i, c in enumerate(MAP_CHANNELS)])
        self.conf_heads = nn.LayerList([nn.Conv2D(c, priors_per_cell(i) * num_classes, HEAD_KERNEL)
                                        for i, c in enumerate(MAP_CHANNELS)])

    def feature_maps(self, image):
        x, maps = self.conv1(image), []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == FIRST_MAP_BLOCK:
                maps.append(x)
        maps.append(x)
        for extra in self.extras:
            x = extra(x)
            maps.append(x)
        return maps

    def head_outputs(self, image):
        """Box offsets [N, 1917, 4] and class logits [N, 1917, C] (also what BatchNorm calibration runs)."""
        maps = self.feature_maps(image)
        locs = [paddle.reshape(paddle.transpose(h(m), [0, 2, 3, 1]), [0, -1, 4]) for h, m in zip(self.loc_heads, maps)]
        confs = [paddle.reshape(paddle.transpose(h(m), [0, 2, 3, 1]), [0, -1, self.num_classes])
                 for h, m in zip(self.conf_heads, maps)]
        return maps, paddle.concat(locs, axis=1), paddle.concat(confs, axis=1)

    def forward(self, image):
        return self.detect(image)

    def detect(self, image):
        """Rows (label, score, x0, y0, x1, y1) normalised to the input, background = class 0; box counts."""
        maps, loc, conf = self.head_outputs(image)
        boxes, variances = [], []
        for i, fmap in enumerate(maps):
            box, var = prior_box(fmap, image, min_sizes=[MIN_SIZES[i]],
                                 max_sizes=[MAX_SIZES[i]] if MAX_SIZES[i] else None,
                                 aspect_ratios=ASPECT_RATIOS[i], variance=PRIOR_VARIANCE, flip=True, clip=True,
                                 offset=0.5)
            boxes.append(paddle.reshape(box, [-1, 4]))
            variances.append(paddle.reshape(var, [-1, 4]))
        decoded = box_coder(paddle.concat(boxes), paddle.concat(variances), loc, code_type="decode_center_size",
                            box_normalized=True)
        scores = paddle.transpose(F.softmax(conf, axis=-1), [0, 2, 1])
        return multiclass_nms3(decoded, scores)


class SSDMobileNetV1PaddleDetection(SSDMobileNetV1):
    """The same network exported the way PaddleDetection exports detectors: inputs image, im_shape and
    scale_factor; rows (label, score, x0, y0, x1, y1) with labels indexing PaddleDetection's label_list (no
    background entry) and boxes rescaled to the source image's pixels (network input size / scale_factor)."""

    def forward(self, image, im_shape, scale_factor):
        rows, num = self.detect(image)  # (dy2static cannot translate super() inside forward)
        source_hw = im_shape / scale_factor  # [1, 2]: source (h, w)
        source_wh = paddle.concat([source_hw[:, 1:2], source_hw[:, 0:1]], axis=1)
        scale = paddle.concat([source_wh, source_wh], axis=1)  # (w, h, w, h)
        label = rows[:, 0:1] - 1.0  # class 0 is background in the network, not in label_list
        return paddle.concat([label, rows[:, 1:2], rows[:, 2:6] * scale], axis=1), num
