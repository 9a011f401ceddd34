"""Segmentation metrics on binary masks with physical spacing: Dice, normalized surface Dice, HD95.

Surfaces are the mask voxels that touch the background (face connectivity), the space outside the image
counting as background (an organ cut by the image border has a surface there); distances are Euclidean
in mm between surface voxel centres (SimpleITK's Maurer distance transform with image spacing).
Conventions for empty masks: both empty -> Dice 1, NSD 1, HD95 0; exactly one empty -> Dice 0,
NSD 0, HD95 NaN.
"""
from __future__ import annotations

import numpy as np
import SimpleITK as sitk

FLARE21_NSD_TOLERANCE_MM = 1.0


def dice(prediction: np.ndarray, reference: np.ndarray) -> float:
    """2 |P ∩ R| / (|P| + |R|) of two boolean masks."""
    prediction, reference = prediction.astype(bool), reference.astype(bool)
    total = prediction.sum() + reference.sum()
    return 1.0 if total == 0 else float(2.0 * np.logical_and(prediction, reference).sum() / total)


def _surface_and_distance(mask: np.ndarray, spacing_zyx: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(surface voxels of `mask`, distance in mm from every voxel to the nearest surface voxel)."""
    inside = tuple(slice(1, -1) for _ in range(mask.ndim))
    image = sitk.GetImageFromArray(np.pad(mask.astype(np.uint8), 1))
    image.SetSpacing(tuple(float(s) for s in spacing_zyx[::-1]))
    surface = sitk.GetArrayFromImage(sitk.BinaryContour(image, fullyConnected=False, backgroundValue=0,
                                                        foregroundValue=1)).astype(bool)
    surface_image = sitk.GetImageFromArray(surface.astype(np.uint8))
    surface_image.CopyInformation(image)
    distance = np.abs(sitk.GetArrayFromImage(sitk.SignedMaurerDistanceMap(
        surface_image, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)))
    surface, distance = surface[inside], distance[inside]
    distance[surface] = 0.0
    return surface, distance


def surface_distances(prediction: np.ndarray, reference: np.ndarray,
                      spacing_zyx: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(distances in mm from each prediction surface voxel to the reference surface, and the reverse)."""
    prediction_surface, prediction_distance = _surface_and_distance(prediction, spacing_zyx)
    reference_surface, reference_distance = _surface_and_distance(reference, spacing_zyx)
    return reference_distance[prediction_surface], prediction_distance[reference_surface]


def normalized_surface_dice(prediction: np.ndarray, reference: np.ndarray, spacing_zyx: tuple[float, ...],
                            tolerance_mm: float = FLARE21_NSD_TOLERANCE_MM) -> float:
    """Fraction of both surfaces lying within `tolerance_mm` of the other surface."""
    if not prediction.any() and not reference.any():
        return 1.0
    if not prediction.any() or not reference.any():
        return 0.0
    to_reference, to_prediction = surface_distances(prediction, reference, spacing_zyx)
    close = np.sum(to_reference <= tolerance_mm) + np.sum(to_prediction <= tolerance_mm)
    return float(close / (to_reference.size + to_prediction.size))


def hausdorff_95(prediction: np.ndarray, reference: np.ndarray, spacing_zyx: tuple[float, ...]) -> float:
    """95th percentile Hausdorff distance in mm: max of the two directed 95th percentile surface distances."""
    if not prediction.any() and not reference.any():
        return 0.0
    if not prediction.any() or not reference.any():
        return float("nan")
    to_reference, to_prediction = surface_distances(prediction, reference, spacing_zyx)
    return float(max(np.percentile(to_reference, 95), np.percentile(to_prediction, 95)))


def label_metrics(prediction: np.ndarray, reference: np.ndarray, labels: list[int], spacing_zyx: tuple[float, ...],
                  tolerance_mm: float = FLARE21_NSD_TOLERANCE_MM, surface: bool = True) -> dict[int, dict[str, float]]:
    """{label: {'dice', 'nsd', 'hd95'}} for each label of two label maps (surface metrics optional)."""
    results = {}
    for label in labels:
        p, r = prediction == label, reference == label
        values = {"dice": dice(p, r)}
        if surface:
            values["nsd"] = normalized_surface_dice(p, r, spacing_zyx, tolerance_mm)
            values["hd95"] = hausdorff_95(p, r, spacing_zyx)
        results[label] = values
    return results
