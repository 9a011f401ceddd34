"""Boolean masks built from boxes, for the interactive tests that count voxels on hand-made cases."""
import numpy as np


def cube(shape, start, stop) -> np.ndarray:
    """bool mask of `shape`, True in the box [start, stop) (voxel indices per axis)."""
    mask = np.zeros(shape, bool)
    mask[tuple(slice(a, b) for a, b in zip(start, stop))] = True
    return mask
