"""Raw-tensor metrics, each a small named function picked from one registry."""

from __future__ import annotations

import numpy as np


def max_abs(ref: np.ndarray, out: np.ndarray) -> float:
    return float(np.max(np.abs(ref.astype(np.float64) - out.astype(np.float64)))) if ref.size else 0.0


def max_rel(ref: np.ndarray, out: np.ndarray) -> float:
    """Largest |out - ref| / |ref| over elements where |ref| > 1e-6 (tiny references make any ratio huge)."""
    r, o = ref.astype(np.float64), out.astype(np.float64)
    mask = np.abs(r) > 1e-6
    return float(np.max(np.abs(o[mask] - r[mask]) / np.abs(r[mask]))) if mask.any() else 0.0


def cosine(ref: np.ndarray, out: np.ndarray) -> float:
    r, o = ref.astype(np.float64).ravel(), out.astype(np.float64).ravel()
    denom = np.linalg.norm(r) * np.linalg.norm(o)
    if denom == 0:
        return 1.0 if np.array_equal(r, o) else 0.0
    return float(np.dot(r, o) / denom)


METRICS = {"max_abs": max_abs, "max_rel": max_rel, "cosine": cosine}  # every output is reported with each


def within(ref: np.ndarray, out: np.ndarray, atol: float, rtol: float) -> bool:
    """max |out - ref| <= atol + rtol * max |ref|: one scale per tensor, so tiny elements do not dominate."""
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    return max_abs(ref, out) <= atol + rtol * scale
