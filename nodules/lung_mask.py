"""Lung mask of a chest CT by thresholding and connected components, as the DeepLung / grt123 preprocessing does
it (their step1 and process_mask), on a volume at about 1 mm ([z, y, x], HU):

1. smooth each slice (Gaussian, sigma 1 mm) and threshold at `AIR_HU`;
2. per slice, drop the air regions that touch the slice border (outside the body) and regions smaller than
   `MIN_REGION_MM2`;
3. in 3D keep the largest connected component and the second largest when it is at least `SECOND_LUNG_FRACTION`
   of it (the two lungs, or both when they touch);
4. per slice and region, replace the region by its convex hull when the hull is less than `HULL_GROWTH` times as
   large (this takes in nodules on the pleura and vessels at the hilum), else keep it;
5. the detector's region: that mask dilated `DILATION_VOXELS` times with the 6-neighbourhood.
"""
from __future__ import annotations

import cv2
import numpy as np
import SimpleITK as sitk

AIR_HU = -600.0
MIN_REGION_MM2 = 30.0
SECOND_LUNG_FRACTION = 0.1
HULL_GROWTH = 1.5
DILATION_VOXELS = 10


def _inner_air(slice_hu: np.ndarray, pixel_area_mm2: float, spacing_yx: tuple[float, float]) -> np.ndarray:
    smooth = cv2.GaussianBlur(slice_hu.astype(np.float32), (0, 0), sigmaX=1.0 / spacing_yx[1],
                              sigmaY=1.0 / spacing_yx[0])
    count, labels, stats, _ = cv2.connectedComponentsWithStats((smooth < AIR_HU).astype(np.uint8), connectivity=8)
    height, width = slice_hu.shape
    keep = np.zeros(count, bool)
    for label in range(1, count):
        x, y, w, h, area = stats[label]
        touches = x == 0 or y == 0 or x + w == width or y + h == height
        keep[label] = not touches and area * pixel_area_mm2 >= MIN_REGION_MM2
    return keep[labels]


def _hull_filled(mask_slice: np.ndarray) -> np.ndarray:
    count, labels = cv2.connectedComponents(mask_slice.astype(np.uint8), connectivity=8)
    out = np.zeros(mask_slice.shape, np.uint8)
    for label in range(1, count):
        region = (labels == label).astype(np.uint8)
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        hull = np.zeros_like(region)
        cv2.fillPoly(hull, [cv2.convexHull(np.concatenate(contours))], 1)
        out |= hull if hull.sum() < HULL_GROWTH * region.sum() else region
    return out.astype(bool)


def lung_mask(hu: np.ndarray, spacing_zyx: tuple[float, float, float]) -> np.ndarray:
    """bool [z, y, x]: the lungs (steps 1-4 of the module docstring); all False when no lung is found."""
    pixel_area = spacing_zyx[1] * spacing_zyx[2]
    air = np.stack([_inner_air(s, pixel_area, spacing_zyx[1:]) for s in hu])
    components = sitk.RelabelComponent(sitk.ConnectedComponent(sitk.GetImageFromArray(air.astype(np.uint8))),
                                       sortByObjectSize=True)
    labels = sitk.GetArrayFromImage(components)
    sizes = np.bincount(labels.ravel())
    if len(sizes) < 2:
        return np.zeros(hu.shape, bool)
    keep = labels == 1
    if len(sizes) > 2 and sizes[2] >= SECOND_LUNG_FRACTION * sizes[1]:
        keep |= labels == 2
    return np.stack([_hull_filled(s) if s.any() else s for s in keep])


def dilated(mask: np.ndarray, times: int = DILATION_VOXELS) -> np.ndarray:
    """`mask` dilated `times` times with the 6-neighbourhood (a voxel diamond of radius `times`)."""
    out = mask.astype(bool)
    for _ in range(times):
        grown = out.copy()
        for axis in range(out.ndim):
            ahead = [slice(None)] * out.ndim
            behind = [slice(None)] * out.ndim
            ahead[axis], behind[axis] = slice(1, None), slice(None, -1)
            grown[tuple(ahead)] |= out[tuple(behind)]
            grown[tuple(behind)] |= out[tuple(ahead)]
        out = grown
    return out
