"""PP-LCNetV2 (PaddleClas): re-parameterised depthwise convs (5/3/1 fused into one kxk conv with bias at
inference), optional SE with sigmoid gate, a split 1x1 conv pair in stage 3, shortcuts in stage 4.
Built in its inference (re-parameterised) form, which is what an exported model contains."""

from __future__ import annotations

import paddle
import paddle.nn as nn

from .pplcnet import round_channels

# Per stage: (in_channels, kernel, split_pw, use_rep, use_se, use_shortcut) at scale 1.0.
STAGES = {
    "stage1": (64, 3, False, False, False, False),
    "stage2": (128, 3, False, False, False, False),
    "stage3": (256, 5, True, True, True, False),
    "stage4": (512, 5, False, True, False, True),
}


class ConvBNLayer(nn.Layer):
    def __init__(self, in_ch, out_ch, kernel, stride, groups=1, use_act=True):
        super().__init__()
        self.use_act = use_act
        self.conv = nn.Conv2D(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(out_ch)
        if use_act:
            self.act = nn.ReLU()

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.act(x) if self.use_act else x


class SEModule(nn.Layer):
    def __init__(self, channels, reduction=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.conv1 = nn.Conv2D(channels, channels // reduction, 1)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2D(channels // reduction, channels, 1)
        self.hardsigmoid = nn.Sigmoid()  # PaddleClas keeps the attribute name with a sigmoid gate

    def forward(self, x):
        return paddle.multiply(x, self.hardsigmoid(self.conv2(self.relu(self.conv1(self.avg_pool(x))))))


class RepDepthwiseSeparable(nn.Layer):
    def __init__(self, in_ch, out_ch, stride, dw_size=3, split_pw=False, use_rep=False, use_se=False,
                 use_shortcut=False):
        super().__init__()
        self.use_rep, self.use_se, self.split_pw = use_rep, use_se, split_pw
        self.use_shortcut = use_shortcut and stride == 1 and in_ch == out_ch
        if use_rep:  # the fused form of the 5x5/3x3/1x1 depthwise branches
            self.dw_conv = nn.Conv2D(in_ch, in_ch, dw_size, stride, padding=(dw_size - 1) // 2, groups=in_ch)
            self.act = nn.ReLU()
        else:
            self.dw_conv = ConvBNLayer(in_ch, in_ch, dw_size, stride, groups=in_ch)
        if use_se:
            self.se = SEModule(in_ch)
        if split_pw:
            self.pw_conv_1 = ConvBNLayer(in_ch, out_ch // 2, 1, 1)
            self.pw_conv_2 = ConvBNLayer(out_ch // 2, out_ch, 1, 1)
        else:
            self.pw_conv = ConvBNLayer(in_ch, out_ch, 1, 1)

    def forward(self, x):
        identity = x
        x = self.act(self.dw_conv(x)) if self.use_rep else self.dw_conv(x)
        if self.use_se:
            x = self.se(x)
        x = self.pw_conv_2(self.pw_conv_1(x)) if self.split_pw else self.pw_conv(x)
        return x + identity if self.use_shortcut else x


class PPLCNetV2(nn.Layer):
    def __init__(self, scale=1.0, depths=(2, 2, 6, 2), class_num=1000, dropout_prob=0.2, expand=1280):
        super().__init__()
        self.stem = nn.Sequential(ConvBNLayer(3, round_channels(32 * scale), 3, 2),
                                  RepDepthwiseSeparable(round_channels(32 * scale), round_channels(64 * scale),
                                                        1, 3))
        for depth, (stage, (cin, k, split_pw, use_rep, use_se, shortcut)) in zip(depths, STAGES.items()):
            setattr(self, stage, nn.Sequential(*[
                RepDepthwiseSeparable(round_channels((cin if i == 0 else cin * 2) * scale),
                                      round_channels(cin * 2 * scale), 2 if i == 0 else 1, k, split_pw,
                                      use_rep, use_se, shortcut) for i in range(depth)]))
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.last_conv = nn.Conv2D(round_channels(STAGES["stage4"][0] * 2 * scale), expand, 1, bias_attr=False)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout_prob, mode="downscale_in_infer")
        self.flatten = nn.Flatten(start_axis=1, stop_axis=-1)
        self.fc = nn.Linear(expand, class_num)

    def forward(self, x):
        x = self.stem(x)
        for stage in STAGES:
            x = getattr(self, stage)(x)
        x = self.dropout(self.act(self.last_conv(self.avg_pool(x))))
        return self.fc(self.flatten(x))
