"""A chest CT as the nodule detector sees it, as DeepLung's prepare.py builds it: canonical orientation, resampled
to the detector's isotropic spacing, cropped to the lungs' box, HU windowed to [0, 255], everything outside the
dilated lung mask (and bright bone inside the dilation ring) set to the pad value."""
from __future__ import annotations

import dataclasses

import numpy as np

from nodules.config import DetectorConfig
from nodules.lung_mask import dilated, lung_mask
from preprocessing.geometry import resample_to_spacing
from preprocessing.image_geometry import ImageGeometry
from preprocessing.orientation import to_canonical

AIR_HU = -1024.0
BONE_LEVEL = 210  # windowed value (of 255) above which the dilation ring counts as bone
BOX_MARGIN = (5, 10)  # voxels added below and above the lung box (prepare.py's margin and 2 x margin)


@dataclasses.dataclass(frozen=True)
class DetectorVolume:
    """The detector's input volume and where it lies.

    Attributes:
        image: uint8 [z, y, x] windowed CT.
        geometry: its grid (canonical orientation, isotropic spacing; world mm).
        lungs_found: False when no lung was found (the volume is then the whole scan, unmasked).
    """
    image: np.ndarray
    geometry: ImageGeometry
    lungs_found: bool


def windowed(hu: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """HU clipped to `window` and mapped linearly onto 0..255 (uint8, truncated as prepare.py's lumTrans)."""
    low, high = window
    return ((np.clip(hu, low, high) - low) / (high - low) * 255.0).astype(np.uint8)


def lung_box(mask: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(start, stop) voxels of the mask's box grown by BOX_MARGIN, inside the volume."""
    indices = np.argwhere(mask)
    start = np.maximum(indices.min(axis=0) - BOX_MARGIN[0], 0)
    stop = np.minimum(indices.max(axis=0) + BOX_MARGIN[1], mask.shape)
    return tuple(int(v) for v in start), tuple(int(v) for v in stop)


def detector_volume(hu: np.ndarray, geometry: ImageGeometry, config: DetectorConfig) -> DetectorVolume:
    """The detector's volume of a CT (`hu` [z, y, x] on `geometry`, any orientation)."""
    canonical, canonical_geometry, _ = to_canonical(hu.astype(np.float32), geometry)
    spacing = (config.spacing_mm,) * 3
    resampled, grid = resample_to_spacing(canonical, canonical_geometry, spacing, default_value=AIR_HU)
    mask = lung_mask(resampled, spacing)
    if not mask.any():
        return DetectorVolume(windowed(resampled, config.hu_window), grid, False)
    start, stop = lung_box(mask)
    box = tuple(slice(a, b) for a, b in zip(start, stop))
    mask, resampled = mask[box], resampled[box]
    region = dilated(mask)
    image = windowed(resampled, config.hu_window)
    pad = np.uint8(config.pad_value)
    image[~region] = pad
    image[region & ~mask & (image > BONE_LEVEL)] = pad
    return DetectorVolume(image, grid.cropped(start, tuple(b - a for a, b in zip(start, stop))), True)
