"""Training and validation crops of the crop model from the cached nodule crops (centred on the nodule, larger
than the crop): the crop is cut at a random offset of up to `centre_jitter_mm` per axis from the centre (a
detection is rarely centred; at most what the cached crop allows) and flipped along each axis at random; validation
crops are centred. Pure NumPy."""
from __future__ import annotations

import numpy as np

from nodules.config import CropModelConfig
from nodules.crop_model import crop_input


def _margins(shape: tuple[int, ...], config: CropModelConfig) -> np.ndarray:
    """Voxels between the cached crop's border and a centred crop, per axis."""
    margins = (np.asarray(shape) - np.asarray(config.crop_size)) // 2
    if np.any(margins < 0):
        raise ValueError(f"cached crops of {tuple(shape)} voxels are smaller than crop_size {config.crop_size}")
    return margins


def centred_crop(hu: np.ndarray, mask: np.ndarray, config: CropModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """(input [z, y, x, 1], mask [z, y, x]) at the centre of a cached crop."""
    box = tuple(slice(int(a), int(a) + n) for a, n in zip(_margins(hu.shape, config), config.crop_size))
    return crop_input(hu[box], config)[..., None], mask[box].astype(np.int32)


def training_crop(hu: np.ndarray, mask: np.ndarray, config: CropModelConfig, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(input [z, y, x, 1], mask [z, y, x]) jittered and flipped."""
    margins = _margins(hu.shape, config)
    jitter = np.minimum(margins, int(round(config.centre_jitter_mm / config.spacing_mm)))
    start = margins + rng.integers(-jitter, jitter + 1)
    box = tuple(slice(int(a), int(a) + n) for a, n in zip(start, config.crop_size))
    image, label = crop_input(hu[box], config), mask[box].astype(np.int32)
    if config.flip:
        for axis in range(3):
            if rng.integers(2):
                image, label = np.flip(image, axis), np.flip(label, axis)
    return np.ascontiguousarray(image)[..., None], np.ascontiguousarray(label)
