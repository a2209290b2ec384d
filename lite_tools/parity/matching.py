"""Order-insensitive one-to-one matching of detection boxes, per class."""

from __future__ import annotations

import dataclasses

IOU_MIN = 0.95  # boxes from the same model on the same input overlap almost perfectly
SCORE_TOL = 1e-3
PIXEL_TOL = 0.5  # sliver boxes (a fraction of a pixel wide) have an unstable IoU: match them by corners instead


def iou(a, b) -> float:
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else (1.0 if (a.x0, a.y0, a.x1, a.y1) == (b.x0, b.y0, b.x1, b.y1) else 0.0)


@dataclasses.dataclass(frozen=True)
class BoxMatch:
    matched: tuple  # (reference box, lite box, iou)
    missing: tuple  # reference boxes Lite did not produce
    extra: tuple  # Lite boxes the reference did not produce
    borderline: tuple  # unmatched boxes whose score is within SCORE_TOL of the threshold (not failures)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.extra


def match_boxes(reference: list, lite: list, score_threshold: float, iou_min: float = IOU_MIN,
                score_tol: float = SCORE_TOL) -> BoxMatch:
    """Greedy by IoU within each class; a pair needs |score difference| <= score_tol and IoU >= iou_min (or, for
    slivers, every corner within PIXEL_TOL source pixels)."""
    pairs = []
    for i, r in enumerate(reference):
        for j, o in enumerate(lite):
            if r.class_id == o.class_id and abs(r.score - o.score) <= score_tol:
                v = iou(r, o)
                corners = max(abs(r.x0 - o.x0), abs(r.y0 - o.y0), abs(r.x1 - o.x1), abs(r.y1 - o.y1))
                if v >= iou_min or corners <= PIXEL_TOL:
                    pairs.append((max(v, iou_min), i, j))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    used_r, used_o, matched = set(), set(), []
    for v, i, j in pairs:
        if i not in used_r and j not in used_o:
            used_r.add(i)
            used_o.add(j)
            matched.append((reference[i], lite[j], v))
    near = lambda b: abs(b.score - score_threshold) <= score_tol  # noqa: E731 - a box that may flip either way
    missing = [b for i, b in enumerate(reference) if i not in used_r]
    extra = [b for j, b in enumerate(lite) if j not in used_o]
    return BoxMatch(tuple(matched), tuple(b for b in missing if not near(b)), tuple(b for b in extra if not near(b)),
                    tuple(b for b in missing + extra if near(b)))
