"""The three planes of a volume as stacks of 2D slices, in NumPy for the training stream (`rstn.volume_inference`
does the same in TensorFlow and puts per-slice outputs back into a volume).

Volumes are arrays [z, y, x] in canonical orientation (`preprocessing.orientation`). The original works on
(row, column, slice) arrays, i.e. [y, x, z], and names its planes by the axis it slices: X the rows (y),
Y the columns (x), Z the slices (z). A plane view is [slice index, image rows, image columns] with the image
axes in the original's order: X -> [y, x, z], Y -> [x, y, z], Z -> [z, y, x].
"""
from __future__ import annotations

import numpy as np

from rstn.config import PLANES

PLANE_AXES = {"X": (1, 2, 0), "Y": (2, 1, 0), "Z": (0, 1, 2)}


def plane_view(volume: np.ndarray, plane: str) -> np.ndarray:
    """`volume` [z, y, x] as slices of `plane` (a transposed view, no copy)."""
    if plane not in PLANES:
        raise ValueError(f"plane must be one of {PLANES}, not {plane!r}")
    return volume.transpose(PLANE_AXES[plane])


def stack_indices(index: int, count: int, thickness: int) -> list[int]:
    """Slices of the input stack centred on slice `index` of `count`: [j-1, j, j+1] with the ends repeated
    (thickness 3), or [j, j, j] (thickness 1)."""
    if thickness == 1:
        return [index] * 3
    return [max(0, index - 1), index, min(count - 1, index + 1)]
