"""Model outputs -> what the app shows, as the deploy config says (the Java postprocessors do the same):

- classify: scores are used as they are when they already look like probabilities (all in [0, 1], sum 1 within
  1e-3, as PaddleClas exports append a softmax); otherwise a softmax is applied (float64, max subtracted).
  Top-k by score descending, ties by lower class id first.
- binary (PULC ThreshOutput): s = p[1]; s >= threshold -> class 1 with score s, else class 0 with score 1 - s.
- embedding: the feature vector, L2-normalised (what a vector search compares).
- ssd: rows (label, score, x0, y0, x1, y1). box_format "normalized": relative to the network input, which is the
  whole source image stretched, so x is scaled by the source width and y by the source height; "pixels": already
  in source pixels (PaddleDetection exports). Then clipped to [0, w] and [0, h]. Rows
  with label < 0 (an empty NMS result arrives as one row [-1]) or score < score_threshold are dropped, and so
  are boxes with no area left after clipping (they lay wholly outside the image: nothing to draw).
- picodet: NMS in the graph gives the same rows as ssd (source pixels); raw heads and decoded pre-NMS boxes are
  decoded and NMS'd on the host first, as PaddleDetection's PicoDetPostProcess (reference/picodet.py), then the same.
- binary with C != 2 (ThreshOutput's multi-class branch): top-1 = np.argsort(probs)[::-1][0] on the model's
  float32 probabilities (numpy's default sort: for C <= 16 it is a stable insertion sort, so a tie goes to the
  LAST maximal index; above 16 its introsort decides, not a simple rule); the class is top-1 if its
  probability > threshold (strict), else default_label_index, with that class's probability as the score and
  multiclass_labels[id] as the label ("" without a class map, as PaddleClas).
- multilabel: sigmoid scores (PaddleClas's export appends the sigmoid) -> one `Attributes`, exactly what
  PaddleClas 2.6's deploy/python/postprocess.py computes for config.postprocess, quirks included. The scores are
  the model's float32 values; two comparison precisions occur, as upstream (numpy 1.x):
  * MultiLabelThreshOutput compares the float32 array with `>=` threshold, so in float32 (the threshold is
    rounded to float32 first): a score equal to float32(threshold) is chosen. output[i] = score >= threshold;
    decisions are the chosen labels (the id as text without labels); text is upstream's label_names (empty
    without labels).
  * The attribute post-processors take `.tolist()` (the float32 values as exact float64) and compare in float64
    against the threshold as written: float32(0.3) = 0.30000001 > 0.3, float32(0.7) = 0.69999999 < 0.7.
  * PersonAttribute (26 outputs), all comparisons strict `>`: Male/Female (22 > threshold), age, direction and
    bag by argmax over 19:22, 23:26 and 15:18 (first maximum wins a tie), "Glasses: True|False" (1 >
    glasses_threshold), "Hat: ..." (0 > threshold), "HoldObjectsInFront: ..." (18 > hold_threshold), the bag
    only if its score > threshold else "No bag", "Upper: LongSleeve" if 3 > 2 else ShortSleeve (a tie is
    short), then each of 4:8 above threshold; "Lower: " followed by " Name" for each of 8:14 above threshold
    (hence two spaces), falling back to the argmax of 8:14 when none is; Boots / No boots (14). Its output
    vector compares against a hard-coded 0.5 everywhere except index 1 (glasses_threshold) and 18
    (hold_threshold): `threshold` does not enter it.
  * VehicleAttribute (19 outputs: 10 colours, 9 types): colour and type by argmax (first maximum), kept if
    `>=` their threshold; text is one string such as "Color: (red, prob: 0.800000011920929), Type unknown",
    with Python's str of the float64 value; decisions are the same words without probabilities ("Color: red",
    "Type unknown"). Its output vector uses `>` (a score equal to the threshold is 0 there but kept in words).
  * TableAttribute (6 outputs), strict `>`: source, number, colour, clarity against their own thresholds, but
    obstruction and angle against number_threshold in the words; the output vector uses each one's own.
  For the three attribute post-processors decisions are their words (they carry no float values) and text the
  same words; class_ids is empty.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import DeployConfig, Task
from ..errors import BadInput
from .preprocess import Preprocessed


@dataclasses.dataclass(frozen=True)
class ClassScore:
    class_id: int
    score: float
    label: str


@dataclasses.dataclass(frozen=True)
class Attributes:
    """A multilabel result, as PaddleClas's post-processor named by config.postprocess computes it."""
    decisions: tuple  # the post-processor's words without the float values in them: what parity compares
    text: tuple  # its strings exactly as PaddleClas returns them (VehicleAttribute's carry the probabilities)
    output: tuple  # the 0/1 vector PaddleClas returns ("output"); MultiLabelThreshOutput: score >= threshold
    class_ids: tuple  # MultiLabelThreshOutput: ids with score >= threshold; () for the attribute post-processors
    scores: tuple  # the raw sigmoid scores, float


@dataclasses.dataclass(frozen=True)
class Embedding:
    vector: tuple  # L2-normalised


@dataclasses.dataclass(frozen=True)
class Box:
    class_id: int
    score: float
    x0: float
    y0: float
    x1: float
    y1: float
    label: str


def label_of(config: DeployConfig, class_id: int) -> str:
    return config.labels[class_id] if 0 <= class_id < len(config.labels) else f"class {class_id}"


def _are_probabilities(s: np.ndarray) -> bool:
    s = np.asarray(s, dtype=np.float64)
    return bool(s.min() >= 0.0 and s.max() <= 1.0 and abs(s.sum() - 1.0) <= 1e-3)


def as_probabilities(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if _are_probabilities(s):
        return s
    e = np.exp(s - s.max())
    return e / e.sum()


def classify(scores: np.ndarray, config: DeployConfig) -> list:
    p = as_probabilities(scores)
    order = np.argsort(-p, kind="stable")[: config.topk]
    return [ClassScore(int(i), float(p[i]), label_of(config, int(i))) for i in order]


def binary(scores: np.ndarray, config: DeployConfig) -> list:
    raw = np.asarray(scores).reshape(-1)
    if raw.size != 2:
        return [_thresh_multiclass(raw, config)]
    p = as_probabilities(raw)
    s = float(p[1])
    cid, score = (1, s) if s >= config.threshold else (0, 1.0 - s)
    return [ClassScore(cid, score, label_of(config, cid))]


def _thresh_multiclass(raw: np.ndarray, config: DeployConfig) -> ClassScore:
    """ThreshOutput with C != 2. The argsort runs on the model's own (float32) array, as upstream's does, so
    that numpy orders ties the same way."""
    probs = raw if _are_probabilities(raw) else as_probabilities(raw)
    top1 = int(np.argsort(probs)[::-1][0])
    # numpy 1.x compares a float32 scalar with a Python float in float64: float(...) is the same comparison.
    cid = top1 if float(probs[top1]) > config.threshold else config.default_label_index
    if not 0 <= cid < probs.size:
        raise BadInput(f"{config.source}: default_label_index {cid} is not a class of this {probs.size}-class "
                       "model")
    names = config.multiclass_labels
    return ClassScore(cid, float(probs[cid]), names[cid] if cid < len(names) else "")


# PersonAttribute's groups (PaddleClas's pedestrian attribute layout, 26 outputs).
PERSON_AGES = ("AgeLess18", "Age18-60", "AgeOver60")  # 19:22
PERSON_DIRECTIONS = ("Front", "Side", "Back")  # 23:26
PERSON_BAGS = ("HandBag", "ShoulderBag", "Backpack")  # 15:18
PERSON_UPPER = ("UpperStride", "UpperLogo", "UpperPlaid", "UpperSplice")  # 4:8
PERSON_LOWER = ("LowerStripe", "LowerPattern", "LongCoat", "Trousers", "Shorts", "Skirt&Dress")  # 8:14
VEHICLE_COLORS = ("yellow", "orange", "green", "gray", "red", "blue", "white", "golden", "brown", "black")
VEHICLE_TYPES = ("sedan", "suv", "van", "hatchback", "mpv", "pickup", "bus", "truck", "estate")
TABLE_NAMES = ("source", "number", "color", "clarity", "obstruction", "angle")
TABLE_WORDS = (("Scanned", "Photo"), ("Little", "Numerous"), ("Black-and-White", "Multicolor"),
               ("Clear", "Blurry"), ("Without-Obstacles", "With-Obstacles"), ("Horizontal", "Tilted"))
# Words: obstruction and angle are compared against number_threshold (upstream's slip), the vector is not.
TABLE_WORD_THRESHOLD = ("source", "number", "color", "clarity", "number", "number")
MULTILABEL_WIDTH = {"PersonAttribute": 26, "VehicleAttribute": 19, "TableAttribute": 6}


def _first_max(values) -> int:
    return int(np.argmax(np.asarray(values, dtype=np.float64)))  # numpy's argmax: the first maximum


def _person_attribute(v: list, config: DeployConfig) -> tuple:
    t = config.param("threshold", 0.5)
    glasses_t, hold_t = config.param("glasses_threshold", 0.3), config.param("hold_threshold", 0.6)
    bag = 15 + _first_max(v[15:18])
    upper = "".join(f" {name}" for name, x in zip(PERSON_UPPER, v[4:8]) if x > t)
    lower = [name for name, x in zip(PERSON_LOWER, v[8:14]) if x > t] or [PERSON_LOWER[_first_max(v[8:14])]]
    words = ("Female" if v[22] > t else "Male",
             PERSON_AGES[_first_max(v[19:22])],
             PERSON_DIRECTIONS[_first_max(v[23:26])],
             f"Glasses: {v[1] > glasses_t}",
             f"Hat: {v[0] > t}",
             f"HoldObjectsInFront: {v[18] > hold_t}",
             PERSON_BAGS[bag - 15] if v[bag] > t else "No bag",
             "Upper: " + ("LongSleeve" if v[3] > v[2] else "ShortSleeve") + upper,
             "Lower: " + "".join(f" {name}" for name in lower),
             "Boots" if v[14] > t else "No boots")
    limits = [0.5] * len(v)
    limits[1], limits[18] = glasses_t, hold_t
    return words, words, tuple(int(x > lim) for x, lim in zip(v, limits))


def _vehicle_attribute(v: list, config: DeployConfig) -> tuple:
    color_t, type_t = config.param("color_threshold", 0.5), config.param("type_threshold", 0.5)
    words, decisions = [], []
    for what, names, start, stop, t in (("Color", VEHICLE_COLORS, 0, 10, color_t),
                                        ("Type", VEHICLE_TYPES, 10, 19, type_t)):
        i = start + _first_max(v[start:stop])
        if v[i] >= t:
            words.append(f"{what}: ({names[i - start]}, prob: {v[i]})")
            decisions.append(f"{what}: {names[i - start]}")
        else:
            words.append(f"{what} unknown")
            decisions.append(f"{what} unknown")
    limits = [color_t] * 10 + [type_t] * 9
    return tuple(decisions), (", ".join(words),), tuple(int(x > lim) for x, lim in zip(v, limits))


def _table_attribute(v: list, config: DeployConfig) -> tuple:
    t = {name: config.param(f"{name}_threshold", 0.5) for name in TABLE_NAMES}
    words = tuple(yes if x > t[which] else no for x, (yes, no), which in zip(v, TABLE_WORDS, TABLE_WORD_THRESHOLD))
    return words, words, tuple(int(x > t[name]) for x, name in zip(v, TABLE_NAMES))


_ATTRIBUTE_POSTPROCESSORS = {"PersonAttribute": _person_attribute, "VehicleAttribute": _vehicle_attribute,
                             "TableAttribute": _table_attribute}


def multilabel(scores: np.ndarray, config: DeployConfig) -> list:
    """One model output row -> [Attributes] as config.postprocess computes it (see the module docstring)."""
    s = np.asarray(scores, dtype=np.float32).reshape(-1)
    raw = tuple(float(x) for x in s)  # upstream's .tolist(): the float32 values as exact Python floats
    if config.postprocess == "MultiLabelThreshOutput":
        chosen = s >= np.float32(config.threshold)
        ids = tuple(int(i) for i in np.flatnonzero(chosen))
        names = tuple(config.labels[i] if i < len(config.labels) else str(i) for i in ids) if config.labels else ()
        return [Attributes(names or tuple(str(i) for i in ids), names, tuple(int(c) for c in chosen), ids, raw)]
    width = MULTILABEL_WIDTH.get(config.postprocess)
    if width is None:
        raise BadInput(f"{config.source}: unknown multilabel post-processor {config.postprocess!r}")
    if s.size != width:
        raise BadInput(f"{config.source}: {config.postprocess} reads {width} outputs, the model gives {s.size}")
    decisions, text, output = _ATTRIBUTE_POSTPROCESSORS[config.postprocess](list(raw), config)
    return [Attributes(tuple(decisions), tuple(text), output, (), raw)]


def ssd_boxes(rows: np.ndarray, pre: Preprocessed, config: DeployConfig) -> list:
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != 6:
        return []
    w, h = pre.source_size
    sx, sy = (float(w), float(h)) if config.box_format == "normalized" else (1.0, 1.0)
    boxes = []
    for label, score, x0, y0, x1, y1 in rows:
        if label < 0 or score < config.score_threshold:
            continue
        bx0, by0 = min(max(x0 * sx, 0.0), w), min(max(y0 * sy, 0.0), h)
        bx1, by1 = min(max(x1 * sx, 0.0), w), min(max(y1 * sy, 0.0), h)
        if bx1 <= bx0 or by1 <= by0:
            continue
        boxes.append(Box(int(label), float(score), bx0, by0, bx1, by1, label_of(config, int(label))))
    return boxes


def picodet_boxes(outputs: list, pre: Preprocessed, config: DeployConfig) -> list:
    """PicoDet: NMS rows from the graph as ssd_boxes (source pixels); raw heads or decoded boxes through the host
    NMS of reference.picodet first. The form is the settled config's, else read from the output shapes."""
    from ..config.for_model import output_form
    from . import picodet

    form = config.det_form or output_form([list(np.shape(o)) for o in outputs])
    if form == "nms":
        return ssd_boxes(outputs[0], pre, config)
    if form not in ("raw", "decoded"):
        raise BadInput(f"{config.source}: outputs {[list(np.shape(o)) for o in outputs]} are not a PicoDet form")
    _, _, h, w = pre.tensor.shape
    rows = picodet.rows(outputs, form, (h, w), pre.source_size, picodet.host_nms(config), len(config.labels) or None)
    return ssd_boxes(rows, pre, config)


def postprocess(outputs: list, config: DeployConfig, pre: Preprocessed) -> list:
    if config.task == Task.CLASSIFY:
        return classify(outputs[0][0], config)
    if config.task == Task.BINARY:
        return binary(outputs[0][0], config)
    if config.task == Task.MULTILABEL:
        return multilabel(outputs[0][0], config)
    if config.task == Task.SSD:
        return ssd_boxes(outputs[0], pre, config)
    if config.task == Task.PICODET:
        return picodet_boxes(outputs, pre, config)
    if config.task == Task.EMBEDDING:
        v = np.asarray(outputs[0][0], dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(v))
        return [Embedding(tuple((v / norm).tolist()) if norm > 0 else tuple(v.tolist()))]
    raise NotImplementedError(f"postprocessing for task {config.task.value} is not implemented yet")
