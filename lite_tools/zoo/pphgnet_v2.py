"""PP-HGNetV2 (PaddleClas): a 2x2-conv/max-pool stem, HG stages of stacked (light) conv layers whose outputs
are concatenated and aggregated by squeeze/excitation 1x1 convs, learnable affine blocks (B0-B3), and a
2048-wide 1x1 conv head. Variants B0-B6 as PaddleClas defines them; sub-layer names, and so state_dict keys and
shapes, are PaddleClas's `PPHGNetV2` (tests/test_zoo_hgnet_variants.py)."""

from __future__ import annotations

import paddle
import paddle.nn as nn
import paddle.nn.functional as F

# PaddleClas's PPHGNetV2_B0..B6: (stem mid/out channels, layers per HG block, learnable affine blocks, and per stage
# (mid, out channels, blocks)). The rest is the same in every variant: each stage takes the previous one's output,
# stages 2-4 start with a depthwise stride-2 conv, stages 1-2 stack 3x3 conv layers and stages 3-4 light 5x5 ones.
VARIANTS = {
    "B0": ((16, 16), 3, True, ((16, 64, 1), (32, 256, 1), (64, 512, 2), (128, 1024, 1))),
    "B1": ((24, 32), 3, True, ((32, 64, 1), (48, 256, 1), (96, 512, 2), (192, 1024, 1))),
    "B2": ((24, 32), 4, True, ((32, 96, 1), (64, 384, 1), (128, 768, 3), (256, 1536, 1))),
    "B3": ((24, 32), 5, True, ((32, 128, 1), (64, 512, 1), (128, 1024, 3), (256, 2048, 1))),
    "B4": ((32, 48), 6, False, ((48, 128, 1), (96, 512, 1), (192, 1024, 3), (384, 2048, 1))),
    "B5": ((32, 64), 6, False, ((64, 128, 1), (128, 512, 2), (256, 1024, 5), (512, 2048, 2))),
    "B6": ((48, 96), 6, False, ((96, 192, 2), (192, 512, 3), (384, 1024, 6), (768, 2048, 3))),
}


def stage_args(variant: str) -> list:
    """Per stage: (in, mid, out, blocks, downsample, light_block, kernel, layers_per_block), HGV2Stage's order."""
    (_, stem_out), layers, _, stages = VARIANTS[variant]
    ins = [stem_out] + [out for _, out, _ in stages[:-1]]
    return [(in_ch, mid, out, blocks, i > 0, i >= 2, 5 if i >= 2 else 3, layers)
            for i, (in_ch, (mid, out, blocks)) in enumerate(zip(ins, stages))]


class LearnableAffineBlock(nn.Layer):
    """y = scale * x + bias with two scalar parameters."""

    def __init__(self):
        super().__init__()
        self.scale = self.create_parameter([1], default_initializer=nn.initializer.Constant(1.0))
        self.bias = self.create_parameter([1], default_initializer=nn.initializer.Constant(0.0))

    def forward(self, x):
        return self.scale * x + self.bias


class ConvBNAct(nn.Layer):
    def __init__(self, in_ch, out_ch, kernel=3, stride=1, groups=1, use_act=True, use_lab=False):
        super().__init__()
        self.use_act, self.use_lab = use_act, use_act and use_lab
        self.conv = nn.Conv2D(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(out_ch)
        if use_act:
            self.act = nn.ReLU()
        if self.use_lab:
            self.lab = LearnableAffineBlock()

    def forward(self, x):
        x = self.bn(self.conv(x))
        if self.use_act:
            x = self.act(x)
        return self.lab(x) if self.use_lab else x


class LightConvBNAct(nn.Layer):
    def __init__(self, in_ch, out_ch, kernel, use_lab=False):
        super().__init__()
        self.conv1 = ConvBNAct(in_ch, out_ch, 1, use_act=False, use_lab=use_lab)
        self.conv2 = ConvBNAct(out_ch, out_ch, kernel, groups=out_ch, use_act=True, use_lab=use_lab)

    def forward(self, x):
        return self.conv2(self.conv1(x))


class StemBlock(nn.Layer):
    def __init__(self, in_ch, mid_ch, out_ch, use_lab=False):
        super().__init__()
        self.stem1 = ConvBNAct(in_ch, mid_ch, 3, 2, use_lab=use_lab)
        self.stem2a = ConvBNAct(mid_ch, mid_ch // 2, 2, 1, use_lab=use_lab)
        self.stem2b = ConvBNAct(mid_ch // 2, mid_ch, 2, 1, use_lab=use_lab)
        self.stem3 = ConvBNAct(mid_ch * 2, mid_ch, 3, 2, use_lab=use_lab)
        self.stem4 = ConvBNAct(mid_ch, out_ch, 1, 1, use_lab=use_lab)
        self.pool = nn.MaxPool2D(kernel_size=2, stride=1, ceil_mode=True)

    def forward(self, x):
        x = F.pad(self.stem1(x), [0, 1, 0, 1])  # right/bottom pad keeps the 2x2 convs size-preserving
        branch = self.stem2b(F.pad(self.stem2a(x), [0, 1, 0, 1]))
        x = paddle.concat([self.pool(x), branch], axis=1)
        return self.stem4(self.stem3(x))


class HGV2Block(nn.Layer):
    def __init__(self, in_ch, mid_ch, out_ch, kernel, layer_num, identity, light_block, use_lab):
        super().__init__()
        self.identity = identity
        layer = LightConvBNAct if light_block else ConvBNAct
        self.layers = nn.LayerList([layer(in_ch if i == 0 else mid_ch, mid_ch, kernel, use_lab=use_lab)
                                    for i in range(layer_num)])
        total = in_ch + layer_num * mid_ch
        self.aggregation_squeeze_conv = ConvBNAct(total, out_ch // 2, 1, use_lab=use_lab)
        self.aggregation_excitation_conv = ConvBNAct(out_ch // 2, out_ch, 1, use_lab=use_lab)

    def forward(self, x):
        residual, outputs = x, [x]
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        x = self.aggregation_excitation_conv(self.aggregation_squeeze_conv(paddle.concat(outputs, axis=1)))
        return x + residual if self.identity else x


class HGV2Stage(nn.Layer):
    def __init__(self, in_ch, mid_ch, out_ch, block_num, downsample, light_block, kernel, layer_num, use_lab):
        super().__init__()
        self.is_downsample = downsample
        if downsample:
            self.downsample = ConvBNAct(in_ch, in_ch, 3, 2, groups=in_ch, use_act=False, use_lab=use_lab)
        self.blocks = nn.Sequential(*[
            HGV2Block(in_ch if i == 0 else out_ch, mid_ch, out_ch, kernel, layer_num, i > 0, light_block, use_lab)
            for i in range(block_num)])

    def forward(self, x):
        if self.is_downsample:
            x = self.downsample(x)
        return self.blocks(x)


class PPHGNetV2(nn.Layer):
    def __init__(self, variant="B0", class_num=1000, class_expand=2048, dropout_prob=0.0):
        super().__init__()
        (stem_mid, stem_out), _, use_lab, stages = VARIANTS[variant]
        self.use_lab = use_lab
        self.stem = StemBlock(3, stem_mid, stem_out, use_lab=use_lab)
        self.stages = nn.LayerList([HGV2Stage(*args, use_lab=use_lab) for args in stage_args(variant)])
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.last_conv = nn.Conv2D(stages[-1][1], class_expand, 1, bias_attr=False)
        self.act = nn.ReLU()
        if use_lab:
            self.lab = LearnableAffineBlock()
        self.dropout = nn.Dropout(p=dropout_prob, mode="downscale_in_infer")
        self.flatten = nn.Flatten(start_axis=1, stop_axis=-1)
        self.fc = nn.Linear(class_expand, class_num)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.act(self.last_conv(self.avg_pool(x)))
        if self.use_lab:
            x = self.lab(x)
        return self.fc(self.flatten(self.dropout(x)))
