"""Training crops as the original samples them (MONAI RandCropByPosNegLabeld, RandFlipd per axis, RandRotate90d in
the axial plane), in NumPy on network-grid volumes [z, y, x, channels].

A crop is centred on a random lesion voxel with probability `positive_crop_fraction` (on a random background voxel
otherwise, or always when the case has no lesion), shifted to lie inside the volume; a volume smaller than the
crop along an axis is padded with zeros there (MONAI crops it smaller; the padding keeps the training step's shapes
fixed).
"""
from __future__ import annotations

import numpy as np

from interactive.config import InteractiveConfig


def _centre(label: np.ndarray, positive: bool, rng: np.random.Generator) -> np.ndarray:
    candidates = np.flatnonzero(label > 0) if positive else np.flatnonzero(label == 0)
    if candidates.size == 0:
        candidates = np.arange(label.size)
    return np.array(np.unravel_index(rng.choice(candidates), label.shape))


def training_crop(image: np.ndarray, label: np.ndarray, config: InteractiveConfig, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One augmented crop (image [*train_crop_size, channels] float32, label [*train_crop_size] uint8)."""
    size = np.array(config.train_crop_size)
    positive = bool(label.any()) and rng.random() < config.positive_crop_fraction
    start = np.clip(_centre(label, positive, rng) - size // 2, 0, np.maximum(np.array(label.shape) - size, 0))
    box = tuple(slice(s, s + n) for s, n in zip(start, size))
    image, label = image[box], label[box]
    padding = [(0, int(n - s)) for n, s in zip(size, label.shape)]
    image = np.pad(image, padding + [(0, 0)])
    label = np.pad(label, padding)
    for axis in range(3):
        if rng.random() < config.flip_probability:
            image, label = np.flip(image, axis), np.flip(label, axis)
    if size[1] == size[2] and rng.random() < config.rotate90_probability:
        turns = int(rng.integers(1, 4))
        image, label = np.rot90(image, turns, axes=(1, 2)), np.rot90(label, turns, axes=(1, 2))
    return np.ascontiguousarray(image, np.float32), np.ascontiguousarray(label, np.uint8)
