"""PicoDet outputs without NMS in the graph -> detection rows, as PaddleDetection's Python deploy computes them
(deploy/python/picodet_postprocess.py `PicoDetPostProcess`, called by infer.py's `DetectorPicoDet`); the Java core
(`com.litetools.core.PicoDetPostprocessor`) repeats every step in the same float64 order.

Two forms (config.for_model decides which from the outputs):
- raw heads (`arch: PicoDet`, export.benchmark / post_process=False): 2L outputs, ordered by index as
  `[scores x L, boxes x L]` (infer.py takes the first half as scores and the second half as box distributions;
  the tensor names change between exports, so only the index and the shape count). Level l has stride
  fpn_stride[l] and ceil(H / s) x ceil(W / s) cells for the H x W network input (upstream's np.arange(H / s)).
  scores[l] is [1, cells, C], already sigmoided in the graph (PicoHeadV2 exports sqrt(sigmoid(cls) *
  sigmoid(align)), legacy PicoHead sigmoid(cls)); boxes[l] is [1, cells, 4 * (reg_max + 1)] of logits, with
  reg_max = shape[-1] / 4 - 1, one distribution per side (left, top, right, bottom) of reg_max + 1 bins.
  Every tensor is checked against that shape.
- decoded pre-NMS (`export.nms=False`, `arch: GFL`): boxes [1, N, 4] (x0, y0, x1, y1 in network-input pixels) and
  scores [1, C, N]. Upstream's deploy has no path for it (infer.py would read the boxes as NMS rows); we split N
  into the same levels (N must equal the cells of all levels) and run the same steps 3 to 6, so both forms of one
  model give the same boxes.

Steps, per image (batch 1):
1. centres: anchor k of level l (row-major, k = row * cols + col) sits at ((col + 0.5) * s, (row + 0.5) * s): the
   deploy code always uses a half-cell offset (the graph's own cell_offset is not in infer_cfg.yml).
2. distances: per side, p = softmax(logits) in float64 (max subtracted, exp, summed bin by bin in order, divided),
   d = sum_k p[k] * k (bin by bin in order), times s. Box = (cx - d_left, cy - d_top, cx + d_right, cy + d_bottom).
   (Upstream's softmax runs in float32 through scipy: differences of ~1e-5 px, far below anything shown.)
3. top nms_top_k (1000) anchors per level by their maximum class score, before any threshold. Upstream's
   np.argsort(...)[::-1] leaves ties to quicksort; we order by score descending, ties to the lower anchor index.
   The candidates of all levels are concatenated in level order, each level in that order.
4. per class c: candidates with score > score_threshold (a float32 comparison, as numpy compares a float32 array
   with a Python float). score_threshold is PicoDetPostProcess's default 0.4: infer.py passes only
   `NMS.nms_threshold` from infer_cfg.yml and keeps that default (the file's NMS.score_threshold, 0.025, is the
   in-graph NMS's). The top 200 of them by score (hard_nms's candidate_size; ties to the earlier candidate), then
   greedy hard NMS: the best remaining box is kept, and boxes with IoU > nms_threshold against it are dropped
   (IoU <= threshold survive), until keep_top_k (100) boxes of the class are kept. IoU is upstream's
   overlap / (area_a + area_b - overlap + 1e-5), widths and heights clipped at 0, in network-input pixels
   before any clipping (IoU is invariant under the per-axis rescale, so this equals NMS in source pixels).
   Rows come out class by class (ascending), each class in the order its boxes were kept.
5. clip x to [0, W] and y to [0, H] of the network input (upstream's warp_boxes clips to im_shape, which after a
   fixed resize is the network input), then round to float32 as warp_boxes returns float32.
6. divide x by scale_factor's x and y by its y, computed on the host as preprocess.model_inputs does
   (float32(W) / float32(source w), ...; the raw export has no scale_factor input), in float64.
The rows (class, score, x0, y0, x1, y1) in source pixels then go through postprocess.ssd_boxes like any
PaddleDetection rows (draw_threshold, clip to the image, empty boxes dropped).

The cross-check against the NMS export (parity.picodet_forms) decodes with the graph's NMS values instead: its
score_threshold, nms_threshold, nms_top_k and keep_top_k and no clipping (step 5 skipped).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..config import DeployConfig
from ..errors import BadInput

# PicoDetPostProcess's own defaults, which infer.py leaves in place (it passes nms_threshold alone).
SCORE_THRESHOLD = 0.4
NMS_TOP_K = 1000
KEEP_TOP_K = 100
CANDIDATES = 200  # hard_nms's candidate_size
CELL_OFFSET = 0.5
IOU_EPS = 1e-5


@dataclasses.dataclass(frozen=True)
class HostNms:
    strides: tuple
    nms_threshold: float
    score_threshold: float = SCORE_THRESHOLD
    nms_top_k: int = NMS_TOP_K
    keep_top_k: int = KEEP_TOP_K
    candidates: int = CANDIDATES
    clip: bool = True


def host_nms(config: DeployConfig) -> HostNms:
    """What DetectorPicoDet uses for this config: fpn_stride and NMS.nms_threshold from infer_cfg.yml, the rest
    PicoDetPostProcess's defaults."""
    nms = dict(config.export_nms)
    if not config.fpn_stride:
        raise BadInput(f"{config.source}: PicoDet outputs without NMS in the graph need fpn_stride (the strides "
                       "of the FPN levels), which PaddleDetection's infer_cfg.yml carries")
    threshold = nms.get("nms_threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise BadInput(f"{config.source}: PicoDet outputs without NMS in the graph need NMS.nms_threshold in [0, 1] "
                       f"(PaddleDetection's infer.py reads it), got {threshold!r}")
    return HostNms(strides=tuple(config.fpn_stride), nms_threshold=float(threshold))


def level_cells(input_hw, strides) -> list:
    """[(stride, rows, cols)] per level: upstream's np.arange(H / s) has ceil(H / s) entries."""
    h, w = input_hw
    return [(s, math.ceil(h / s), math.ceil(w / s)) for s in strides]


def split_raw(outputs: list, input_hw, strides, classes: int | None = None) -> tuple:
    """([scores [cells, C] float32], [logits [cells, 4 * (reg_max + 1)] float32], reg_max) from the raw outputs,
    each checked against the shape its index implies."""
    levels = level_cells(input_hw, strides)
    if len(outputs) != 2 * len(levels):
        raise BadInput(f"PicoDet raw heads: {len(outputs)} outputs, but fpn_stride {list(strides)} needs "
                       f"{2 * len(levels)} ([scores x {len(levels)}, boxes x {len(levels)}])")
    first_boxes = np.asarray(outputs[len(levels)])
    if first_boxes.ndim != 3 or first_boxes.shape[-1] % 4 or first_boxes.shape[-1] < 8:
        raise BadInput(f"PicoDet raw heads: output {len(levels)} has shape {list(first_boxes.shape)}, not "
                       "[1, cells, 4 * (reg_max + 1)] box distributions")
    reg_max = first_boxes.shape[-1] // 4 - 1
    width = classes if classes else np.asarray(outputs[0]).shape[-1]
    scores, boxes = [], []
    for l, (s, rows, cols) in enumerate(levels):
        for index, want, into in ((l, (1, rows * cols, width), scores),
                                  (len(levels) + l, (1, rows * cols, 4 * (reg_max + 1)), boxes)):
            a = np.asarray(outputs[index])
            if a.shape != want:
                kind = "scores" if into is scores else "box distributions"
                raise BadInput(f"PicoDet raw heads: output {index} ({kind} of stride {s}) has shape "
                               f"{list(a.shape)}, expected {list(want)}")
            into.append(a[0].astype(np.float32, copy=False))
    return scores, boxes, reg_max


def distances(logits: np.ndarray, stride: int) -> np.ndarray:
    """[n, 4 * (reg_max + 1)] logits -> [n, 4] distances in pixels (step 2, in float64, bins summed in order)."""
    n, width = logits.shape
    bins = width // 4
    x = logits.astype(np.float64).reshape(n, 4, bins)
    e = np.exp(x - x.max(axis=2, keepdims=True))
    total = np.zeros((n, 4))
    for k in range(bins):
        total = total + e[:, :, k]
    d = np.zeros((n, 4))
    for k in range(bins):
        d = d + (e[:, :, k] / total) * k
    return d * stride


def centres(stride: int, rows: int, cols: int) -> np.ndarray:
    """[rows * cols, 2] (cx, cy), row-major (step 1)."""
    r, c = np.divmod(np.arange(rows * cols), cols)
    return np.stack([(c + CELL_OFFSET) * stride, (r + CELL_OFFSET) * stride], axis=1).astype(np.float64)


def top_per_level(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the top k anchors by maximum class score, score descending, ties to the lower index (step 3)."""
    best = scores.max(axis=1)
    return np.argsort(-best, kind="stable")[:k]


def decode_raw(outputs: list, input_hw, params: HostNms, classes: int | None = None) -> tuple:
    """Steps 1 to 3: (boxes [n, 4] float64 network pixels, scores [n, C] float32) of the candidates."""
    scores, logits, _ = split_raw(outputs, input_hw, params.strides, classes)
    all_boxes, all_scores = [], []
    for (s, rows, cols), sc, lg in zip(level_cells(input_hw, params.strides), scores, logits):
        keep = top_per_level(sc, params.nms_top_k)
        c, d = centres(s, rows, cols)[keep], distances(lg[keep], s)
        all_boxes.append(np.stack([c[:, 0] - d[:, 0], c[:, 1] - d[:, 1], c[:, 0] + d[:, 2], c[:, 1] + d[:, 3]],
                                  axis=1))
        all_scores.append(sc[keep])
    return np.concatenate(all_boxes), np.concatenate(all_scores)


def decode_decoded(outputs: list, input_hw, params: HostNms, classes: int | None = None) -> tuple:
    """The export.nms=False form: (boxes [n, 4] float64, scores [n, C] float32) after step 3 per level."""
    if len(outputs) != 2:
        raise BadInput(f"PicoDet decoded boxes: {len(outputs)} outputs, expected boxes [1, N, 4] and scores "
                       "[1, C, N]")
    boxes, scores = np.asarray(outputs[0]), np.asarray(outputs[1])
    levels = level_cells(input_hw, params.strides)
    n = sum(rows * cols for _, rows, cols in levels)
    width = classes if classes else (scores.shape[1] if scores.ndim == 3 else -1)
    if boxes.shape != (1, n, 4) or scores.shape != (1, width, n):
        raise BadInput(f"PicoDet decoded boxes: outputs {list(boxes.shape)} and {list(scores.shape)}, expected "
                       f"[1, {n}, 4] and [1, {width}, {n}] for fpn_stride {list(params.strides)} on a "
                       f"{input_hw[1]}x{input_hw[0]} input")
    all_boxes, all_scores, start = [], [], 0
    for _, rows, cols in levels:
        b = boxes[0, start:start + rows * cols].astype(np.float64)
        sc = scores[0, :, start:start + rows * cols].T.astype(np.float32)
        keep = top_per_level(sc, params.nms_top_k)
        all_boxes.append(b[keep])
        all_scores.append(sc[keep])
        start += rows * cols
    return np.concatenate(all_boxes), np.concatenate(all_scores)


def iou_with(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Upstream's iou_of(rest, current): overlap / (area_rest + area_current - overlap + 1e-5)."""
    lt = np.maximum(boxes[:, :2], box[:2])
    rb = np.minimum(boxes[:, 2:], box[2:])
    wh = np.clip(rb - lt, 0.0, None)
    overlap = wh[:, 0] * wh[:, 1]
    wh_rest = np.clip(boxes[:, 2:] - boxes[:, :2], 0.0, None)
    wh_box = np.clip(box[2:] - box[:2], 0.0, None)
    return overlap / (wh_rest[:, 0] * wh_rest[:, 1] + wh_box[0] * wh_box[1] - overlap + IOU_EPS)


def hard_nms(boxes: np.ndarray, scores: np.ndarray, params: HostNms) -> np.ndarray:
    """Step 4: rows [k, 6] (class, score, x0, y0, x1, y1) in network-input pixels, float64."""
    threshold = np.float32(params.score_threshold)
    rows = []
    for c in range(scores.shape[1]):
        s = scores[:, c]
        idx = np.flatnonzero(s > threshold)
        order = idx[np.argsort(-s[idx], kind="stable")][:params.candidates]
        kept = []
        while order.size:
            current = order[0]
            kept.append(current)
            if len(kept) == params.keep_top_k:
                break
            rest = order[1:]
            order = rest[iou_with(boxes[rest], boxes[current]) <= params.nms_threshold]
        rows += [(c, float(s[i]), *boxes[i]) for i in kept]
    return np.array(rows, dtype=np.float64).reshape(-1, 6)


def scale_factor(input_hw, source_wh) -> tuple:
    """(y, x) as float32, exactly as preprocess.model_inputs fills PaddleDetection's scale_factor."""
    return (float(np.float32(input_hw[0]) / np.float32(source_wh[1])),
            float(np.float32(input_hw[1]) / np.float32(source_wh[0])))


def finish(rows: np.ndarray, input_hw, source_wh, clip: bool = True) -> np.ndarray:
    """Steps 5 and 6: clip to the network input (then float32, as upstream), divide by scale_factor."""
    rows = rows.copy()
    if clip:
        h, w = input_hw
        rows[:, [2, 4]] = np.clip(rows[:, [2, 4]], 0.0, w)
        rows[:, [3, 5]] = np.clip(rows[:, [3, 5]], 0.0, h)
        rows[:, 2:] = rows[:, 2:].astype(np.float32)
    sy, sx = scale_factor(input_hw, source_wh)
    rows[:, [2, 4]] /= sx
    rows[:, [3, 5]] /= sy
    return rows


def rows(outputs: list, form: str, input_hw, source_wh, params: HostNms, classes: int | None = None) -> np.ndarray:
    """Detection rows [k, 6] in source pixels for the 'raw' or 'decoded' outputs (steps 1 to 6)."""
    decode = {"raw": decode_raw, "decoded": decode_decoded}[form]
    boxes, scores = decode(outputs, input_hw, params, classes)
    return finish(hard_nms(boxes, scores, params), input_hw, source_wh, params.clip)
