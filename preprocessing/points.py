"""Points as JSON sends them (click files, server requests)."""
from __future__ import annotations

import numpy as np


def point_array(value) -> np.ndarray | None:
    """[n, 3] float64 of a JSON value that is a list of [a, b, c] finite numbers (clicks as files and requests send
    them), or None when it is not one."""
    if not isinstance(value, list) or not all(
            isinstance(p, list) and len(p) == 3
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in p)
            for p in value):
        return None
    return np.asarray(value, np.float64).reshape(-1, 3)
