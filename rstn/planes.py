"""The three planes of a volume as stacks of 2D slices, and the way per-slice outputs go back into a volume.

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


def from_plane_view(view: np.ndarray, plane: str) -> np.ndarray:
    """The inverse of `plane_view`: [slice, rows, columns] of `plane` back to [z, y, x] (a view)."""
    return view.transpose(np.argsort(PLANE_AXES[plane]))


def stack_indices(index: int, count: int, thickness: int) -> list[int]:
    """Slices of the input stack centred on slice `index` of `count`: [j-1, j, j+1] with the ends repeated
    (thickness 3), or [j, j, j] (thickness 1)."""
    if thickness == 1:
        return [index] * 3
    return [max(0, index - 1), index, min(count - 1, index + 1)]


def stack_targets(index: int, count: int, thickness: int) -> list[int | None]:
    """For each of the three output channels of stack `index`, the slice it predicts, or None for a repeated
    end slice (the original discards those channels)."""
    if thickness == 1:
        return [None, index, None]
    return [index - 1 + c if 0 <= index - 1 + c < count else None for c in range(3)]


def stack_counts(count: int, thickness: int) -> np.ndarray:
    """float32 [count]: how many stacks predict each slice (the divisor of the original's average: 3 inside,
    2 at the ends; 1 with thickness 1). Slices whose stacks were skipped still count."""
    counts = np.zeros(count, np.float32)
    for index in range(count):
        for target in stack_targets(index, count, thickness):
            if target is not None:
                counts[target] += 1
    return counts
