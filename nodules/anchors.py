"""Cubic anchors of the nodule detector (DeepLung / grt123): training labels from nodule boxes, detections from
network outputs, non-maximum suppression. Pure NumPy; a box is (z, y, x, d): centre and cube side in voxels of the
detector's grid, axes (z, y, x).

Output cell (i, j, k) of the stride-s grid centres its anchors at voxel ((s - 1) / 2 + s i, ...). A label or an
output per cell and anchor is (score, dz, dy, dx, dd) with dz = (z - cell_z) / anchor and dd = log(d / anchor);
label scores are 1 (positive), -1 (negative) or 0 (ignored).
"""
from __future__ import annotations

import numpy as np

from nodules.config import DetectorConfig


def cell_centres(cells: int, stride: int) -> np.ndarray:
    """Voxel coordinate of the anchors' centres along one axis of an output grid with `cells` cells."""
    return (stride - 1) / 2 + stride * np.arange(cells, dtype=np.float64)


def cube_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Intersection over union of cubes (z, y, x, d) [..., 4], broadcast against each other."""
    first, second = np.asarray(first, np.float64), np.asarray(second, np.float64)
    low = np.maximum(first[..., :3] - first[..., 3:] / 2, second[..., :3] - second[..., 3:] / 2)
    high = np.minimum(first[..., :3] + first[..., 3:] / 2, second[..., :3] + second[..., 3:] / 2)
    intersection = np.prod(np.maximum(0.0, high - low), axis=-1)
    return intersection / (first[..., 3] ** 3 + second[..., 3] ** 3 - intersection)


def anchor_cells(box: np.ndarray, anchor: float, threshold: float, grid_shape: tuple[int, int, int],
                 stride: int) -> np.ndarray:
    """[n, 3] cells (z, y, x) whose anchor cube of side `anchor` overlaps `box` with IoU >= `threshold` (> 0)."""
    near = []
    for axis in range(3):
        centres = cell_centres(grid_shape[axis], stride)
        near.append(np.flatnonzero(np.abs(centres - box[axis]) < (box[3] + anchor) / 2))
    if any(len(n) == 0 for n in near):
        return np.zeros((0, 3), np.int64)
    cells = np.stack(np.meshgrid(*near, indexing="ij"), axis=-1).reshape(-1, 3)
    centres = (stride - 1) / 2 + stride * cells
    cubes = np.concatenate([centres, np.full((len(cells), 1), anchor)], axis=1)
    return cells[cube_iou(cubes, box) >= threshold]


def detection_labels(grid_shape: tuple[int, int, int], target: np.ndarray | None, boxes: np.ndarray,
                     config: DetectorConfig, rng: np.random.Generator, train: bool = True) -> np.ndarray:
    """Labels [z, y, x, anchors, 5] of a crop, as DeepLung's LabelMapping: every anchor is negative except those
    overlapping any nodule in `boxes` by IoU >= th_neg (ignored); in training only `num_neg` random negatives
    stay. One positive for `target` (the nodule the crop was drawn for; None for a random crop): a random anchor
    of IoU >= th_pos_train, else the cell nearest the nodule with the anchor closest in log size."""
    anchors = np.asarray(config.anchors_mm, np.float64) / config.spacing_mm
    labels = np.zeros(tuple(grid_shape) + (len(anchors), 5), np.float32)
    labels[..., 0] = -1.0
    for box in np.asarray(boxes, np.float64).reshape(-1, 4):
        for a, anchor in enumerate(anchors):
            cells = anchor_cells(box, anchor, config.th_neg, grid_shape, config.stride)
            labels[cells[:, 0], cells[:, 1], cells[:, 2], a, 0] = 0.0
    if train and config.num_neg > 0:
        negatives = np.argwhere(labels[..., 0] == -1.0)
        keep = negatives[rng.choice(len(negatives), min(config.num_neg, len(negatives)), replace=False)]
        labels[..., 0] = 0.0
        labels[keep[:, 0], keep[:, 1], keep[:, 2], keep[:, 3], 0] = -1.0
    if target is None:
        return labels
    target = np.asarray(target, np.float64)
    candidates = [np.column_stack([cells, np.full(len(cells), a)])
                  for a, anchor in enumerate(anchors)
                  for cells in [anchor_cells(target, anchor, config.th_pos_train, grid_shape, config.stride)]]
    candidates = np.concatenate(candidates)
    if len(candidates):
        z, y, x, a = candidates[rng.integers(len(candidates))]
    else:
        z, y, x = (int(np.clip(np.round((target[i] - (config.stride - 1) / 2) / config.stride), 0,
                               grid_shape[i] - 1)) for i in range(3))
        a = int(np.argmin(np.abs(np.log(target[3] / anchors))))
    centre = (config.stride - 1) / 2 + config.stride * np.array([z, y, x], np.float64)
    labels[z, y, x, a] = [1.0, *((target[:3] - centre) / anchors[a]), np.log(target[3] / anchors[a])]
    return labels


def decode(output: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Detections [n, 5] (logit, z, y, x, d) in voxels from a network output [z, y, x, anchors, 5], keeping those
    with a logit above `score_threshold_logit` and a size above `min_diameter_mm`."""
    anchors = np.asarray(config.anchors_mm, np.float64) / config.spacing_mm
    grid = output.shape[:3]
    centres = np.stack(np.meshgrid(*[cell_centres(n, config.stride) for n in grid], indexing="ij"), axis=-1)
    boxes = np.empty(output.shape, np.float64)
    boxes[..., 0] = output[..., 0]
    boxes[..., 1:4] = centres[..., None, :] + output[..., 1:4] * anchors[:, None]
    boxes[..., 4] = np.exp(output[..., 4]) * anchors
    boxes = boxes.reshape(-1, 5)
    keep = (boxes[:, 0] > config.score_threshold_logit) & (boxes[:, 4] * config.spacing_mm > config.min_diameter_mm)
    return boxes[keep]


def cube_nms(detections: np.ndarray, iou: float, max_candidates: int | None = None) -> np.ndarray:
    """Greedy non-maximum suppression of detections [n, 5] (score, z, y, x, d): from the most probable down, a
    detection is kept unless it overlaps a kept one with cube IoU >= `iou`. Only the `max_candidates` most probable
    take part (None: all)."""
    remaining = detections[np.argsort(-detections[:, 0], kind="stable")][:max_candidates]
    kept = []
    while len(remaining):
        best = remaining[0]
        kept.append(best)
        remaining = remaining[1:][cube_iou(remaining[1:, 1:], best[1:]) < iou]
    return np.asarray(kept, np.float64).reshape(-1, 5)
