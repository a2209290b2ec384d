"""Pixels -> the model's input tensor, as the deploy config says. Every step is documented because the
generated Java must do the same. Two upstreams, two arithmetics: detectors (SSD, PicoDet) follow PaddleDetection's
deploy (and PaddleClas's copy of it, det_preprocess.py, which PP-ShiTu runs), everything else PaddleClas's
deploy/python/preprocess.py.

1. size: SHORT: p = short / min(w, h); (round(w * p), round(h * p)) with Python's round (half to even, as
   PaddleClas). FIXED without keep_ratio: (width, height). Detectors map with PaddleDetection's factors
   (fx, fy): keep_ratio: s = min(W, H) / min(w, h), unless round(s * max(w, h)) > max(W, H), then
   s = max(W, H) / max(w, h), and fx = fy = s; otherwise fx = width / w, fy = height / h (float64); the size is
   (round(w * fx), round(h * fy)) as cv2.resize(im, None, fx=fx, fy=fy) computes it (cvRound: half to even).
2. resize the 8-bit image to 8 bits as the upstream's resampler does, bit for bit: Pillow's Image.resize for
   `backend: pil` configs (antialias; reference/pil_resize.py), else OpenCV's cv2.resize (reference/cv2_resize.py):
   with (width, height) for PaddleClas's ResizeImage, with the map factors fx, fy for PaddleDetection's Resize;
   as the config's upstream machine (config.upstream_cv2) computes it: INTER_CUBIC through IPP's AVX2 or AVX-512
   code or without IPP, IPP's warpAffine at its OpenCV thread count and L2 size.
3. centre crop (cw, ch): offsets ((W - cw) // 2, (H - ch) // 2) as PaddleClas's CropImage. Steps 2 and 3 are
   fused: only the crop window is resampled (bit-identical to resizing everything and cropping), so a sliver
   image whose resize is huge costs no more than its crop.
4. channel order: the decoded image is RGB; BGR reverses the channels.
5. normalise, each upstream in its own precision and order (normalise() below); layout NCHW, batch 1:
   - PaddleClas's NormalizeImage, float32 throughout: x = float32(v); (x * float32(scale) - float32(mean[c]))
     / float32(std[c]), each operation rounded to float32 (`scale` is float32 of the config's literal:
     0.00392157 is not 1/255).
   - PaddleDetection's NormalizeImage: x = float32(v); with is_scale (scale 1/255) x = x / 255 in float32;
     then x = float32(float64(x) - mean[c]) and x = float32(float64(x) / std[c]) (`im -= mean` and `im /= std`
     against float64 arrays). A scale other than 1/255 or 1 (no PaddleDetection file can say one): float32 of
     float64(x) * scale first.
   The 8-bit values are looked up in a [C, 256] table that this arithmetic fills once per config (each value is
   normalised on its own, so the bits are the same), written straight into NCHW as the resampler hands over its
   rows (nchw_writer).
6. PaddleDetection's extra inputs, when the model has them: im_shape = [[H, W]] of the network input and
   scale_factor = float32 of the float64 [[fy, fx]] (for a config with no detector factors, H / source h and
   W / source w in float64).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..config import ChannelOrder, DeployConfig, Interp, ResizeMode, Task
from ..config.for_model import EXTRA_INPUTS
from ..errors import BadInput
from . import cv2_resize, pil_resize


@dataclasses.dataclass(frozen=True)
class Preprocessed:
    tensor: np.ndarray  # [1, 3, H, W] float32
    source_size: tuple  # (w, h) of the decoded image
    resized_size: tuple  # (w, h) after step 1
    crop_offset: tuple  # (x, y) of the crop in the resized image
    # PaddleDetection's map factors (fy, fx), float64, that its scale_factor input is made of (None: not a detector)
    det_factors: tuple | None = None




def model_inputs(pre: Preprocessed, input_names) -> list:
    """Every input of the model, in its order: the image tensor first, then PaddleDetection's geometry inputs."""
    _, _, h, w = pre.tensor.shape
    src_w, src_h = pre.source_size
    arrays = [pre.tensor]
    for name in list(input_names)[1:]:
        if name == "im_shape":
            arrays.append(np.array([[h, w]], dtype=np.float32))
        elif name == "scale_factor":
            factors = pre.det_factors if pre.det_factors is not None else (h / src_h, w / src_w)
            arrays.append(np.array([factors], dtype=np.float64).astype(np.float32))
        else:
            raise BadInput(f"the model has an input {name!r} that is neither the image nor one of "
                           f"{', '.join(EXTRA_INPUTS)}: lite-tools does not know how to fill it")
    return arrays


def follows_paddledet(config: DeployConfig) -> bool:
    """Detectors take PaddleDetection's arithmetic (module docstring), everything else PaddleClas's."""
    return config.task in (Task.SSD, Task.PICODET)


def det_factors(config: DeployConfig, w: int, h: int) -> tuple | None:
    """PaddleDetection's (fy, fx) for a w x h image (step 1), or None for a config that does not follow it."""
    r = config.resize
    if not follows_paddledet(config) or r.mode != ResizeMode.FIXED:
        return None
    if r.keep_ratio:
        s = min(r.width, r.height) / min(w, h)
        if round(s * max(w, h)) > max(r.width, r.height):
            s = max(r.width, r.height) / max(w, h)
        return s, s
    return r.height / h, r.width / w


def resized_size(config: DeployConfig, w: int, h: int) -> tuple:
    r = config.resize
    if r.mode == ResizeMode.SHORT:
        p = float(r.short) / min(w, h)
        return int(round(w * p)), int(round(h * p))
    factors = det_factors(config, w, h)
    if factors is not None:
        fy, fx = factors
        return int(round(w * fx)), int(round(h * fy))
    if r.keep_ratio:
        p = min(min(r.width, r.height) / min(w, h), max(r.width, r.height) / max(w, h))
        return int(round(w * p)), int(round(h * p))
    return r.width, r.height


def normalise(img: np.ndarray, config: DeployConfig) -> np.ndarray:
    """Resized HxWxC values (in the model's channel order) -> float32, in the upstream's arithmetic (step 5). uint8
    values are looked up in lookup_table(config): the same arithmetic on the 256 values of each channel, so the
    same float32 bits (each value is normalised on its own), without float64 temporaries of the image's size."""
    img = np.asarray(img)
    if img.dtype == np.uint8 and img.ndim == 3:
        table = lookup_table(config, img.shape[2])
        return np.stack([table[c][img[:, :, c]] for c in range(img.shape[2])], axis=2)
    return normalise_values(img, config)


def normalise_values(img: np.ndarray, config: DeployConfig) -> np.ndarray:
    """Step 5 computed as the upstream computes it, on any real values."""
    return _upstream_arithmetic(img, follows_paddledet(config), config.scale, config.mean, config.std)


def _upstream_arithmetic(img, paddledet: bool, scale: float, mean, std) -> np.ndarray:
    x = np.asarray(img).astype(np.float32)
    if not paddledet:
        mean32 = np.asarray(mean, dtype=np.float64).astype(np.float32)
        std32 = np.asarray(std, dtype=np.float64).astype(np.float32)
        return (x * np.float32(scale) - mean32) / std32
    if scale == 1.0 / 255.0:
        x = x / np.float32(255.0)
    elif scale != 1.0:
        x = (x.astype(np.float64) * scale).astype(np.float32)
    x = (x.astype(np.float64) - np.asarray(mean, dtype=np.float64)).astype(np.float32)
    return (x.astype(np.float64) / np.asarray(std, dtype=np.float64)).astype(np.float32)


def lookup_table(config: DeployConfig, channels: int = 3) -> np.ndarray:
    """[channels, 256] float32: step 5 of every 8-bit value in every channel (read-only, cached per arithmetic)."""
    return _table(follows_paddledet(config), config.scale, tuple(config.mean), tuple(config.std), channels)


@functools.lru_cache(maxsize=64)
def _table(paddledet: bool, scale: float, mean: tuple, std: tuple, channels: int) -> np.ndarray:
    values = np.repeat(np.arange(256, dtype=np.uint8)[:, None], channels, axis=1)
    table = np.ascontiguousarray(_upstream_arithmetic(values, paddledet, scale, mean, std).T)
    table.flags.writeable = False
    return table


def nchw_writer(tensor: np.ndarray, config: DeployConfig, reverse: bool = False):
    """consume(r0, rows) for the resamplers: writes resized rows [n, W, C] (integer values 0..255, channels in the
    model's order, or reversed when `reverse`) normalised into tensor [1, C, H, W] from row r0: step 5 by lookup,
    straight into NCHW (no HWC float copy, no transpose). The indices go through a reused intp array, a few rows
    at a time: np.take would convert them into a fresh one per channel, whose page faults cost more than the
    lookup."""
    channels = tensor.shape[1]
    table = lookup_table(config, channels)

    def write(r0: int, rows: np.ndarray) -> None:
        n, w = rows.shape[:2]
        step = max(1, cv2_resize.TWO_TAP_CHUNK_BYTES // (w * np.dtype(np.intp).itemsize))
        for a in range(0, n, step):
            index = cv2_resize.scratch("nchw_index", (min(step, n - a), w), np.intp)
            for c in range(channels):
                np.copyto(index, rows[a:a + step, :, channels - 1 - c if reverse else c])
                np.take(table[c], index, out=tensor[0, c, r0 + a:r0 + a + len(index)], mode="clip")  # clip: unbuffered
    return write


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


# The upstream resamplers' versions our resize reproduces to the bit (the ones PaddleClas 2.6.0 installs).
OPENCV_TARGET = "opencv-python 4.6.0.66"
PILLOW_TARGET = "Pillow 12.3.0"


def depends_on_machine(config: DeployConfig) -> str:
    """What of the upstream machine (config.upstream_cv2) the config's resize depends on: "" (nothing: Pillow, or
    OpenCV without INTER_CUBIC), "cpu" (IPP's cubic resize), "cpu+threads" (IPP's warpAffine: PaddleDetection's
    keep_ratio cubic, whose fx/fy are rarely dsize / size)."""
    r = config.resize
    if r.antialias or r.interp != Interp.BICUBIC:
        return ""
    if config.upstream_cv2.ipp and r.keep_ratio and r.mode == ResizeMode.FIXED and follows_paddledet(config):
        return "cpu+threads"  # without IPP there is no warpAffine: OpenCV's own cubic, the same at any thread count
    return "cpu"


def reproduces(config: DeployConfig) -> str:
    """Which upstream resize the reference (and the Java core) reproduce for `config`: for the reports."""
    r = config.resize
    if r.antialias:
        return f"PIL.Image.resize {r.interp.value} of {PILLOW_TARGET}"
    said = f"cv2.resize {r.interp.value} of {OPENCV_TARGET}"
    depends = depends_on_machine(config)
    if not depends:
        return said + " (the same on every machine)"
    u = config.upstream_cv2
    said += f" as on an upstream machine {u.describe(threads=depends == 'cpu+threads')}"
    if u.cpu == "avx2":
        said += " (an AVX-512 CPU runs this code only with OPENCV_IPP=avx2 set; --upstream-cpu avx512 for its own)"
    if depends == "cpu+threads":
        said += ("; this keep_ratio scale runs IPP's warpAffine, whose result depends on OpenCV's thread count "
                 "(and the L2 size IPP reads): set --upstream-threads to cv2.getNumThreads() of the PaddleDetection "
                 "process, or run it with cv2.setNumThreads(" + str(u.threads) + ")")
    return said


CV2_FLAGS = {Interp.NEAREST: 0, Interp.BILINEAR: 1, Interp.BICUBIC: 2, Interp.AREA: 3, Interp.LANCZOS: 4}


def resample(rgb: np.ndarray, config: DeployConfig, size: tuple, window: tuple, factors, consume) -> None:
    """Step 2 for the `window` (x, y, w, h) of the `size` (w, h) resize, the upstream's own pixels, handed to
    consume(r0, rows) (cv2_resize.resize's consume: a chunk of rows at a time from its two-tap path).
    factors: det_factors(config, w, h) of the source, None when the config does not follow PaddleDetection."""
    r = config.resize
    if r.antialias:
        return consume(0, pil_resize.resize(rgb, *size, r.interp, window=window))
    u = config.upstream_cv2
    host = {"ipp": u.ipp, "ipp_dispatch": u.ipp_dispatch, "threads": u.threads, "l2_cache": u.l2_bytes}
    if factors is not None:
        fy, fx = factors
        return cv2_resize.resize(rgb, 0, 0, CV2_FLAGS[r.interp], fx=fx, fy=fy, window=window, consume=consume,
                                 **host)
    return cv2_resize.resize(rgb, *size, CV2_FLAGS[r.interp], window=window, consume=consume, **host)


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
    factors = det_factors(config, w, h)
    tensor = np.empty((1, rgb.shape[2], ch, cw), dtype=np.float32)
    # steps 2 and 3 fused: only the crop window of the resized image is computed (bit-identical, see resize), and
    # its rows go straight to step 5 (the two-tap resampler's int32 results, without an 8-bit copy)
    write = nchw_writer(tensor, config, reverse=config.channel_order == ChannelOrder.BGR)
    resample(np.ascontiguousarray(rgb, dtype=np.uint8), config, (rw, rh), (ox, oy, cw, ch), factors, write)
    return Preprocessed(tensor, (w, h), (rw, rh), (ox, oy), factors)
