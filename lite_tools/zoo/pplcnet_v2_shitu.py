"""PP-ShiTuV2's feature extractor as PaddleClas builds and exports it: `RecModel` with the backbone
`PPLCNetV2_base_ShiTu` (ppcls/arch/backbone/variant_models/pp_lcnetv2_variant.py) and a BNNeck, 512-d
(ppcls/configs/GeneralRecognitionV2/GeneralRecognitionV2_PPLCNetV2_base.yaml: class_expand 512, BackboneStopLayer
flatten, Neck BNNeck; its FC head is replaced by IdentityHead when exported with infer_output_key: features, and
infer_add_softmax: False adds nothing: the graph outputs the raw neck features, [N, 512]).

The variant is PPLCNetV2_base changed three ways, after it is built (PaddleClas's upgrade_sublayer): the ReLU after
last_conv removed, last_conv rebuilt with a bias, and the last stage's two blocks rebuilt with stride 1 (the
first block then also gets the 1x1 branch a stride-2 block skips). They are rebuilt in that order, after the
original layers, so parameters get the static names a PaddleClas export gives them (conv2d_N / batch_norm2d_N /
batch_norm1d_0) as well as PaddleClas's sub-layer paths (backbone.stem.*, backbone.stages.N.M.*, neck.feat_bn.*).

Trained form first (depthwise branches kxk / 3x3 / 1x1 with their BNs, so published training state dicts load),
then re-parameterised into one kxk conv with bias before export, as PaddleClas's export does (re_parameterize).
"""

from __future__ import annotations

import numpy as np
import paddle
import paddle.nn as nn

from .pplcnet import round_channels

# (in_channels, kernel, split_pw, use_rep, use_se, use_shortcut) per stage at scale 1.0 (PaddleClas NET_CONFIG).
STAGES = [(64, 3, False, False, False, False), (128, 3, False, False, False, False), (256, 5, True, True, True, False),
          (512, 5, False, True, False, True)]
DEPTHS = (2, 2, 6, 2)
FEATURE_DIM = 512  # class_expand in GeneralRecognitionV2_PPLCNetV2_base.yaml
BN_GAMMA_SCALE, BN_BETA_SHIFT = 0.5, 1.0  # RecModel.after_init


class ConvBNLayer(nn.Layer):
    def __init__(self, in_ch, out_ch, kernel, stride, groups=1, act=True):
        super().__init__()
        self.conv = nn.Conv2D(in_ch, out_ch, kernel, stride, padding=(kernel - 1) // 2, groups=groups,
                              bias_attr=False)
        self.bn = nn.BatchNorm2D(out_ch)
        self.act = nn.ReLU() if act else None

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.act(x) if self.act is not None else x


class SEModule(nn.Layer):
    def __init__(self, ch, reduction=4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.conv1 = nn.Conv2D(ch, ch // reduction, 1)
        self.act = nn.ReLU()
        self.conv2 = nn.Conv2D(ch // reduction, ch, 1)
        self.hardsigmoid = nn.Sigmoid()  # PaddleClas's name for a sigmoid gate

    def forward(self, x):
        return paddle.multiply(x, self.hardsigmoid(self.conv2(self.act(self.conv1(self.avg_pool(x))))))


class RepDepthwiseSeparable(nn.Layer):
    def __init__(self, in_ch, out_ch, stride, dw_size=3, split_pw=False, use_rep=False, use_se=False,
                 use_shortcut=False):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = in_ch, out_ch, stride
        self.dw_size, self.split_pw, self.use_rep, self.use_se = dw_size, split_pw, use_rep, use_se
        self.use_shortcut = use_shortcut and stride == 1 and in_ch == out_ch
        self.is_repped = False
        if use_rep:
            self.dw_conv_list = nn.LayerList([
                ConvBNLayer(in_ch, in_ch, k, stride, groups=in_ch, act=False)
                for k in range(dw_size, 0, -2) if not (k == 1 and stride != 1)])
            self.dw_conv = nn.Conv2D(in_ch, in_ch, dw_size, stride, padding=(dw_size - 1) // 2, groups=in_ch)
        else:
            self.dw_conv = ConvBNLayer(in_ch, in_ch, dw_size, stride, groups=in_ch)
        self.act = nn.ReLU()
        if use_se:
            self.se = SEModule(in_ch)
        if split_pw:
            self.pw_conv_1 = ConvBNLayer(in_ch, int(out_ch * 0.5), 1, 1)
            self.pw_conv_2 = ConvBNLayer(int(out_ch * 0.5), out_ch, 1, 1)
        else:
            self.pw_conv = ConvBNLayer(in_ch, out_ch, 1, 1)

    def forward(self, x):
        identity = x
        if self.use_rep:
            if self.is_repped:
                x = self.act(self.dw_conv(x))
            else:
                y = self.dw_conv_list[0](x)
                for branch in self.dw_conv_list[1:]:
                    y = y + branch(x)
                x = self.act(y)
        else:
            x = self.dw_conv(x)
        if self.use_se:
            x = self.se(x)
        x = self.pw_conv_2(self.pw_conv_1(x)) if self.split_pw else self.pw_conv(x)
        return x + identity if self.use_shortcut else x

    def re_parameterize(self):
        """Fold the depthwise branches and their BNs into dw_conv (kernel zero-padded to dw_size, biases summed)."""
        if not self.use_rep or self.is_repped:
            return
        kernel = np.zeros(self.dw_conv.weight.shape, np.float64)
        bias = np.zeros(self.dw_conv.bias.shape, np.float64)
        for branch in self.dw_conv_list:
            bn = branch.bn
            std = np.sqrt(bn._variance.numpy().astype(np.float64) + bn._epsilon)
            gamma = bn.weight.numpy().astype(np.float64)
            w = branch.conv.weight.numpy().astype(np.float64) * (gamma / std)[:, None, None, None]
            pad = (self.dw_size - w.shape[-1]) // 2
            kernel += np.pad(w, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            bias += bn.bias.numpy().astype(np.float64) - bn._mean.numpy().astype(np.float64) * gamma / std
        self.dw_conv.weight.set_value(kernel.astype(np.float32))
        self.dw_conv.bias.set_value(bias.astype(np.float32))
        self.is_repped = True


class PPLCNetV2(nn.Layer):
    """PaddleClas's PPLCNetV2 (legendary_models/pp_lcnet_v2.py), scale 1.0, depths [2, 2, 6, 2]."""

    def __init__(self, class_expand=1280, class_num=1000, dropout_prob=0.2):
        super().__init__()
        self.stem = nn.Sequential(ConvBNLayer(3, round_channels(32), 3, 2),
                                  RepDepthwiseSeparable(round_channels(32), round_channels(64), 1, 3))
        self.stages = nn.LayerList()
        for depth, (cin, k, split_pw, use_rep, use_se, shortcut) in zip(DEPTHS, STAGES):
            self.stages.append(nn.Sequential(*[
                RepDepthwiseSeparable(round_channels(cin if i == 0 else cin * 2), round_channels(cin * 2),
                                      2 if i == 0 else 1, k, split_pw, use_rep, use_se, shortcut)
                for i in range(depth)]))
        self.avg_pool = nn.AdaptiveAvgPool2D(1)
        self.last_conv = nn.Conv2D(round_channels(STAGES[-1][0] * 2), class_expand, 1, bias_attr=False)
        self.act = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout_prob, mode="downscale_in_infer")
        self.flatten = nn.Flatten(start_axis=1, stop_axis=-1)
        self.fc = nn.Linear(class_expand, class_num)

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.dropout(self.act(self.last_conv(self.avg_pool(x))))
        return self.fc(self.flatten(x))


def pplcnetv2_base_shitu(class_expand=FEATURE_DIM) -> PPLCNetV2:
    """PPLCNetV2_base_ShiTu, then RecModel's BackboneStopLayer flatten (fc becomes Identity)."""
    net = PPLCNetV2(class_expand=class_expand)
    net.act = nn.Identity()  # no ReLU after last_conv
    old = net.last_conv
    net.last_conv = nn.Conv2D(old._in_channels, old._out_channels, 1, bias_attr=None)  # with a bias
    last = net.stages[3]
    for i in range(len(last)):  # stride 1 in the last stage, rebuilt from each block's own settings
        b = last[i]
        last[i] = RepDepthwiseSeparable(b.in_channels, b.out_channels, 1, b.dw_size, b.split_pw, b.use_rep,
                                        b.use_se, b.use_shortcut)
    net.fc = nn.Identity()  # stop_after("flatten")
    return net


class BNNeck(nn.Layer):
    def __init__(self, num_features):
        super().__init__()
        self.feat_bn = nn.BatchNorm1D(num_features, momentum=0.9, epsilon=1e-05)
        self.flatten = nn.Flatten()

    def forward(self, x):
        return self.feat_bn(self.flatten(x))


class RecModel(nn.Layer):
    """backbone -> neck; the export's output is the neck's features (PaddleClas's `features`)."""

    def __init__(self):
        super().__init__()
        self.backbone = pplcnetv2_base_shitu()
        self.neck = BNNeck(FEATURE_DIM)

    def forward(self, x):
        return self.neck(self.backbone(x))

    def after_init(self):
        """Deterministic weights that behave like features: random ReLU nets this deep answer chaotically (a grey
        level of noise moved an embedding as far as another photo is); every backbone BN's scale halved and its
        shift raised by 1 keeps most units in their linear range, so embeddings vary smoothly with the pixels."""
        for layer in self.backbone.sublayers():
            if isinstance(layer, nn.BatchNorm2D):
                layer.weight.set_value((layer.weight.numpy() * BN_GAMMA_SCALE).astype(np.float32))
                layer.bias.set_value((layer.bias.numpy() + BN_BETA_SHIFT).astype(np.float32))
        bias = self.neck.feat_bn.bias  # PaddleClas's config freezes the BNNeck's bias at 0
        bias.set_value(np.zeros(bias.shape, np.float32))

    def calibration_batch(self, input_shape, seed, batch):
        """16 photo-like images (not `batch`): the BNNeck normalises each of 512 dimensions by its spread over
        the batch, which 4 images measure too roughly (a few dimensions would dominate every embedding)."""
        from .photos import photo_batch
        return photo_batch(input_shape, seed, 16)

    def before_export(self):
        """re_parameterize, as PaddleClas's export does; and the BNNeck's variances raised by their median, so that
        dimensions nearly constant over the calibration photos are not amplified into noise."""
        for layer in self.sublayers():
            if isinstance(layer, RepDepthwiseSeparable):
                layer.re_parameterize()
        var = self.neck.feat_bn._variance
        value = var.numpy().astype(np.float64)
        var.set_value((value + np.median(value)).astype(np.float32))


# PaddleClas's dump_infer_config for GeneralRecognitionV2_PPLCNetV2_base.yaml (Infer transforms of the config:
# ResizeImage 224 cv2 bilinear, NormalizeImage with scale 1.0/255.0 -- which it writes evaluated -- ToCHWImage;
# PostProcess NormalizeFeatures, the L2 normalisation predict_rec.py applies).
INFERENCE_YML = """PreProcess:
  transform_ops:
  - ResizeImage:
      backend: cv2
      interpolation: bilinear
      return_numpy: false
      size:
      - 224
      - 224
  - NormalizeImage:
      channel_num: 3
      mean:
      - 0.485
      - 0.456
      - 0.406
      order: hwc
      scale: 0.00392156862745098
      std:
      - 0.229
      - 0.224
      - 0.225
  - ToCHWImage: null
PostProcess:
  NormalizeFeatures: null
"""
