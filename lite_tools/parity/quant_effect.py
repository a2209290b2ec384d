"""Report what --quant/--fp16 would change, estimated in Paddle (see quant_estimate for why and how)."""

from __future__ import annotations

from pathlib import Path


from ..config import DeployConfig, Task
from ..engines import PaddleInferenceEngine
from ..reference import model_inputs, postprocess, preprocess
from . import matching, metrics
from .quant_estimate import write_estimated_params


def estimate(mf, program, config: DeployConfig, images: list, quant, fp16, tmp: Path) -> dict:
    params = tmp / "estimated.pdiparams"
    changed = write_estimated_params(program, mf.param_file, params, quant, fp16)
    fp32 = PaddleInferenceEngine(mf.model_file, mf.param_file)
    rounded = PaddleInferenceEngine(mf.model_file, params)
    worst, cos_min, agree = 0.0, 1.0, 0
    for _, rgb in images:
        pre = preprocess(rgb, config)
        inputs = model_inputs(pre, fp32.input_names)
        a, b = fp32.run(inputs), rounded.run(inputs)
        if a[0].shape == b[0].shape:
            worst = max(worst, metrics.max_abs(a[0], b[0]))
            cos_min = min(cos_min, metrics.cosine(a[0], b[0]))
        ra, rb = postprocess(a, config, pre), postprocess(b, config, pre)
        agree += same_task_result(config, ra, rb)
    return {"method": "weights rounded in Paddle as Lite's post_quant_dynamic_pass does (Lite x86 cannot run "
                      "weight-quantised models: NaN on 2.13rc0); activations stay fp32",
            "limits": QUANT_LIMITS,
            **changed, "images": len(images), "max_abs_vs_fp32": worst, "min_cosine_vs_fp32": cos_min,
            "task_agreement": agree / max(len(images), 1),
            "task_agreement_rule": AGREEMENT_RULES.get(config.task, "same top-1 / decision")}


QUANT_LIMITS = ("an estimate of the stored weights only: it assumes Lite dequantises int8/int16 weights to float "
                "before computing (weight-only quantisation), so activations stay fp32 and are not rounded; the ops "
                "the pass covers (conv2d, mul/matmul/fc; depthwise conv2d kept fp32) were read from Lite's pass and "
                ".nb sizes, not from a run on a device; kernel summation order on ARM is not modelled")

AGREEMENT_RULES = {Task.SSD: "boxes match at IoU >= 0.5, score within 0.05",
                   Task.PICODET: "boxes match at IoU >= 0.5, score within 0.05",
                   Task.MULTILABEL: "identical attribute decisions and 0/1 output vector"}


def same_task_result(config: DeployConfig, a: list, b: list) -> bool:
    """Whether the rounded model's result is what the fp32 model shows, per AGREEMENT_RULES."""
    if config.task in (Task.SSD, Task.PICODET):
        return matching.match_boxes(a, b, config.score_threshold, iou_min=0.5, score_tol=0.05).ok
    if config.task == Task.MULTILABEL:
        return a[0].decisions == b[0].decisions and a[0].output == b[0].output
    return a[0].class_id == b[0].class_id
