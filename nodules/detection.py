"""Nodule detection on a whole detector volume, as DeepLung tests (detector/main.py test with split_combine.py's
SplitComb, then GetPBB and the evaluation script's thresholds and NMS): the volume, padded to a multiple of
`test_side`, is cut into cubes of `test_side` voxels each seen with `test_margin` voxels of context on every side
(the pad value beyond the volume); the network's outputs for the cubes' inner cells are put together into one
output grid, decoded, thresholded and suppressed.

Detections are returned as rows (probability, x, y, z, diameter) in world mm.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from nodules.anchors import cube_nms, decode
from nodules.config import DetectorConfig
from nodules.preprocess import DetectorVolume

# (image [1, z, y, x, 1] float32, coordinates [1, z/4, y/4, x/4, 3] float32) -> outputs [1, z/4, y/4, x/4, a, 5]
Predict = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _coordinates(shape: tuple[int, ...], stride: int) -> np.ndarray:
    axes = [np.linspace(-0.5, 0.5, n // stride) for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).astype(np.float32)


def output_grid(predict: Predict, image: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Network outputs [z/4, y/4, x/4, anchors, 5] for the whole volume `image` (uint8 [z, y, x]); the sides are
    padded to a multiple of `test_side`, so the grid covers the padded volume."""
    side, margin, stride = config.test_side, config.test_margin, config.stride
    if side % config.max_stride or margin % config.max_stride:
        raise ValueError(f"test_side {side} and test_margin {margin} must be multiples of max_stride "
                         f"{config.max_stride}")
    padded_shape = tuple(int(np.ceil(n / side)) * side for n in image.shape)
    volume = np.full(tuple(n + 2 * margin for n in padded_shape), config.pad_value, np.float32)
    volume[tuple(slice(margin, margin + n) for n in image.shape)] = image
    volume = (volume - 128.0) / 128.0
    coord = _coordinates(padded_shape, stride)
    cell_margin = margin // stride
    coord = np.pad(coord, [(cell_margin, cell_margin)] * 3 + [(0, 0)], mode="edge")
    grid = None
    cells = side // stride
    for start in np.ndindex(*(n // side for n in padded_shape)):
        low = [s * side for s in start]
        tile = volume[tuple(slice(a, a + side + 2 * margin) for a in low)]
        tile_coord = coord[tuple(slice(a // stride, a // stride + cells + 2 * cell_margin) for a in low)]
        output = np.asarray(predict(tile[None, ..., None], tile_coord[None]))[0]
        inner = output[cell_margin:cell_margin + cells, cell_margin:cell_margin + cells,
                       cell_margin:cell_margin + cells]
        if grid is None:
            grid = np.zeros(tuple(n // stride for n in padded_shape) + inner.shape[3:], np.float32)
        grid[tuple(slice(a // stride, a // stride + cells) for a in low)] = inner
    return grid


def detect(predict: Predict, volume: DetectorVolume, config: DetectorConfig) -> np.ndarray:
    """Detections [n, 5] (probability, x, y, z, diameter) in world mm of a detector volume, most probable first."""
    boxes = cube_nms(decode(output_grid(predict, volume.image, config), config), config.nms_iou,
                     config.nms_candidates)
    if len(boxes) == 0:
        return np.zeros((0, 5))
    centres = volume.geometry.index_to_physical(boxes[:, 3:0:-1])
    probability = 1.0 / (1.0 + np.exp(-boxes[:, 0]))
    return np.column_stack([probability, centres, boxes[:, 4] * volume.geometry.spacing[0]])
