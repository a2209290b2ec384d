"""What the config cannot say alone, decided from the model: the form of a PaddleDetection detector's outputs.

PicoDet's export writes the same infer_cfg.yml (`arch: GFL`) for NMS in the graph and for `export.nms=False`, so
the outputs decide: NMS in the graph gives rows [N, 6] and a box count [N]; `export.nms=False` gives decoded boxes
[1, N, 4] in network-input pixels and scores [1, C, N]; `arch: PicoDet` (export.benchmark, post_process=False)
gives raw heads, one score and one box-distribution tensor per FPN level. Only NMS in the graph is run today;
the other two are refused by name.
"""

from __future__ import annotations

from ..errors import BadInput
from .model import DeployConfig, Task

FORM_NAMES = {"nms": "NMS in the graph ([N, 6] rows + box count)",
              "decoded": "decoded pre-NMS boxes and scores (export.nms=False)",
              "raw": "raw PicoDet heads (export.benchmark or post_process=False)"}


def output_form(shapes: list) -> str:
    """'nms', 'decoded', 'raw' or '' from the output shapes (lists of ints, -1 for unknown)."""
    if len(shapes) == 2 and len(shapes[0]) == 2 and shapes[0][-1] == 6 and len(shapes[1]) == 1:
        return "nms"
    if len(shapes) == 2 and all(len(s) == 3 for s in shapes) and shapes[0][-1] == 4:
        return "decoded"
    if len(shapes) >= 4 and len(shapes) % 2 == 0 and all(len(s) == 3 for s in shapes):
        levels = len(shapes) // 2
        if all(s[-1] > 0 and s[-1] % 4 == 0 for s in shapes[levels:]):
            return "raw"
    return ""


def settle(config: DeployConfig, outputs: list, model: str) -> DeployConfig:
    """The config with `det_form` decided from `outputs` ([(name, shape)]); a form lite-tools cannot run yet, or
    one that contradicts the config, is refused naming both sides."""
    if config.task not in (Task.SSD, Task.PICODET):
        return config
    shapes = [list(shape) for _, shape in outputs]
    found = output_form(shapes)
    described = ", ".join(f"{name} {list(shape)}" for name, shape in outputs)
    if not found:
        raise BadInput(f"{model}: outputs {described} are not a PaddleDetection detector's ({config.source} "
                       f"says {config.task.value})")
    if config.det_form and config.det_form != found:
        raise BadInput(f"{config.source} describes {FORM_NAMES[config.det_form]} but {model} has "
                       f"{FORM_NAMES[found]}: outputs {described}")
    if found != "nms":
        raise BadInput(f"{model}: {FORM_NAMES[found]} cannot be decoded by lite-tools yet; export it with NMS in "
                       "the graph (PaddleDetection's default export)")
    return config.replace(det_form=found)
