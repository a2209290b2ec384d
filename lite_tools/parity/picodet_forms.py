"""The host decoder against the graph's own NMS: one PicoDet's weights exported both ways (NMS in the graph, and
raw heads), run in Paddle Inference on the same images; the raw heads are decoded by reference.picodet with the
values the graph's multiclass_nms3 op carries (its score_threshold, nms_threshold, nms_top_k, keep_top_k, read
from the NMS export's program, not assumed) and without clipping (the graph does not clip), and the boxes at or
above draw_threshold must match the graph's one to one (same class, IoU >= 0.95).

The two NMS are not the same algorithm (multiclass_nms3: top nms_top_k per class over all anchors, keep_top_k
over all classes; PicoDetPostProcess: top nms_top_k anchors per level, the best 200 per class, keep_top_k per
class), so a difference is possible; each one is listed with its likely cause (a box clipped by the image, a
neighbour kept instead by NMS order, a score on the other side of the threshold), never dropped. Near-ties reorder
legitimately: `score_margin` says how far every shown box is from the next candidate of its class and from the
threshold, and agreement means something only when it is clearly positive.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import DeployConfig
from ..engines import PaddleInferenceEngine
from ..errors import BadInput
from ..model import files, program as programs
from ..reference import model_inputs, picodet, preprocess
from ..reference.postprocess import Box, ssd_boxes
from .matching import IOU_MIN, iou

NMS_OP = "multiclass_nms3"
_ATTR_VALUE = {0: "i", 1: "f", 2: "s", 6: "b", 9: "l", 15: "float64"}


def op_attrs(op) -> dict:
    """An OpDesc's scalar attributes by name (float attributes are float32 in the program)."""
    return {a.name: getattr(a, _ATTR_VALUE[a.type]) for a in op.attrs if a.type in _ATTR_VALUE}


def graph_nms(model_dir) -> dict:
    """The multiclass_nms3 attributes of an export with NMS in the graph."""
    mf = files.locate(model_dir)
    ops = [op for op in programs.load_program(mf.model_file).block.ops if op.type == NMS_OP]
    if len(ops) != 1:
        raise BadInput(f"{mf.model_file}: has {len(ops)} {NMS_OP} ops; the cross-check needs the export with NMS "
                       "in the graph (one op)")
    return op_attrs(ops[0])


def host_params(nms: dict, strides) -> picodet.HostNms:
    """The host decoder set to what the graph's NMS does: its thresholds and limits, no clipping."""
    return picodet.HostNms(strides=tuple(strides), score_threshold=float(nms["score_threshold"]),
                           nms_threshold=float(nms["nms_threshold"]), nms_top_k=int(nms["nms_top_k"]),
                           keep_top_k=int(nms["keep_top_k"]), clip=False)


def score_margin(boxes: np.ndarray, scores: np.ndarray, kept: np.ndarray, threshold: float,
                 nms_threshold: float) -> float:
    """How far the host's result is from a reordering: the smallest of (a) |score - threshold| over the boxes its
    NMS kept (one could cross the draw threshold) and (b) for each kept box at or above the threshold, its score
    minus that of the best lower candidate of its class overlapping it by IoU > nms_threshold (the neighbour that
    would be kept instead if the two swapped). boxes/scores: the candidates (network pixels); kept: hard_nms rows."""
    gaps = [abs(float(r[1]) - threshold) for r in kept]
    for r in kept:
        if r[1] < threshold:
            continue
        column = scores[:, int(r[0])].astype(np.float64)
        lower = column < r[1]
        overlapping = picodet.iou_with(boxes[lower], r[2:]) > nms_threshold
        if overlapping.any():
            gaps.append(float(r[1]) - float(column[lower][overlapping].max()))
    return min(gaps) if gaps else float("inf")


@dataclasses.dataclass(frozen=True)
class Difference:
    side: str  # "graph only" or "host only"
    box: Box
    cause: str  # clipping / nms order / threshold / unexplained


@dataclasses.dataclass(frozen=True)
class ImageCrossCheck:
    image: str
    graph: tuple  # Boxes at or above draw_threshold, NMS in the graph
    host: tuple  # the same from the raw heads through reference.picodet
    matched: int
    worst_iou: float
    differences: tuple
    margin: float


@dataclasses.dataclass(frozen=True)
class CrossCheck:
    nms: dict  # the graph's multiclass_nms3 attributes used on the host
    draw_threshold: float
    images: tuple

    @property
    def ok(self) -> bool:
        return all(not i.differences for i in self.images)

    @property
    def margin(self) -> float:
        return min((i.margin for i in self.images), default=float("inf"))

    def to_json(self) -> dict:
        return {"ok": self.ok, "margin": self.margin, **dataclasses.asdict(self)}


def _cause(box: Box, other_all: list, image_wh, nms_threshold: float, threshold: float,
           candidates=None) -> str:
    """Why `box` has no counterpart. other_all: the other side's boxes at any score; candidates: for a graph box,
    the host's pre-NMS candidates of its class as Boxes (did the host have it and suppress it?)."""
    w, h = image_wh
    same = [o for o in other_all if o.class_id == box.class_id]
    twin = [o for o in same if iou(box, o) >= IOU_MIN]
    if twin and all(o.score < threshold for o in twin):
        return f"threshold: the other side scores it {twin[0].score:.6f}, below {threshold}"
    if any(iou(box, o) > nms_threshold for o in same):
        return "nms order: an overlapping box of its class was kept instead"
    if candidates is not None:
        if any(iou(box, o) >= IOU_MIN for o in candidates):
            return "nms order: the host had it as a candidate and suppressed it"
        return "candidates: not among the host's per-level top-k / best 200 of its class"
    if min(box.x0, box.y0) <= 0.0 or box.x1 >= w or box.y1 >= h:
        return "clipping: the box touches the image border"
    return "unexplained"


def _candidates(boxes: np.ndarray, scores: np.ndarray, class_id: int, params, input_hw, source_wh) -> list:
    """The host's pre-NMS candidates of one class (score above the NMS threshold), in source pixels."""
    keep = scores[:, class_id] > np.float32(params.score_threshold)
    rows = np.concatenate([np.full((int(keep.sum()), 1), class_id), scores[keep, class_id][:, None], boxes[keep]], 1)
    return [Box(class_id, float(r[1]), *map(float, r[2:]), "")
            for r in picodet.finish(rows.reshape(-1, 6), input_hw, source_wh, clip=False)]


def cross_check(nms_model, raw_model, config: DeployConfig, images: list, host_changes=None) -> CrossCheck:
    """images: [(name, HxWx3 uint8 RGB)]; config: the raw export's (its fpn_stride and draw_threshold).
    host_changes: HostNms fields to change on the host side (a test seam: a wrong value must show)."""
    nms = graph_nms(nms_model)
    params = dataclasses.replace(host_params(nms, config.fpn_stride), **(host_changes or {}))
    engines = {}
    for side, model in (("graph", nms_model), ("host", raw_model)):
        mf = files.locate(model)
        engines[side] = PaddleInferenceEngine(mf.model_file, mf.param_file)
    pixels = config.replace(box_format="pixels", det_form="")
    results = []
    for name, rgb in images:
        pre = preprocess(rgb, config)
        _, _, h, w = pre.tensor.shape
        graph_out = engines["graph"].run(model_inputs(pre, engines["graph"].input_names))
        raw_out = engines["host"].run(model_inputs(pre, engines["host"].input_names))
        boxes, scores = picodet.decode_raw(raw_out, (h, w), params, len(config.labels) or None)
        kept = picodet.hard_nms(boxes, scores, params)
        host_rows = picodet.finish(kept, (h, w), pre.source_size, clip=False)
        everything = pixels.replace(score_threshold=0.0)
        graph_all = ssd_boxes(graph_out[0], pre, everything)
        host_all = ssd_boxes(host_rows, pre, everything)
        threshold = config.score_threshold
        graph = [b for b in graph_all if b.score >= threshold]
        host = [b for b in host_all if b.score >= threshold]
        pairs, used = [], set()
        for g in sorted(graph, key=lambda b: -b.score):
            options = [(iou(g, o), j) for j, o in enumerate(host) if j not in used and o.class_id == g.class_id]
            best = max(options, default=(0.0, -1))
            if best[0] >= IOU_MIN:
                used.add(best[1])
                pairs.append((g, host[best[1]], best[0]))
        matched_graph = {id(p[0]) for p in pairs}
        differences = [Difference("graph only", g, _cause(g, host_all, pre.source_size, params.nms_threshold,
                                                          threshold, _candidates(boxes, scores, g.class_id, params,
                                                                                 (h, w), pre.source_size)))
                       for g in graph if id(g) not in matched_graph]
        differences += [Difference("host only", o, _cause(o, graph_all, pre.source_size, params.nms_threshold,
                                                          threshold))
                        for j, o in enumerate(host) if j not in used]
        results.append(ImageCrossCheck(name, tuple(graph), tuple(host), len(pairs),
                                       min((p[2] for p in pairs), default=1.0), tuple(differences),
                                       score_margin(boxes, scores, kept, threshold, params.nms_threshold)))
    return CrossCheck(nms, config.score_threshold, tuple(results))
