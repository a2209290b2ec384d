"""Estimate what `--fp16` (Paddle Lite's ARMv8.2 fp16 kernels) will compute, in Paddle on this machine.

x86 Lite has no fp16 kernels, so parity on x86 checks fp32 only. On a phone, every tensor between fp16 kernels is
stored in fp16: 11 significant bits, and |x| > 65504 becomes inf. We model that storage: a staged copy of the
inference program rounds every float32 tensor an op reads (the model inputs and every op output that a later op
or the fetch reads) to the nearest fp16 and stores it as float32 again, with the weights rounded as `quant_estimate.write_estimated_params` does (fp16,
or Lite's weight quantisation for --quant), run by `paddle.static.Executor` on the CPU.

What is NOT modelled, so this is an estimate: fp16 accumulation inside kernels (ARM's fp16 conv/gemm sum in fp16,
we sum in fp32 and round only the result), Lite's fusions (conv+bn+act is one kernel there: one rounding, here one
per op), and ops Lite keeps in fp32 (we round around every op). Against a real ARMv8.2 fp16 runtime
(scripts/bench_fp16.py) it falls short by 3-20x on the zoo's PP-LCNet_x1_0: most of the device's error comes
from what is not modelled. A pass means "no stored tensor overflows, and storage rounding alone changes no task
result", not that the phone agrees; an overflow of a partial sum inside a kernel is not seen. Paddle runs in a
spawned child, so a native crash is one error line.

Underflow is reported as information: per tensor, the fraction of its nonzero fp32 values (the fp32 program's own
tensors) that fp16 stores as a subnormal (|x| < 6.1e-5: fewer significant bits) or as 0 (|x| <= 2^-25, about
3e-8; PicoDet's ~1e-9 background scores), with the smallest nonzero |x|. It does not make --fp16 NOT READY by
itself: where it changes the task result, the task-agreement check already fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import child
from ..config import DeployConfig, Task
from ..errors import ToolFailure
from ..reference import model_inputs, postprocess, preprocess
from . import check, metrics
from .quant_effect import AGREEMENT_RULES, same_task_result
from .quant_estimate import write_estimated_params

FP16_MAX = 65504.0  # the largest finite float16; anything larger in magnitude rounds to inf
# Round to nearest even onto fp16: |x| <= 2^-25 (half the smallest subnormal, 2^-24) becomes 0; 2^-25 < |x| <
# 2^-14 - 2^-25 (the midpoint between the largest subnormal and the smallest normal, 2^-14 = 6.1e-5) a subnormal.
# Both bounds are exact in float32.
FP16_ZERO_MAX = 2.0 ** -25
FP16_SUBNORMAL_BELOW = 2.0 ** -14 - 2.0 ** -25
UNDERFLOW_SHOWN = 0.01  # the report's table lists tensors where at least this fraction of nonzero values underflows
METHOD = ("every float32 tensor an op reads (inputs and op outputs) rounded to the nearest fp16 by ops inserted in "
          "a staged copy of the program, weights rounded to fp16, run in Paddle on the CPU")
NOT_MODELLED = ("fp16 accumulation inside kernels, Lite's kernel fusions (one rounding per fused kernel) and ops "
                "Lite keeps in fp32 are not modelled; on PP-LCNet an ARMv8.2 device differed from fp32 3-20x more "
                "than this estimate (scripts/bench_fp16.py)")
TIMEOUT = 1800  # seconds for the whole estimate; a hung child must not hang the CLI


def stage(program) -> list:
    """Round to fp16 (and store as fp32 again) every float32 tensor the program reads, in place (global block; the
    zoo's programs have no sub-blocks). Returns [(op type, var name, name of the unrounded copy)] in program
    order: the unrounded copies are fetched to find overflows. Outputs nothing reads (XShape, BatchNorm's saved
    statistics) and persistable vars (weights) are left alone."""
    from paddle.framework import core

    fp32, lod_tensor = core.VarDesc.VarType.FP32, core.VarDesc.VarType.LOD_TENSOR
    block = program.global_block()
    read = {n for op in block.ops for n in op.input_arg_names}

    def rounds(name: str) -> bool:
        v = block.var(name)
        return not v.persistable and v.type == lod_tensor and v.dtype == fp32 and name in read

    # The executor wants the feed ops first and together, and feeds by their output names: the inputs' rounded
    # copies go after the last feed op, and the ops reading an input read its copy instead.
    i = next((k for k, op in enumerate(block.ops) if op.type != "feed"), len(block.ops))
    watched = []
    for name in [op.output("Out")[0] for op in block.ops[:i] if rounds(op.output("Out")[0])]:
        rounded = _like(block, block.var(name), f"{name}@rounded", fp32)
        for later in block.ops[i:]:
            later._rename_input(name, rounded.name)
        i += _insert_rounding(block, i, block.var(name), rounded, f"{name}@input")
        watched.append(("input", name, name))
    while i < len(block.ops):
        op, inserted = block.ops[i], 0
        for name in [n for slot in op.output_names for n in op.output(slot)] if op.type != "fetch" else []:
            if rounds(name):
                raw = _like(block, block.var(name), f"{name}@fp32.{i}", fp32)
                op._rename_output(name, raw.name)
                inserted += _insert_rounding(block, i + 1 + inserted, raw, block.var(name), f"{name}@{i}")
                watched.append((op.type, name, raw.name))
        i += 1 + inserted
    return watched


def _insert_rounding(block, at: int, raw, rounded, stem: str) -> int:
    """Insert at `at` the ops of _round_to_fp16; return how many."""
    ops = _round_to_fp16(block, raw, rounded, stem)
    for k, (kind, inputs, out, attrs) in enumerate(ops):
        block._insert_op(at + k, type=kind, inputs=inputs, outputs={"Out": out}, attrs=attrs)
    return len(ops)


def _round_to_fp16(block, raw, rounded, stem: str) -> list:
    """The ops (type, inputs, output, attrs) that store `raw` rounded to the nearest fp16 in `rounded`. Paddle's
    CPU cast to fp16 truncates toward zero (ARM's fcvt rounds to nearest), so the value is first clipped to
    +-65520 (where fp16 rounding turns to inf; keeps inf from becoming inf - inf = NaN below) and rounded to 11
    significant bits in fp32 by Veltkamp's split, hi = c - (c - x) with c = 8193 x, which the truncating cast
    then keeps exactly. Equal to numpy's float16 rounding, inf and NaN included, except for fp16 subnormals
    (|x| < 6.1e-5: truncated, error < 6e-8)."""
    from paddle.framework import core

    fp32 = core.VarDesc.VarType.FP32
    x, c = _like(block, raw, f"{stem}@clip", fp32), _like(block, raw, f"{stem}@c", fp32)
    t, hi = _like(block, raw, f"{stem}@t", fp32), _like(block, raw, f"{stem}@hi", fp32)
    half = _like(block, raw, f"{stem}@fp16", core.VarDesc.VarType.FP16)
    return [("clip", {"X": raw}, x, {"min": -65520.0, "max": 65520.0}),
            ("scale", {"X": x}, c, {"scale": 8193.0, "bias": 0.0, "bias_after_scale": True}),
            ("elementwise_sub", {"X": c, "Y": x}, t, {"axis": -1}),
            ("elementwise_sub", {"X": c, "Y": t}, hi, {"axis": -1}),
            ("cast", {"X": hi}, half, {"in_dtype": fp32, "out_dtype": half.dtype}),
            ("cast", {"X": half}, rounded, {"in_dtype": half.dtype, "out_dtype": fp32})]


def _like(block, v, name: str, dtype):
    return block.create_var(name=name, dtype=dtype, shape=v.shape, type=v.type, lod_level=v.lod_level)


def _load(exe, scope, model_file: str, param_file: str):
    import paddle

    with paddle.static.scope_guard(scope):
        program = paddle.static.deserialize_program(Path(model_file).read_bytes())
        paddle.static.deserialize_persistables(program, Path(param_file).read_bytes(), exe)
    return program


def peak(a: np.ndarray) -> float:
    """max |a|, inf if a holds inf or NaN (a NaN max would hide the overflow)."""
    if a.size == 0:
        return 0.0
    a = np.abs(a.astype(np.float64))
    return float("inf") if not np.isfinite(a).all() else float(a.max())


def underflow(a: np.ndarray) -> tuple | None:
    """(nonzero values, those fp16 stores as subnormals, those it stores as 0, smallest nonzero |x|) of a float32
    tensor, or None when no value underflows."""
    x = np.abs(np.asarray(a, dtype=np.float32)).ravel()
    tiny = x[(x > 0) & (x < np.float32(FP16_SUBNORMAL_BELOW))]
    if tiny.size == 0:
        return None
    zero = int(np.count_nonzero(tiny <= np.float32(FP16_ZERO_MAX)))
    return int(np.count_nonzero(x > 0)), int(tiny.size) - zero, zero, float(tiny.min())


def run_both(model_file: str, param_file: str, rounded_file: str, inputs: list, with_underflow: bool = False) -> list:
    """In this process: [(fp32 outputs, estimated outputs, [(op, var, peak)] of tensors > FP16_MAX)] per input;
    with_underflow: a 4th item, [(op, var, *underflow(t))] of the fp32 program's tensors that underflow, the
    tensors the estimate rounds, in program order."""
    import paddle

    paddle.enable_static()
    exe = paddle.static.Executor(paddle.CPUPlace())
    ref_scope, est_scope = paddle.static.Scope(), paddle.static.Scope()
    reference = _load(exe, ref_scope, model_file, param_file)
    staged = _load(exe, est_scope, model_file, rounded_file)
    watched = stage(staged)
    feeds = reference.desc.get_feed_target_names()
    fetch = reference.desc.get_fetch_target_names()
    results = []
    for arrays in inputs:
        feed = dict(zip(feeds, arrays))
        outputs = [var for op, var, _ in watched if op != "input"] if with_underflow else []
        ref = exe.run(reference, feed=feed, fetch_list=fetch + outputs, scope=ref_scope, return_numpy=False)
        ref = [np.array(t) for t in ref]
        est = exe.run(staged, feed=feed, fetch_list=fetch + [w[2] for w in watched], scope=est_scope,
                      return_numpy=False)
        est = [np.array(t) for t in est]
        over = [(op, var, p) for (op, var, _), t in zip(watched, est[len(fetch):]) if (p := peak(t)) > FP16_MAX]
        if not with_underflow:
            results.append((ref, est[:len(fetch)], over))
            continue
        fp32 = dict(zip(outputs, ref[len(fetch):]))
        fp32.update((name, np.asarray(a)) for name, a in feed.items())
        under = [(op, var, *u) for op, var, _ in watched if (u := underflow(fp32[var])) is not None]
        results.append((ref[:len(fetch)], est[:len(fetch)], over, under))
    return results


def run_isolated(model_file: Path, param_file: Path, rounded_file: Path, inputs: list, tmp: Path,
                 with_underflow: bool = False) -> list:
    """run_both in a spawned child (lite_tools.child: a native abort must not kill us), Paddle's output in a log."""
    try:
        return child.call(run_both, str(model_file), str(param_file), str(rounded_file), inputs, with_underflow,
                          timeout=TIMEOUT, log_file=Path(tmp) / "fp16-estimate.log")
    except child.Died as e:
        raise ToolFailure(f"Paddle crashed ({e}) while estimating fp16 for {model_file}") from None
    except child.Failed as e:
        first = str(e).splitlines()[0][:200]
        raise ToolFailure(f"the fp16 estimate failed in Paddle for {model_file}: {first}") from None


def _output_stats(names, pairs) -> list:
    """Per output: worst max |Δ| and lowest cosine over the images (None where shapes differ, as NMS rows do)."""
    stats = []
    for k, name in enumerate(names):
        same = [(a[k], b[k]) for a, b in pairs if a[k].shape == b[k].shape]
        stats.append({"name": name, "compared": len(same),
                      "max_abs": max((_nan_as_inf(metrics.max_abs(a, b)) for a, b in same), default=None),
                      "min_cosine": _lowest([metrics.cosine(a, b) for a, b in same])})
    return stats


def _nan_as_inf(v: float) -> float:
    return float("inf") if v != v else v  # inf - inf: the outputs are as far apart as can be


def _lowest(values: list):
    """min, but NaN (a cosine of inf outputs) wins: an undefined similarity is not a good one."""
    return float("nan") if any(v != v for v in values) else min(values, default=None)


def _underflow_table(per_image: list) -> list:
    """[(image, [(op, var, nonzero, subnormal, zero, smallest)])] -> one row per tensor, summed over the images:
    op, var, the fractions of nonzero values stored as subnormals / as 0, the smallest nonzero |x|, the images;
    the largest underflowing fraction first."""
    rows = {}
    for image, under in per_image:
        for op, var, nonzero, sub, zero, smallest in under:
            row = rows.setdefault(var, {"op": op, "var": var, "nonzero": 0, "subnormal": 0, "zero": 0,
                                        "min_abs": smallest, "images": []})
            row["nonzero"] += nonzero
            row["subnormal"] += sub
            row["zero"] += zero
            row["min_abs"] = min(row["min_abs"], smallest)
            row["images"].append(image)
    for row in rows.values():
        row["subnormal_fraction"] = row["subnormal"] / row["nonzero"]
        row["zero_fraction"] = row["zero"] / row["nonzero"]
    return sorted(rows.values(), key=lambda r: -(r["subnormal"] + r["zero"]) / r["nonzero"])


def _overflow_table(per_image: list) -> list:
    """[(image, [(op, var, peak)] in program order)] -> one row per overflowing tensor: op, var, worst peak, the
    images, and `first`: whether it was the first overflow of some image (the others may only carry its inf)."""
    rows = {}
    for image, over in per_image:
        for k, (op, var, p) in enumerate(over):
            row = rows.setdefault(var, {"op": op, "var": var, "max_abs": 0.0, "images": [], "first": False})
            row["max_abs"] = max(row["max_abs"], p)
            row["images"].append(image)
            row["first"] = row["first"] or k == 0
    return list(rows.values())


TIE_RULE = ("parity's own task comparison at its tolerance: top-1/top-k up to ties, the decision up to the "
            "threshold's slack, identical attribute decisions, embedding cosine")


def agrees(config: DeployConfig, ref_out: list, est_out: list, pre) -> tuple:
    """(same task result?, why): boxes by quant's rule (IoU >= 0.5, score within 0.05: fp16 moves boxes more than
    fp32 summation order does), everything else as parity judges Lite x86 (check._task_compare)."""
    ref_res, est_res = postprocess(ref_out, config, pre), postprocess(est_out, config, pre)
    if config.task in AGREEMENT_RULES and config.task != Task.MULTILABEL:
        ok = same_task_result(config, ref_res, est_res)
        return ok, ("boxes match" if ok else "boxes differ") + f" ({AGREEMENT_RULES[config.task]})"
    return check._task_compare(config, ref_res, est_res, ref_out, est_out, check.Tolerance())


def estimate(mf, program, config: DeployConfig, images: list, quant, tmp: Path) -> dict:
    """The fp16 estimate on `images` ([(name, rgb)]) against fp32, with `failures` (one line each) that make
    parity fail: an overflowing tensor, or a task result (top-1, decision, boxes) other than fp32's."""
    rounded = Path(tmp) / "fp16-estimate.pdiparams"
    changed = write_estimated_params(program, mf.param_file, rounded, quant, True)
    pres = [preprocess(rgb, config) for _, rgb in images]
    feeds = [t.name for t in program.inputs]
    results = run_isolated(mf.model_file, mf.param_file, rounded,
                           [[np.ascontiguousarray(a) for a in model_inputs(p, feeds)] for p in pres], tmp,
                           with_underflow=True)
    verdicts = [(name, *agrees(config, a, b, pre)) for (name, _), pre, (a, b, _, _) in zip(images, pres, results)]
    differ = [(name, detail) for name, ok, detail in verdicts if not ok]
    outputs = _output_stats([t.name for t in program.outputs], [(a, b) for a, b, _, _ in results])
    overflows = _overflow_table([(name, over) for (name, _), (_, _, over, _) in zip(images, results)])
    underflows = _underflow_table([(name, under) for (name, _), (_, _, _, under) in zip(images, results)])
    later = len(overflows) - sum(o["first"] for o in overflows)
    failures = [f"fp16 estimate: {o['op']} output {o['var']} overflows fp16 (max |x| {o['max_abs']:.3g} > "
                f"{FP16_MAX:g}) on {len(o['images'])} image(s), e.g. {o['images'][0]}"
                + (f"; {later} tensor(s) after it overflow too" if later else "") for o in overflows if o["first"]]
    if differ:
        failures.append(f"fp16 estimate: the task result differs from fp32 on {len(differ)}/{len(images)} "
                        f"image(s), e.g. {differ[0][0]}: {differ[0][1]}")
    finite = [o["max_abs"] for o in outputs if o["max_abs"] is not None]
    cosines = [o["min_cosine"] for o in outputs if o["min_cosine"] is not None]

    return {"method": METHOD, "not_modelled": NOT_MODELLED, "quant": quant, "weights_rounded": changed["tensors_changed"],
            "images": len(images), "outputs": outputs, "max_abs_vs_fp32": max(finite, default=None),
            "min_cosine_vs_fp32": _lowest(cosines),
            "task_agreement": (len(images) - len(differ)) / max(len(images), 1),
            "task_agreement_rule": AGREEMENT_RULES.get(config.task, TIE_RULE),
            "task_differs_on": [{"image": n, "detail": d} for n, d in differ], "overflows": overflows,
            "underflows": underflows, "underflow_shown": UNDERFLOW_SHOWN, "failures": failures}
