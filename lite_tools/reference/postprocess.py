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
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..config import DeployConfig, Task
from .preprocess import Preprocessed


@dataclasses.dataclass(frozen=True)
class ClassScore:
    class_id: int
    score: float
    label: str


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


def as_probabilities(scores: np.ndarray) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    if s.min() >= 0.0 and s.max() <= 1.0 and abs(s.sum() - 1.0) <= 1e-3:
        return s
    e = np.exp(s - s.max())
    return e / e.sum()


def classify(scores: np.ndarray, config: DeployConfig) -> list:
    p = as_probabilities(scores)
    order = np.argsort(-p, kind="stable")[: config.topk]
    return [ClassScore(int(i), float(p[i]), label_of(config, int(i))) for i in order]


def binary(scores: np.ndarray, config: DeployConfig) -> list:
    p = as_probabilities(scores)
    s = float(p[1])
    cid, score = (1, s) if s >= config.threshold else (0, 1.0 - s)
    return [ClassScore(cid, score, label_of(config, cid))]


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


def postprocess(outputs: list, config: DeployConfig, pre: Preprocessed) -> list:
    if config.task == Task.CLASSIFY:
        return classify(outputs[0][0], config)
    if config.task == Task.BINARY:
        return binary(outputs[0][0], config)
    if config.task == Task.SSD:
        return ssd_boxes(outputs[0], pre, config)
    if config.task == Task.EMBEDDING:
        v = np.asarray(outputs[0][0], dtype=np.float64).reshape(-1)
        norm = float(np.linalg.norm(v))
        return [Embedding(tuple((v / norm).tolist()) if norm > 0 else tuple(v.tolist()))]
    raise NotImplementedError(f"postprocessing for task {config.task.value} is not implemented yet")
