"""Fixed crops around nodules for the segmentation and malignancy model: a cube of isotropic voxels centred on a
world point, axes along the world axes (canonical orientation), CT resampled linearly (air beyond the scan) and
masks resampled as fractions, thresholded at one half."""
from __future__ import annotations

import numpy as np

from nodules.lidc_annotations import BoxMask
from preprocessing.geometry import resample
from preprocessing.image_geometry import ImageGeometry

AIR_HU = -1024.0


def crop_geometry(centre_mm: tuple[float, float, float], size: tuple[int, int, int], spacing_mm: float
                  ) -> ImageGeometry:
    """The grid of `size` (z, y, x) voxels of `spacing_mm` centred on the world point `centre_mm` (x, y, z)."""
    size_xyz = tuple(int(n) for n in size[::-1])
    origin = tuple(float(c - (n - 1) / 2 * spacing_mm) for c, n in zip(centre_mm, size_xyz))
    return ImageGeometry(size=size_xyz, spacing=(spacing_mm,) * 3, origin=origin,
                         direction=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))


def ct_crop(hu: np.ndarray, geometry: ImageGeometry, target: ImageGeometry) -> np.ndarray:
    """float32 HU on the crop grid `target`."""
    return resample(hu.astype(np.float32), geometry, target, "linear", AIR_HU)


def mask_crop(mask: BoxMask, geometry: ImageGeometry, target: ImageGeometry) -> np.ndarray:
    """uint8 mask on `target` of a mask given in a box of the volume on `geometry`."""
    box_geometry = geometry.cropped(mask.start, mask.mask.shape)
    fraction = resample(mask.mask.astype(np.float32), box_geometry, target, "linear", 0.0)
    return (fraction >= 0.5).astype(np.uint8)
