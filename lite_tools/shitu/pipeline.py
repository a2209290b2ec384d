"""The PP-ShiTu pipeline, as PaddleClas 2.6's `deploy/python/predict_system.py` (SystemPredictor.predict, with
DetPredictor.parse_det_results and RecPredictor.predict) runs it. The engines are injected (Paddle Inference for
the reference, Paddle Lite for parity, the gallery's search), so this module holds only the arithmetic between
them, step by step, for com.litetools.core.ShituPipeline to reproduce:

1. Detector rows: the first output as [N, 6] (class, score, x0, y0, x1, y1), float32, in source pixels (the graph
   divided by scale_factor). Fewer than 6 values means no detection. The box count output is not read (upstream
   reads only the first output).
2. Selection: rows in descending score order, the first `max_det_results` kept, then, in that order, each row
   whose score < `threshold` dropped (float32 score against the float64 threshold, as numpy 1.x compares a
   float32 scalar with a Python float). The class id is int(row[0]).
   Descending order is numpy's default argsort reversed, as upstream calls it, reproduced (numpy_argsort) so that
   tied scores (a saturated sigmoid gives many exact 1.0s) keep the same rows in the same order: for N <= 16
   numpy sorts by insertion (stable, so reversed the later row first); above 16 its introsort decides.
3. The whole image is appended last: class 0, score 1.0, box (0, 0, w, h).
4. Each box is truncated toward zero to integers (numpy's astype(int) of the float32 values) and cropped as
   rgb[y0:y1, x0:x1] with Python's slice rules: a negative value counts from the end (then clamped to 0), a value
   past the end is clamped. The truncated box, not the crop window, is what the result carries and NMS compares.
   An empty crop is skipped and noted: upstream's resize raises on it. PicoDet exports do not clip their boxes, so
   a box starting at x0 <= -1 (its slice [x0 + w : x1] is empty) is enough.
5. The crop is embedded: the recogniser's preprocessing and model, then L2-normalised in float32 as RecPredictor
   does (sqrt of the float32 sum of squares, then a float32 division).
6. The gallery is searched for the top `return_k`; the top-1 hit is kept when its score >= `score_thres` (in
   float64: faiss's float32 score as numpy 1.x compares it with a Python float); its label is the id map's second
   whitespace-separated field (PaddleClas's `id_map[id].split()[1]`), which the gallery's searcher supplies.
7. Final NMS ignoring the class: kept results ordered by recognition score descending (the same order rule as
   step 2), then repeatedly the first is kept and every other whose IoU with it is > `rec_nms_thresold` is
   dropped. In float32 throughout: the int boxes as float32, areas (x1 - x0 + 1) * (y1 - y0 + 1), intersection
   max(0, min(x1) - max(x0) + 1) * max(0, ...), IoU = inter / (area_i + area_j - inter), kept when IoU <=
   float32(rec_nms_thresold) (numpy compares a float32 array with a Python float in float32).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import BadInput
from .system_config import SystemConfig

WHOLE_IMAGE_CLASS = 0
WHOLE_IMAGE_SCORE = 1.0


@dataclasses.dataclass(frozen=True)
class Detection:
    class_id: int
    score: float  # the float32 score, exactly
    box: tuple  # (x0, y0, x1, y1): the float32 values exactly; the whole image's are ints


@dataclasses.dataclass(frozen=True)
class Hit:
    id: int  # the gallery's id (PaddleClas's id map key)
    score: float  # inner product with the query (faiss and a float32 gallery: float32 values, exactly)
    label: str


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One box the recogniser saw (a detection or the whole image)."""
    box: tuple  # truncated to ints
    window: tuple  # (x0, y0, x1, y1) the crop actually taken (Python's slice rules); () when empty
    top: Hit | None  # the search's top-1 (None: empty crop)
    kept: bool  # top.score >= score_thres
    hits: tuple = ()  # every hit of the search (return_k), best first


@dataclasses.dataclass(frozen=True)
class Recognition:
    box: tuple  # (x0, y0, x1, y1) ints
    label: str
    score: float  # the top-1 hit's score
    id: int


@dataclasses.dataclass(frozen=True)
class ShituResult:
    detections: tuple  # step 2's selection (before the whole image)
    candidates: tuple  # steps 3-6, in order (the whole image last)
    recognitions: tuple  # step 7: what the app shows, in NMS order
    notes: tuple = ()


def _less(a: float, b: float) -> bool:
    """numpy's float ordering: NaN after every number."""
    return a < b or (b != b and a == a)


def _heapsort(v, idx: list, lo: int, n: int) -> None:
    """numpy's aheapsort on idx[lo:lo + n] (1-based heap over the slice)."""
    def at(k):
        return idx[lo + k - 1]

    def put(k, value):
        idx[lo + k - 1] = value

    def sift_down(tmp, i: int, size: int) -> None:
        j = i << 1
        while j <= size:
            if j < size and _less(v[at(j)], v[at(j + 1)]):
                j += 1
            if _less(v[tmp], v[at(j)]):
                put(i, at(j))
                i, j = j, j + j
            else:
                break
        put(i, tmp)

    for top in range(n >> 1, 0, -1):
        sift_down(at(top), top, n)
    while n > 1:
        tmp = at(n)
        put(n, at(1))
        n -= 1
        sift_down(tmp, 1, n)


SMALL_SORT = 15  # numpy's SMALL_QUICKSORT: parts of more than 16 elements are partitioned


def numpy_argsort(values) -> list:
    """The indices numpy 1.x's default argsort (kind="quicksort") returns, reproduced step by step so that ties fall
    exactly as in PaddleClas's `argsort()[::-1]` and the Java core can do the same: an introsort over an index
    array: median of three, then a partition that moves the pivot next to the right end, scanning from both ends
    with strict comparisons; the larger part pushed, the smaller one continued; parts of at most 16 elements by
    insertion sort (stable); below a depth of 2 * floor(log2 N) partitions, heapsort. That is numpy's order on a
    CPU without AVX-512: numpy 1.26.4's own binary also holds x86-simd-sort argsorts for float32 and float64
    (np::qsort_simd::ArgQSort_AVX512_SKX), which an AVX512_SKX host runs instead, with its own tie order (bitonic
    networks; std::sort when NaN is present). There PaddleClas's order of tied scores is not this one (unless
    NPY_DISABLE_CPU_FEATURES lists the AVX-512 features, as tests/conftest.py does), and the test comparing this
    with np.argsort in tests/test_shitu_pipeline.py fails without it and says so."""
    v = [float(x) for x in np.asarray(values, dtype=np.float64).reshape(-1)]
    num = len(v)
    idx = list(range(num))
    if num < 2:
        return idx
    stack, depths = [], []
    lo, hi = 0, num - 1
    depth = 2 * (num.bit_length() - 1)
    while True:
        if depth < 0:
            _heapsort(v, idx, lo, hi - lo + 1)
        else:
            while hi - lo > SMALL_SORT:
                mid = lo + ((hi - lo) >> 1)
                if _less(v[idx[mid]], v[idx[lo]]):
                    idx[mid], idx[lo] = idx[lo], idx[mid]
                if _less(v[idx[hi]], v[idx[mid]]):
                    idx[hi], idx[mid] = idx[mid], idx[hi]
                if _less(v[idx[mid]], v[idx[lo]]):
                    idx[mid], idx[lo] = idx[lo], idx[mid]
                pivot = v[idx[mid]]
                i, j = lo, hi - 1
                idx[mid], idx[j] = idx[j], idx[mid]
                while True:
                    i += 1
                    while _less(v[idx[i]], pivot):
                        i += 1
                    j -= 1
                    while _less(pivot, v[idx[j]]):
                        j -= 1
                    if i >= j:
                        break
                    idx[i], idx[j] = idx[j], idx[i]
                idx[i], idx[hi - 1] = idx[hi - 1], idx[i]
                depth -= 1
                if i - lo < hi - i:
                    stack.append((i + 1, hi))
                    hi = i - 1
                else:
                    stack.append((lo, i - 1))
                    lo = i + 1
                depths.append(depth)
            for i in range(lo + 1, hi + 1):
                vi = idx[i]
                key = v[vi]
                j = i
                while j > lo and _less(key, v[idx[j - 1]]):
                    idx[j] = idx[j - 1]
                    j -= 1
                idx[j] = vi
        if not stack:
            return idx
        lo, hi = stack.pop()
        depth = depths.pop()


def descending(scores) -> list:
    """Indices by score descending as upstream orders them: numpy's argsort reversed."""
    return numpy_argsort(scores)[::-1]


def select_detections(rows, max_det_results: int, threshold: float) -> tuple:
    """Step 2: (detections, notes) from the detector's first output."""
    rows = np.asarray(rows)
    if rows.size < 6:
        return (), ()
    if rows.ndim != 2 or rows.shape[1] != 6:
        raise BadInput(f"the detector's first output has shape {list(rows.shape)}, not [N, 6] rows (PP-ShiTu "
                       "needs a detector exported with NMS in the graph)")
    rows = rows.astype(np.float32, copy=False)
    scores = rows[:, 1]
    kept = []
    for i in descending(scores)[:max_det_results]:
        score = scores[i]
        if float(score) < threshold:
            continue
        kept.append(Detection(int(rows[i, 0]), float(score), tuple(float(v) for v in rows[i, 2:6])))
    return tuple(kept), ()


def whole_image(width: int, height: int) -> Detection:
    return Detection(WHOLE_IMAGE_CLASS, WHOLE_IMAGE_SCORE, (0, 0, int(width), int(height)))


def truncate(box) -> tuple:
    """numpy's astype(int) of the box (float32 values; truncation toward zero)."""
    values = np.asarray(box, dtype=np.float64)  # float32 values and ints are exact in float64
    if not np.all(np.isfinite(values)):
        raise BadInput(f"the detector gave a box with a non-finite coordinate {list(box)}")
    return tuple(int(v) for v in values.astype(np.int64))


def slice_range(start: int, stop: int, n: int) -> tuple:
    """Python's slice [start:stop] on a length-n axis, as (first, end) with end <= first meaning empty."""
    def clamp(v):
        if v < 0:
            return max(v + n, 0)
        return min(v, n)
    return clamp(start), clamp(stop)


def crop_window(box: tuple, width: int, height: int) -> tuple:
    """(x0, y0, x1, y1) of rgb[y0:y1, x0:x1] for the int box; () when the crop is empty."""
    x0, x1 = slice_range(box[0], box[2], width)
    y0, y1 = slice_range(box[1], box[3], height)
    if x1 <= x0 or y1 <= y0:
        return ()
    return (x0, y0, x1, y1)


def l2_normalise(features) -> np.ndarray:
    """RecPredictor's feature_normalize on one feature row, in float32."""
    f = np.asarray(features, dtype=np.float32).reshape(1, -1)
    norm = np.sqrt(np.sum(np.square(f), axis=1, keepdims=True))
    return np.divide(f, norm)[0]


def rec_nms(recognitions: list, threshold: float) -> tuple:
    """Step 7 (SystemPredictor.nms_to_rec_results): (kept in order, notes)."""
    if not recognitions:
        return (), ()
    boxes = np.array([r.box for r in recognitions]).astype(np.float32)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    scores = np.array([r.score for r in recognitions], dtype=np.float64)  # float32 values from faiss: exact
    one = np.float32(1.0)
    areas = (x2 - x1 + one) * (y2 - y1 + one)
    order = np.array(descending(scores), dtype=np.int64)
    limit = np.float32(threshold)
    kept = []
    while order.size > 0:
        i = order[0]
        rest = order[1:]
        w = np.maximum(np.float32(0.0), np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + one)
        h = np.maximum(np.float32(0.0), np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + one)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            ovr = inter / (areas[i] + areas[rest] - inter)
        order = rest[ovr <= limit]
        kept.append(recognitions[i])
    return tuple(kept), ()


def run(rgb: np.ndarray, system: SystemConfig, detect, embed, search) -> ShituResult:
    """One image through the system. detect(rgb) -> the detector's first output (None: no detector);
    embed(crop rgb) -> the L2-normalised float32 feature; search(feature, k) -> [Hit] best first."""
    height, width = rgb.shape[:2]
    notes = []
    detections = ()
    if detect is not None and system.detector is not None:
        detections, det_notes = select_detections(detect(rgb), system.max_det_results, system.threshold)
        notes += det_notes
    candidates, recognitions = [], []
    for det in (*detections, whole_image(width, height)):
        box = truncate(det.box)
        window = crop_window(box, width, height)
        if not window:
            notes.append(f"box {list(box)} lies outside the {width}x{height} image: skipped (PaddleClas's "
                         "resize would fail on the empty crop)")
            candidates.append(Candidate(box, (), None, False))
            continue
        x0, y0, x1, y1 = window
        feature = embed(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        hits = search(feature, system.search.return_k)
        if not hits:
            raise BadInput("the gallery is empty: nothing to recognise against")
        top = hits[0]
        kept = float(top.score) >= system.search.score_thres
        candidates.append(Candidate(box, window, top, kept, tuple(hits)))
        if kept:
            recognitions.append(Recognition(box, top.label, float(top.score), top.id))
    final, nms_notes = rec_nms(recognitions, system.rec_nms_threshold)
    return ShituResult(detections, tuple(candidates), final, tuple(notes) + nms_notes)


# ---- engines --------------------------------------------------------------------------------------------------

class Detector:
    """The detector stage on any engine (lite_tools.engines): preprocess as its DeployConfig says, run, return the
    first output (PaddleClas's DetPredictor feeds image / im_shape / scale_factor by name)."""

    def __init__(self, config, engine):
        self.config, self.engine = config, engine

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        from ..reference import model_inputs, preprocess

        pre = preprocess(rgb, self.config)
        return self.engine.run(model_inputs(pre, self.engine.input_names))[0]


class Recogniser:
    """The recogniser stage on any engine: preprocess, run, L2-normalise as RecPredictor."""

    def __init__(self, config, engine):
        self.config, self.engine = config, engine

    def raw(self, rgb: np.ndarray) -> np.ndarray:
        from ..reference import preprocess

        out = self.engine.run([preprocess(rgb, self.config).tensor])[0]
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        return l2_normalise(self.raw(rgb))


def paddleclas_label(doc: str) -> str:
    """PaddleClas's label of an id map entry: its second whitespace-separated field."""
    parts = str(doc).split()
    if len(parts) < 2:
        raise BadInput(f"gallery entry {doc!r} has no label field (PaddleClas reads the second whitespace-separated "
                       "field)")
    return parts[1]


class FaissSearcher:
    """A faiss index (PaddleClas's vector.index, or an IndexFlatIP) and its id map {id: doc or label}: search ->
    [Hit] best first. `labels_are_docs`: the map holds PaddleClas's 'path<TAB>label' lines (label: field 2)."""

    def __init__(self, index, id_map: dict, labels_are_docs: bool = True):
        self.index, self.id_map, self.docs = index, id_map, labels_are_docs

    def __call__(self, feature: np.ndarray, k: int) -> list:
        scores, ids = self.index.search(np.asarray(feature, dtype=np.float32).reshape(1, -1), k)
        hits = []
        for score, i in zip(scores[0], ids[0]):
            if i < 0:
                continue
            doc = self.id_map[int(i)]
            hits.append(Hit(int(i), float(score), paddleclas_label(doc) if self.docs else str(doc)))
        return hits


class GallerySearcher:
    """A lite-tools gallery index (lite_tools.shitu.index.IndexFile) as the pipeline's search: the same numbers
    the app's EmbeddingSearcher computes."""

    def __init__(self, index_file):
        self.index = index_file

    def __call__(self, feature: np.ndarray, k: int) -> list:
        return [Hit(h.id, h.score, h.label) for h in self.index.search(feature, k)]
