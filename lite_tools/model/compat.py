"""Compatibility passes that make newer Paddle exports readable by Paddle Lite 2.13's optimizer.

Paddle >= 2.5 stopped emitting the `XShape` output of the shape ops below; Lite 2.13's x86 passes dereference it
and the optimizer dies with SIGSEGV. Restoring a dummy `XShape` variable (dims [0, *X.dims], as older Paddle
declared it) changes nothing numerically: XShape only ever fed the backward pass.
Passes edit the parsed program in memory; callers write the result to a staged copy, never to the user's file.
"""

from __future__ import annotations

from .program import LOD_TENSOR, Program

XSHAPE_OPS = ("flatten_contiguous_range", "reshape2", "squeeze2", "unsqueeze2", "transpose2")


def restore_xshape(program: Program) -> list:
    """Add the missing XShape outputs; return one record per patched op, e.g. {"op": ..., "output": ...}."""
    patched = []
    for block in program.desc.blocks:
        declared = {v.name for v in block.vars}
        for op in block.ops:
            if op.type not in XSHAPE_OPS:
                continue
            if any(o.parameter == "XShape" and len(o.arguments) > 0 for o in op.outputs):
                continue
            x_name = next(i.arguments[0] for i in op.inputs if i.parameter == "X")
            x_var = program.var(x_name)
            name = f"{x_name}.xshape_restored"
            suffix = 0
            while name in declared:
                suffix += 1
                name = f"{x_name}.xshape_restored_{suffix}"
            var = block.vars.add()
            var.name = name
            var.type.type = LOD_TENSOR
            tensor = var.type.lod_tensor.tensor
            tensor.data_type = x_var.type.lod_tensor.tensor.data_type if x_var else 5
            tensor.dims.extend([0] + (list(x_var.type.lod_tensor.tensor.dims) if x_var else []))
            var.persistable = False
            declared.add(name)
            slot = next((o for o in op.outputs if o.parameter == "XShape"), None)
            if slot is None:
                slot = op.outputs.add()
                slot.parameter = "XShape"
            slot.arguments.append(name)
            patched.append({"op": op.type, "output": next(o.arguments[0] for o in op.outputs
                                                          if o.parameter == "Out")})
    return patched


PASSES = {"restore_xshape": restore_xshape}


def apply_all(program: Program) -> list:
    """Run every pass; return [{"pass": name, "op": ..., "output": ...}, ...] for the manifest."""
    applied = []
    for name, fn in PASSES.items():
        applied.extend({"pass": name, **record} for record in fn(program))
    return applied
