"""Training and validation crops of the crop model from the cached nodule crops (which carry `context_mm` more
on every side): the crop is cut at a random offset of up to `centre_jitter_mm` per axis (a detection is rarely
centred) and flipped along each axis at random; validation crops are centred. Pure NumPy."""
from __future__ import annotations

import numpy as np

from nodules.config import CropModelConfig
from nodules.crop_model import crop_input


def _context(config: CropModelConfig) -> int:
    return int(round(config.context_mm / config.spacing_mm))


def centred_crop(hu: np.ndarray, mask: np.ndarray, config: CropModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """(input [z, y, x, 1], mask [z, y, x]) at the centre of a cached crop."""
    c = _context(config)
    box = tuple(slice(c, c + n) for n in config.crop_size)
    return crop_input(hu[box], config)[..., None], mask[box].astype(np.int32)


def training_crop(hu: np.ndarray, mask: np.ndarray, config: CropModelConfig, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(input [z, y, x, 1], mask [z, y, x]) jittered and flipped."""
    c = _context(config)
    jitter = min(c, int(round(config.centre_jitter_mm / config.spacing_mm)))
    start = c + rng.integers(-jitter, jitter + 1, size=3)
    box = tuple(slice(int(a), int(a) + n) for a, n in zip(start, config.crop_size))
    image, label = crop_input(hu[box], config), mask[box].astype(np.int32)
    if config.flip:
        for axis in range(3):
            if rng.integers(2):
                image, label = np.flip(image, axis), np.flip(label, axis)
    return np.ascontiguousarray(image)[..., None], np.ascontiguousarray(label)
