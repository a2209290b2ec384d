"""Score rows that probe post-processors where they are most fragile, shared by the Python and the Java tests."""

from __future__ import annotations

import numpy as np


def boundary_rows(width: int, thresholds, seed: int, n: int = 400) -> np.ndarray:
    """float32 rows: uniform scores, then per row some entries set to a threshold's float32 (and 0.5, 0.3, 0.6,
    PaddleClas's defaults), their float32 neighbours, or a copy of another entry (exact ties in the argmax
    groups); the first eighth with nothing above 0.5 (fallbacks), and one row of 0.5 everywhere."""
    rng = np.random.RandomState(seed)
    rows = rng.uniform(0, 1, (n, width)).astype(np.float32)
    special = sorted({np.float32(t) for t in thresholds} | {np.float32(0.5), np.float32(0.3), np.float32(0.6)})
    special += [np.nextafter(s, np.float32(k)) for s in list(special) for k in (0, 1)]
    for row in rows:
        for j in rng.choice(width, rng.randint(0, width // 2 + 1), replace=False):
            row[j] = special[rng.randint(len(special))]
        for _ in range(rng.randint(0, 4)):
            a, b = rng.choice(width, 2, replace=False)
            row[a] = row[b]
    rows[: n // 8] = np.where(rows[: n // 8] > 0.5, np.float32(0.1), rows[: n // 8])
    rows[n // 8] = np.float32(0.5)
    return rows
