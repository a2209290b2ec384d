"""The config against the model, before any engine runs: a config that does not fit the model is refused naming
both sides (a verdict on mismatched files would be meaningless), and what the config cannot say alone is decided
from the model.

Inputs, by role (PaddleClas names its input `x`, PaddleDetection `image`, converted models anything): one rank-4
image input, first, whose channel count is 3 and whose fixed height and width equal the config's network input;
PaddleDetection's `im_shape` / `scale_factor`, each [N, 2]; nothing else. Outputs, by task: classify, binary,
multilabel and embedding one [N, C] output (C = the number of labels when labels are given; binary C = 2, or
PaddleClas's ThreshOutput multi-class branch for a config file that asks for it; multilabel C = 26 / 19 / 6 for
PersonAttribute / VehicleAttribute / TableAttribute); detectors as below.

The form of a PaddleDetection detector's outputs:
PicoDet's export writes the same infer_cfg.yml (`arch: GFL`) for NMS in the graph and for `export.nms=False`, so
the outputs decide: NMS in the graph gives rows [N, 6] and a box count [N]; `export.nms=False` gives decoded boxes
[1, N, 4] in network-input pixels and scores [1, C, N]; `arch: PicoDet` (export.benchmark, post_process=False)
gives raw heads, one score and one box-distribution tensor per FPN level. The last two are decoded on the host
(reference.picodet): their level count must equal fpn_stride's, their anchors per level ceil(H / s) * ceil(W / s)
of the fixed network input, reg_max (box width / 4 - 1) and the class count the same on every level, the class
count that of label_list, and infer_cfg.yml must give NMS.nms_threshold. An SSD config with such outputs, or a
variable input size, is refused by name.
"""

from __future__ import annotations

from ..errors import BadInput
from .model import DeployConfig, Task

EXTRA_INPUTS = ("im_shape", "scale_factor")
ATTRIBUTE_WIDTH = {"PersonAttribute": 26, "VehicleAttribute": 19, "TableAttribute": 6}

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


def _describe(tensors) -> str:
    return ", ".join(f"{name} {list(shape)}" for name, shape in tensors)


def check_inputs(config: DeployConfig, inputs: list, model: str) -> None:
    """inputs: [(name, shape)] in the model's order."""
    images = [(i, name, list(shape)) for i, (name, shape) in enumerate(inputs) if len(shape) == 4]
    if len(images) != 1 or images[0][0] != 0:
        raise BadInput(f"{model}: inputs {_describe(inputs)}: lite-tools needs one NCHW image input, first")
    _, name, shape = images[0]
    if shape[1] not in (3, -1):
        raise BadInput(f"{model}: image input {name} has {shape[1]} channels; {config.source} makes 3")
    for extra, extra_shape in inputs[1:]:
        if extra not in EXTRA_INPUTS:
            raise BadInput(f"{model}: input {extra!r} {list(extra_shape)} is neither the image nor one of "
                           f"{', '.join(EXTRA_INPUTS)}: lite-tools does not know how to fill it")
        if len(extra_shape) != 2 or extra_shape[1] not in (2, -1):
            raise BadInput(f"{model}: input {extra} has shape {list(extra_shape)}, PaddleDetection's is [N, 2]")
    fixed = shape[2] > 0 and shape[3] > 0
    size = config.input_size
    if fixed and size is None:
        raise BadInput(f"{config.source}: gives a variable input size (keep_ratio or no crop) but {model} takes a "
                       f"fixed {shape[3]}x{shape[2]}")
    if fixed and tuple(size) != (shape[3], shape[2]):
        raise BadInput(f"{config.source}: gives a {size[0]}x{size[1]} input but {model} takes "
                       f"{shape[3]}x{shape[2]}")


def _check_classes(config: DeployConfig, outputs: list, model: str) -> None:
    shapes = [list(shape) for _, shape in outputs]
    if len(shapes) != 1 or len(shapes[0]) != 2:
        raise BadInput(f"{config.source} is a {config.task.value} config ({config.postprocess or 'preset'}) but "
                       f"{model} has outputs {_describe(outputs)}, not one [N, C] score tensor")
    width = shapes[0][1]
    if width <= 0:
        return
    what = f"{model} outputs {width} values per image"
    if config.task == Task.BINARY and width != 2:
        if config.source.startswith("preset "):
            raise BadInput(f"{config.source} is for a 2-class PULC model but {what}")
        if config.postprocess != "ThreshOutput":
            raise BadInput(f"{config.source}: a binary task on {width} classes: only PaddleClas's ThreshOutput has "
                           f"a multi-class branch, and the config names {config.postprocess or 'none'}")
        if not 0 <= config.default_label_index < width:
            raise BadInput(f"{config.source}: default_label_index {config.default_label_index} is not one of the "
                           f"{width} classes of {model}")
        if config.multiclass_labels and len(config.multiclass_labels) != width:
            raise BadInput(f"{config.source}: ThreshOutput's class map names {len(config.multiclass_labels)} "
                           f"classes but {what}")
    elif config.task == Task.MULTILABEL and config.postprocess in ATTRIBUTE_WIDTH:
        if width != ATTRIBUTE_WIDTH[config.postprocess]:
            raise BadInput(f"{config.source}: {config.postprocess} reads {ATTRIBUTE_WIDTH[config.postprocess]} "
                           f"attributes but {what}")
    elif config.task in (Task.CLASSIFY, Task.MULTILABEL) and config.labels and len(config.labels) != width:
        raise BadInput(f"{config.source} names {len(config.labels)} classes but {what}")


def settle(config: DeployConfig, outputs: list, model: str, inputs: list | None = None) -> DeployConfig:
    """The config checked against the model's `outputs` (and `inputs` when given), both [(name, shape)], with
    `det_form` decided; a detector form lite-tools cannot run yet, or anything that contradicts the config, is
    refused naming both sides."""
    settled = _settle_outputs(config, outputs, model)  # the task first: the most telling mismatch
    if inputs is not None:
        check_inputs(settled, inputs, model)
    return settled


def _settle_outputs(config: DeployConfig, outputs: list, model: str) -> DeployConfig:
    if config.task not in (Task.SSD, Task.PICODET):
        _check_classes(config, outputs, model)
        return config
    shapes = [list(shape) for _, shape in outputs]
    found = output_form(shapes)
    described = _describe(outputs)
    if not found:
        raise BadInput(f"{model}: outputs {described} are not a PaddleDetection detector's ({config.source} "
                       f"says {config.task.value})")
    if config.det_form and config.det_form != found:
        raise BadInput(f"{config.source} describes {FORM_NAMES[config.det_form]} but {model} has "
                       f"{FORM_NAMES[found]}: outputs {described}")
    if found != "nms" and config.task != Task.PICODET:
        raise BadInput(f"{model}: {FORM_NAMES[found]} with {config.source} ({config.task.value}): only PicoDet's "
                       "raw or decoded outputs are decoded on the host; export this detector with NMS in the graph")
    if found != "nms":
        _check_picodet(config, outputs, found, model)
    return config.replace(det_form=found)


def _cells(size: tuple, strides) -> list:
    """Anchors per FPN level for a (width, height) input: ceil(H / s) * ceil(W / s), as PicoDetPostProcess."""
    return [-(-size[1] // s) * -(-size[0] // s) for s in strides]


def _check_picodet(config: DeployConfig, outputs: list, form: str, model: str) -> None:
    """Raw heads ([scores x L, boxes x L] by index) or decoded boxes + scores, against fpn_stride, the input size
    and label_list: what reference.picodet needs to decode them, checked before any engine runs."""
    from ..reference.picodet import host_nms

    host_nms(config)  # fpn_stride and NMS.nms_threshold are there
    described = _describe(outputs)
    if config.box_format != "pixels":
        raise BadInput(f"{config.source}: box_format {config.box_format} with PicoDet {FORM_NAMES[form]}: the "
                       "host decodes those to source pixels (box_format pixels)")
    size = config.input_size
    if size is None:
        raise BadInput(f"{config.source}: PicoDet {FORM_NAMES[form]} need a fixed network input (Resize with "
                       "keep_ratio false) to place the anchors of each level")
    strides = list(config.fpn_stride)
    cells = _cells(size, strides)
    shapes = [list(shape) for _, shape in outputs]
    labels = len(config.labels)

    def known(v, want) -> bool:
        return v <= 0 or v == want

    if form == "decoded":
        boxes, scores = shapes
        if not (known(boxes[1], sum(cells)) and known(scores[2], sum(cells)) and known(boxes[0], 1)):
            raise BadInput(f"{model}: decoded outputs {described} do not hold the {sum(cells)} anchors of "
                           f"fpn_stride {strides} on a {size[0]}x{size[1]} input ({config.source})")
        if labels and not known(scores[1], labels):
            raise BadInput(f"{config.source} names {labels} classes but {model} scores {scores[1]} "
                           f"(outputs {described})")
        return
    levels = len(shapes) // 2
    if levels != len(strides):
        raise BadInput(f"{config.source}: fpn_stride {strides} has {len(strides)} levels but {model} has "
                       f"{levels} (outputs {described}, [scores x L, boxes x L])")
    score_widths = {s[-1] for s in shapes[:levels] if s[-1] > 0}
    box_widths = {s[-1] for s in shapes[levels:] if s[-1] > 0}
    if len(box_widths) > 1:
        raise BadInput(f"{model}: box distributions of different widths {sorted(box_widths)} across levels (one "
                       f"reg_max for all): outputs {described}")
    if len(score_widths) > 1:
        raise BadInput(f"{model}: score outputs of different class counts {sorted(score_widths)} across levels: "
                       f"outputs {described}")
    if labels and score_widths and score_widths != {labels}:
        raise BadInput(f"{config.source} names {labels} classes but {model} scores {score_widths.pop()} "
                       f"(outputs {described})")
    for l, (s, n) in enumerate(zip(strides, cells)):
        for shape in (shapes[l], shapes[levels + l]):
            if not (known(shape[0], 1) and known(shape[1], n)):
                raise BadInput(f"{model}: outputs {described}: level {l} (stride {s}) of a {size[0]}x{size[1]} "
                               f"input has {n} anchors, output shape {shape} does not")
