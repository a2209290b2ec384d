"""PP-LCNet (arXiv:2109.15099, Table 1): depthwise-separable blocks with hard-swish, SE in the last two,
a 1280-wide 1x1 conv after global pooling. Sub-layer names follow PaddleClas's `PPLCNet` so that its published
state dicts (conv1, blocks2..blocks6, last_conv, fc) load into this class unchanged."""

from __future__ import annotations

import paddle
import paddle.nn as nn

# Per stage: (kernel, in_channels, out_channels, stride, use_se) at scale 1.0, from the paper's table.
STAGES = {
    "blocks2": [(3, 16, 32, 1, False)],
    "blocks3": [(3, 32, 64, 2, False), (3, 64, 64, 1, False)],
    "blocks4": [(3, 64, 128, 2, False), (3, 128, 128, 1, False)],
    "blocks5": [(3, 128, 256, 2, False)] + [(5, 256, 256, 1, False)] * 5,
    "blocks6": [(5, 256, 512, 2, True), (5, 512, 512, 1, True)],
}
SCALES = (0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)


def round_channels(value: float, divisor: int = 8) -> int:
    """Nearest multiple of `divisor`, never more than 10% below `value` (the MobileNet rounding rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class ConvBNLayer(nn.Layer):
    def __init__(self, in_ch, kernel, out_ch, stride, groups=1):
        super().__init__()
        self.conv = nn.Conv2D(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(out_ch)
        self.hardswish = nn.Hardswish()

    def forward(self, x):
        return self.hardswish(self.bn(self.conv(x)))


class SEModule(nn.Layer):
    def __init__(self, channels, reduction=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.conv1 = nn.Conv2D(channels, channels // reduction, 1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2D(channels // reduction, channels, 1)
        self.hardsigmoid = nn.Hardsigmoid()

    def forward(self, x):
        gate = self.hardsigmoid(self.conv2(self.relu(self.conv1(self.avg_pool(x)))))
        return paddle.multiply(x, gate)


class DepthwiseSeparable(nn.Layer):
    def __init__(self, in_ch, out_ch, stride, kernel, use_se):
        super().__init__()
        self.use_se = use_se
        self.dw_conv = ConvBNLayer(in_ch, kernel, in_ch, stride, groups=in_ch)
        if use_se:
            self.se = SEModule(in_ch)
        self.pw_conv = ConvBNLayer(in_ch, 1, out_ch, 1)

    def forward(self, x):
        x = self.dw_conv(x)
        if self.use_se:
            x = self.se(x)
        return self.pw_conv(x)


def add_stem_and_stages(layer, scale: float) -> None:
    """PP-LCNet's conv1 and blocks2..blocks6 on `layer`, in this order (the order names the parameters), as
    PaddleClas's PPLCNet and PaddleDetection's LCNet (zoo/picodet.py) both build them."""
    layer.conv1 = ConvBNLayer(3, 3, round_channels(16 * scale), 2)
    for stage, blocks in STAGES.items():
        setattr(layer, stage, nn.Sequential(*[
            DepthwiseSeparable(round_channels(cin * scale), round_channels(cout * scale), s, k, se)
            for k, cin, cout, s, se in blocks]))


class PPLCNet(nn.Layer):
    def __init__(self, scale=1.0, class_num=1000, class_expand=1280, dropout_prob=0.2):
        super().__init__()
        add_stem_and_stages(self, scale)
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.last_conv = nn.Conv2D(round_channels(STAGES["blocks6"][-1][2] * scale), class_expand, 1,
                                   bias_attr=False)
        self.hardswish = nn.Hardswish()
        self.dropout = nn.Dropout(p=dropout_prob, mode="downscale_in_infer")
        self.flatten = nn.Flatten(start_axis=1, stop_axis=-1)
        self.fc = nn.Linear(class_expand, class_num)

    def forward(self, x):
        x = self.conv1(x)
        for stage in STAGES:
            x = getattr(self, stage)(x)
        x = self.dropout(self.hardswish(self.last_conv(self.avg_pool(x))))
        return self.fc(self.flatten(x))
