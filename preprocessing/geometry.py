"""Resampling and cropping on physical grids (NumPy arrays + `ImageGeometry`, via SimpleITK).

Arrays are in array axis order ((z, y, x) for volumes); indices and shapes passed to these
functions are in that order too; spacings are in mm. `ImageGeometry` keeps ITK's (x, y, z) order.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import to_sitk

Interpolation = Literal["linear", "nearest", "label_linear"]


def _sitk_resample(image: sitk.Image, target: ImageGeometry, interpolator: int, default_value: float) -> sitk.Image:
    reference = target.apply_to(sitk.Image(list(target.size), image.GetPixelID()))
    return sitk.Resample(image, reference, sitk.Transform(), interpolator, default_value, image.GetPixelID())


def resample(array: np.ndarray, geometry: ImageGeometry, target: ImageGeometry,
             interpolation: Interpolation = "linear", default_value: float = 0.0) -> np.ndarray:
    """Resamples `array` (on `geometry`) onto the grid `target`; returns an array of shape `target.shape`.

    Args:
        interpolation: 'linear' for images; 'nearest' for label maps; 'label_linear' for label
            maps resampled smoothly: each label's indicator is interpolated linearly and the
            label with the largest value wins (background where none exceeds 0.5 of the total).
        default_value: value outside the input grid (background label for label maps).

    Resampling a prediction from its grid back onto the original image's geometry is the inverse
    transform of any resampling/cropping done here: call it with `target` = original geometry.
    """
    if interpolation == "label_linear":
        return _resample_labels_smooth(array, geometry, target, default_value)
    image = to_sitk(array, geometry)
    interpolator = {"linear": sitk.sitkLinear, "nearest": sitk.sitkNearestNeighbor}[interpolation]
    return sitk.GetArrayFromImage(_sitk_resample(image, target, interpolator, default_value))


def _resample_labels_smooth(array: np.ndarray, geometry: ImageGeometry, target: ImageGeometry,
                            background: float) -> np.ndarray:
    labels = [v for v in np.unique(array) if v != background]
    best = np.full(target.shape, background, dtype=array.dtype)
    best_score = np.full(target.shape, 0.5, dtype=np.float32)
    for label in labels:
        indicator = to_sitk((array == label).astype(np.float32), geometry)
        score = sitk.GetArrayFromImage(_sitk_resample(indicator, target, sitk.sitkLinear, 0.0))
        better = score > best_score
        best[better] = label
        best_score[better] = score[better]
    return best


def resample_to_spacing(array: np.ndarray, geometry: ImageGeometry, spacing_xyz: tuple[float, ...],
                        interpolation: Interpolation = "linear", default_value: float = 0.0
                        ) -> tuple[np.ndarray, ImageGeometry]:
    """Resamples onto the lattice at a new spacing (mm, x-y-z order); see `ImageGeometry.with_spacing`."""
    target = geometry.with_spacing(tuple(spacing_xyz))
    return resample(array, geometry, target, interpolation, default_value), target


def _crop_or_pad_array(array: np.ndarray, start: tuple[int, ...], shape: tuple[int, ...],
                       pad_value: float) -> np.ndarray:
    out = np.full(shape, pad_value, dtype=array.dtype)
    src = tuple(slice(max(0, s), min(n, s + m)) for s, m, n in zip(start, shape, array.shape))
    dst = tuple(slice(sl.start - s, sl.stop - s) for sl, s in zip(src, start))
    if all(sl.stop > sl.start for sl in src):
        out[dst] = array[src]
    return out


def crop_or_pad(array: np.ndarray, geometry: ImageGeometry, start: tuple[int, ...], shape: tuple[int, ...],
                pad_value: float = 0.0) -> tuple[np.ndarray, ImageGeometry]:
    """Extracts the box [start, start + shape) (voxels, array order), padding with `pad_value` outside.

    `start` may be negative and the box may extend past the array. The returned geometry places the
    box at its true world position, so the crop overlays the original exactly.
    """
    start = tuple(int(s) for s in start)
    shape = tuple(int(s) for s in shape)
    return _crop_or_pad_array(array, start, shape, pad_value), geometry.cropped(start, shape)


def centered_start(center: tuple[float, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """Start index (array order) of a box of `shape` voxels centred on the continuous index `center`."""
    return tuple(int(np.floor(c - (m - 1) / 2.0 + 0.5)) for c, m in zip(center, shape))


def paste(cropped: np.ndarray, start: tuple[int, ...], full_shape: tuple[int, ...],
          fill_value: float = 0.0) -> np.ndarray:
    """Inverse of `crop_or_pad`: places `cropped` at `start` into an array of `full_shape` (array order)."""
    return _crop_or_pad_array(cropped, tuple(-int(s) for s in start), tuple(full_shape), fill_value)


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(start, stop) voxel indices (array order, stop exclusive) of the non-zero voxels, grown by
    `margin` voxels and clipped to the array; None for an empty mask."""
    nonzero = np.nonzero(mask)
    if nonzero[0].size == 0:
        return None
    start = tuple(max(0, int(ix.min()) - margin) for ix in nonzero)
    stop = tuple(min(n, int(ix.max()) + 1 + margin) for ix, n in zip(nonzero, mask.shape))
    return start, stop
