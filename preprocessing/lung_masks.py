"""Lung masks of frontal chest X-rays: binarising released masks and naming the two lungs by the patient's side.

Arrays are 2D [y, x] (rows, columns) as read from the file. Sides follow the radiologists' convention for a
posterior-anterior (or anterior-posterior) film shown as it is read: the patient's right lung lies on the image's
left (smaller column), the patient's left lung on the image's right.
"""
from __future__ import annotations

import cv2
import numpy as np

RIGHT_LUNG = 1
LEFT_LUNG = 2
LUNG_LABEL_NAMES = ("right_lung", "left_lung")

# Masks with values above 1 (0/255, anti-aliased copies) are foreground from this grey value on (half of 255).
MASK_THRESHOLD = 128


def binary_mask(array: np.ndarray) -> np.ndarray:
    """bool [y, x]: a released mask as foreground / background. 0/1 masks: non-zero; 0..255 masks (the official
    0/255 and anti-aliased resized copies): >= MASK_THRESHOLD."""
    return array > 0 if array.max(initial=0) <= 1 else array >= MASK_THRESHOLD


def _column_centroid(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[1].mean())


def _split_column(mask: np.ndarray) -> float:
    """The column (pixels) dividing one connected lung region into two: the column with the fewest mask pixels in
    the middle half of the region's width (the mediastinum); the first such column on ties."""
    columns = np.flatnonzero(mask.any(axis=0))
    first, last = int(columns[0]), int(columns[-1])
    quarter = (last - first) // 4
    counts = mask[:, first + quarter:last - quarter + 1].sum(axis=0)
    return first + quarter + int(np.argmin(counts)) - 0.5


def lung_sides(mask: np.ndarray) -> np.ndarray:
    """uint8 [y, x] labels of one mask holding both lungs: RIGHT_LUNG (1) and LEFT_LUNG (2), 0 elsewhere.

    The two largest 8-connected components are the two lungs: the one whose centroid lies further left in the image
    is the patient's right lung. Smaller components go to the side of the midline (halfway between the two lungs'
    centroids) they lie on. A mask that is one component (lungs touching across the mediastinum) is cut at its
    narrowest column in the middle half of its width (`_split_column`).
    """
    mask = mask.astype(bool)
    labels = np.zeros(mask.shape, np.uint8)
    if not mask.any():
        return labels
    count, components, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count > 2:
        largest = 1 + np.argsort(stats[1:, cv2.CC_STAT_AREA], kind="stable")[::-1][:2]
        midline = float(centroids[largest, 0].mean())
        side_of_component = np.where(centroids[:, 0] < midline, RIGHT_LUNG, LEFT_LUNG).astype(np.uint8)
        side_of_component[0] = 0
        return side_of_component[components]
    midline = _split_column(mask)
    columns = np.arange(mask.shape[1])[None, :]
    labels[mask & (columns < midline)] = RIGHT_LUNG
    labels[mask & (columns > midline)] = LEFT_LUNG
    return labels


def sides_of_masks(masks: list[np.ndarray]) -> np.ndarray:
    """uint8 [y, x] labels of two masks, one lung each (Montgomery's `leftMask` and `rightMask`): the mask whose
    centroid lies further left in the image is the patient's right lung (1), the other the left lung (2). Taken
    from the masks' positions, so it does not depend on which folder name the release gives which lung."""
    present = [m for m in masks if m.any()]
    if len(present) < 2:
        return lung_sides(np.logical_or.reduce([m.astype(bool) for m in masks]))
    order = sorted(range(len(masks)), key=lambda i: _column_centroid(masks[i]) if masks[i].any() else np.inf)
    labels = np.zeros(masks[0].shape, np.uint8)
    labels[masks[order[0]].astype(bool)] = RIGHT_LUNG
    labels[masks[order[1]].astype(bool)] = LEFT_LUNG
    return labels


def lung_labels(masks: list[np.ndarray], separate: bool) -> np.ndarray:
    """uint8 [y, x] label map of a case's released masks (one with both lungs, or one per lung): right lung 1 and
    left lung 2 when `separate`, else 1 for both lungs."""
    binary = [binary_mask(m) for m in masks]
    if not separate:
        return np.logical_or.reduce(binary).astype(np.uint8)
    return sides_of_masks(binary) if len(binary) > 1 else lung_sides(binary[0])
