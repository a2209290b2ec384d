"""Pixels -> the model's input tensor, as the deploy config says. Every step is documented because the
generated Java must do the same:

1. size: SHORT: p = short / min(w, h); (round(w * p), round(h * p)) with Python's round (half to even, as
   PaddleClas). FIXED: (width, height); with keep_ratio, p = min(min(W,H) / min(w,h), max(W,H) / max(w,h)) and
   (round(w * p), round(h * p)) as PaddleDetection's Resize (cv2 rounds half to even too).
2. resize with `reference.resize` (float64, no rounding).
3. centre crop (cw, ch): offsets ((W - cw) // 2, (H - ch) // 2) as PaddleClas's CropImage. Steps 2 and 3 are
   fused: only the crop window is resampled (bit-identical to resizing everything and cropping), so a sliver
   image whose resize is huge costs no more than its crop.
4. channel order: the decoded image is RGB; BGR reverses the channels.
5. v' = (v * scale - mean[c]) / std[c] in float64, then float32; layout NCHW, batch 1.
6. PaddleDetection's extra inputs, when the model has them: im_shape = [[H, W]] of the network input and
   scale_factor = [[H / source h, W / source w]], float32 (divided in float32, as the Java host does).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import ChannelOrder, DeployConfig, ResizeMode
from ..config.for_model import EXTRA_INPUTS
from ..errors import BadInput
from .resize import resize


@dataclasses.dataclass(frozen=True)
class Preprocessed:
    tensor: np.ndarray  # [1, 3, H, W] float32
    source_size: tuple  # (w, h) of the decoded image
    resized_size: tuple  # (w, h) after step 1
    crop_offset: tuple  # (x, y) of the crop in the resized image




def model_inputs(pre: Preprocessed, input_names) -> list:
    """Every input of the model, in its order: the image tensor first, then PaddleDetection's geometry inputs."""
    _, _, h, w = pre.tensor.shape
    src_w, src_h = pre.source_size
    arrays = [pre.tensor]
    for name in list(input_names)[1:]:
        if name == "im_shape":
            arrays.append(np.array([[h, w]], dtype=np.float32))
        elif name == "scale_factor":
            arrays.append(np.array([[np.float32(h) / np.float32(src_h), np.float32(w) / np.float32(src_w)]],
                                   dtype=np.float32))
        else:
            raise BadInput(f"the model has an input {name!r} that is neither the image nor one of "
                           f"{', '.join(EXTRA_INPUTS)}: lite-tools does not know how to fill it")
    return arrays


def resized_size(config: DeployConfig, w: int, h: int) -> tuple:
    r = config.resize
    if r.mode == ResizeMode.SHORT:
        p = float(r.short) / min(w, h)
        return int(round(w * p)), int(round(h * p))
    if r.keep_ratio:
        p = min(min(r.width, r.height) / min(w, h), max(r.width, r.height) / max(w, h))
        return int(round(w * p)), int(round(h * p))
    return r.width, r.height


def unusable(w: int, h: int, config: DeployConfig) -> str | None:
    """Why a w x h image gives the model nothing under `config` (None when it does): a sliver (4000x1) fitted into
    the target size by keep_ratio rounds its short side to 0 pixels. Such an image is skipped, as an unreadable
    one is (images.load_folder); it says nothing about the model."""
    rw, rh = resized_size(config, w, h)
    if rw >= 1 and rh >= 1:
        return None
    r = config.resize
    how = f" (keep_ratio into {r.width}x{r.height})" if r.mode == ResizeMode.FIXED and r.keep_ratio else ""
    return f"{w}x{h} resizes to {rw}x{rh} under {config.source}{how}: no pixels left for the model"


def preprocess(rgb: np.ndarray, config: DeployConfig) -> Preprocessed:
    h, w = rgb.shape[:2]
    why = unusable(w, h, config)
    if why:
        raise BadInput(f"image of {why}")
    rw, rh = resized_size(config, w, h)
    cw, ch = rw, rh
    if config.crop:
        cw, ch = config.crop
        if rw < cw or rh < ch:
            raise BadInput(f"{config.source}: crop {cw}x{ch} is larger than the resized image {rw}x{rh}")
    ox, oy = (rw - cw) // 2, (rh - ch) // 2
    # steps 2 and 3 fused: only the crop window of the resized image is computed (bit-identical, see resize)
    img = resize(rgb, rw, rh, config.resize.interp, config.resize.antialias, window=(ox, oy, cw, ch))
    if config.channel_order == ChannelOrder.BGR:
        img = img[:, :, ::-1]
    mean = np.asarray(config.mean, dtype=np.float64)
    std = np.asarray(config.std, dtype=np.float64)
    norm = (img * config.scale - mean) / std
    tensor = np.ascontiguousarray(norm.astype(np.float32).transpose(2, 0, 1)[None])
    return Preprocessed(tensor, (w, h), (rw, rh), (ox, oy))
