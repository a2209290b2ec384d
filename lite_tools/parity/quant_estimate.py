"""Estimate what Paddle Lite's weight quantisation does to a model, in Paddle, because Lite 2.13rc0's x86
kernels return NaN for weight-quantised models and so cannot be run here.

Lite's `post_quant_dynamic_pass` (opt --quant_model): for `conv2d` filters (per output channel, axis 0) and the
weights of `mul`/`matmul`/`matmul_v2`/`fc` (per output column, axis 1): scale = abs-max / (2^(bits-1) - 1),
q = round(w / scale) rounding half away from zero (C's round) in float32, stored as int8/int16 and dequantised to
q * scale at run time. `depthwise_conv2d` filters are left in fp32 (not in the pass's op list; the .nb sizes agree).
With fp16 (ARM) we model the weights rounded to fp16 only; activations in fp16 are not modelled.
We apply the same arithmetic to a copy of the params file and run Paddle Inference on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..model import program as programs

AXIS0_OPS = {"conv2d": "Filter"}
AXIS1_OPS = {"mul": "Y", "matmul": "Y", "matmul_v2": "Y", "fc": "W"}


def quantised_weights(program: programs.Program) -> dict:
    """{weight var name: axis} for the weights Lite's pass quantises."""
    found = {}
    for op in program.block.ops:
        for table, axis in ((AXIS0_OPS, 0), (AXIS1_OPS, 1)):
            slot = table.get(op.type)
            if slot is None:
                continue
            for s in op.inputs:
                if s.parameter == slot:
                    for name in s.arguments:
                        v = program.var(name)
                        if v is not None and v.persistable and len(v.type.lod_tensor.tensor.dims) in (2, 4):
                            found[name] = axis
    return found


def fake_quantise(w: np.ndarray, axis: int, bits: int) -> np.ndarray:
    w = w.astype(np.float32)
    moved = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
    rng = np.float32((1 << (bits - 1)) - 1)
    scale = (np.abs(moved).max(axis=1) / rng).astype(np.float32)[:, None]
    safe = np.where(scale > 0, scale, np.float32(1))
    x = (moved / safe).astype(np.float32)
    q = np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))
    deq = np.where(scale > 0, q * scale, 0).astype(np.float32)
    return np.moveaxis(deq.reshape(np.moveaxis(w, axis, 0).shape), 0, axis)


def write_estimated_params(program: programs.Program, param_file: Path, out_file: Path, quant: str | None,
                           fp16: bool) -> dict:
    """Write `out_file`: the params with Lite's weight rounding applied; return what was changed."""
    data = bytearray(Path(param_file).read_bytes())
    _, layout = programs.walk_params(program, param_file, bytes(data))
    targets = quantised_weights(program)
    changed = 0
    for name, (offset, numel, dtype) in layout.items():
        if dtype != "float32":
            continue
        v = program.var(name)
        dims = tuple(int(d) for d in v.type.lod_tensor.tensor.dims)
        w = np.frombuffer(bytes(data[offset:offset + numel * 4]), dtype="<f4").reshape(dims)
        if quant and name in targets:
            w = fake_quantise(w, targets[name], 8 if quant == "int8" else 16)
        elif fp16 and len(dims) in (2, 4):
            w = w.astype(np.float16).astype(np.float32)
        else:
            continue
        data[offset:offset + numel * 4] = np.ascontiguousarray(w, dtype="<f4").tobytes()
        changed += 1
    Path(out_file).write_bytes(bytes(data))
    return {"tensors_changed": changed, "quant": quant, "fp16": fp16}
