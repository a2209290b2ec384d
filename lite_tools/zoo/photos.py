"""Photo-like calibration batches for zoo models whose BatchNorm statistics should be those of images, not noise.

Why: BatchNorm statistics measured on N(0, 1) noise leave smooth photos with small, nearly image-independent
activations deep in a network; a detector head then answers the same on every photo and an embedding maps every
photo to almost the same vector. Measured on photo-like images (lite_tools.reference.synthetic_images, normalised
as ImageNet-trained models expect), activations on real images are well-scaled and vary with the image."""

from __future__ import annotations

import numpy as np

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_STD = np.array([0.229, 0.224, 0.225])


def photo_batch(input_shape, seed: int, batch: int) -> np.ndarray:
    """[batch, 3, H, W] float32: synthetic photos stretched (bilinear, as a detector's Resize would) to H x W,
    x / 255, ImageNet mean/std."""
    from ..config.model import Interp
    from ..reference.images import synthetic_images
    from ..reference.resize import resize

    _, h, w = input_shape
    out = []
    for img in synthetic_images(batch, seed=seed):
        x = (resize(img, w, h, Interp.BILINEAR, False) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        out.append(x.transpose(2, 0, 1))
    return np.stack(out).astype(np.float32)
