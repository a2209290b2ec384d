"""Deterministic weights with realistic activations for zoo models.

Every parameter is drawn from a numpy RandomState in `named_parameters()` order (He-normal for convolutions,
1/sqrt(fan_in) for linear layers), so the same seed gives the same bytes on any machine. BatchNorm running
statistics are then measured on a deterministic batch in train mode with momentum 0, which makes them
non-trivial (not 0/1) and keeps activations well-scaled through deep stacks, as trained statistics would.
"""

from __future__ import annotations

import numpy as np


def init_parameters(net, seed: int, gain: dict | None = None) -> None:
    """gain: optional {name substring: factor} to widen some layers (e.g. a detection head's logits)."""
    rng = np.random.RandomState(seed)
    for name, p in net.named_parameters():
        shape = list(p.shape)
        if len(shape) == 4:  # conv [out, in/groups, kh, kw]
            fan_in = shape[1] * shape[2] * shape[3]
            value = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        elif len(shape) == 2:  # linear [in, out]
            value = rng.normal(0.0, np.sqrt(1.0 / shape[0]), shape)
        elif name.endswith("_mean") or name.endswith("_variance"):
            continue
        elif ".bn." in f".{name}" or "batch_norm" in name or "_bn" in name or ".bn" in name or ".norm." in name:
            value = rng.uniform(0.7, 1.3, shape) if name.endswith("weight") else rng.normal(0.0, 0.1, shape)
        elif name.endswith("lab.scale"):
            value = rng.uniform(0.8, 1.2, shape)
        else:  # biases, affine offsets
            value = rng.normal(0.0, 0.05, shape)
        for key, factor in (gain or {}).items():
            if key in name:
                value = value * factor
        p.set_value(value.astype(np.float32))


def calibrate_batchnorm(forward, net, input_shape, seed: int, batch: int = 4) -> None:
    """Set every BatchNorm's running mean/var to the statistics of one deterministic batch."""
    import warnings

    import paddle

    norms = [m for m in net.sublayers() if isinstance(m, paddle.nn.layer.norm._BatchNormBase)]
    saved = [m._momentum for m in norms]
    for m in norms:
        m._momentum = 0.0
    if hasattr(net, "calibration_batch"):  # an architecture that wants photo-like statistics (zoo/photos.py)
        x = net.calibration_batch(input_shape, seed + 1, batch)
    else:
        x = np.random.RandomState(seed + 1).normal(0.0, 1.0, [batch] + list(input_shape)).astype(np.float32)
    net.train()
    with paddle.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Paddle warns that train mode tracks global statistics: that is the point
        forward(paddle.to_tensor(x))
    for m, momentum in zip(norms, saved):
        m._momentum = momentum
    net.eval()
