"""Training crops of the nodule detector, as DeepLung's data loader draws them (detector/data.py: DataBowl3Detector,
Crop, augment, LabelMapping), from cached detector volumes (`nodules.cache`). Pure NumPy.

An epoch lists every nodule larger than size_oversampling_mm[0] once, those larger than [1] twice more and those
larger than [2] four times more, plus random crops (`random_crop_fraction` of the epoch). A nodule crop places the
nodule at a random position at least `bound_size` voxels inside the crop (or centred, jittered, when it does not
fit), is rescaled by a random factor (nodule size kept within scale_radius_mm) and flipped along y and x at random;
a random crop lies anywhere in a scan (half the time the scan of a listed nodule, else any scan), unscaled and
unflipped, and has no positive anchor. Outside the scan the crop holds the pad value. Coordinates: the crop's
position in its scan, three channels on the output grid, each a linspace over [start / size - 0.5,
(start + crop) / size - 0.5].
"""
from __future__ import annotations

import numpy as np

from nodules.anchors import detection_labels
from nodules.config import DetectorConfig


def zoom_linear(volume: np.ndarray, scale: float) -> np.ndarray:
    """`volume` resized by `scale` along every axis with linear interpolation, corners aligned (the first and last
    voxels keep their values), output size round(n x scale): SciPy's `ndimage.zoom(order=1)`."""
    out = volume.astype(np.float32)
    for axis in range(volume.ndim):
        size_in = out.shape[axis]
        size_out = max(1, int(round(size_in * scale)))
        position = np.arange(size_out) * ((size_in - 1) / (size_out - 1) if size_out > 1 else 0.0)
        low = np.clip(np.floor(position).astype(int), 0, size_in - 1)
        high = np.minimum(low + 1, size_in - 1)
        weight = (position - low).reshape([-1 if a == axis else 1 for a in range(volume.ndim)])
        out = np.take(out, low, axis=axis) * (1 - weight) + np.take(out, high, axis=axis) * weight
    return out


def epoch_samples(boxes_per_case: list[np.ndarray], config: DetectorConfig) -> list[tuple[int, int]]:
    """(case, nodule) pairs of one epoch's nodule crops, larger nodules repeated (see the module docstring)."""
    limits = np.asarray(config.size_oversampling_mm) / config.spacing_mm
    samples = []
    for case, boxes in enumerate(boxes_per_case):
        for index, box in enumerate(boxes):
            repeats = (box[3] > limits[0]) + 2 * (box[3] > limits[1]) + 4 * (box[3] > limits[2])
            samples += [(case, index)] * int(repeats)
    return samples


def epoch_length(nodule_samples: int, config: DetectorConfig) -> int:
    """Crops per epoch: the nodule crops and `random_crop_fraction` of the total as random crops."""
    return int(nodule_samples / (1.0 - config.random_crop_fraction))


def _cut(image: np.ndarray, start: np.ndarray, size: np.ndarray, pad_value: float) -> np.ndarray:
    """image[start:start + size] with the pad value where it reaches beyond the image."""
    low = np.maximum(start, 0)
    high = np.minimum(start + size, image.shape)
    crop = image[tuple(slice(a, b) for a, b in zip(low, high))]
    pads = [(int(a - s), int(s + n - b)) for s, n, a, b in zip(start, size, low, high)]
    return np.pad(crop, [(max(p, 0), max(q, 0)) for p, q in pads], constant_values=pad_value)


def _coordinates(start: np.ndarray, crop_size: np.ndarray, shape: tuple[int, ...], config: DetectorConfig
                 ) -> np.ndarray:
    cells = np.asarray(config.crop_size) // config.stride
    low = start / np.asarray(shape, np.float64) - 0.5
    high = low + crop_size / np.asarray(shape, np.float64)
    axes = [np.linspace(a, b, n) for a, b, n in zip(low, high, cells)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).astype(np.float32)


def _fit(crop: np.ndarray, size: tuple[int, ...], pad_value: float) -> np.ndarray:
    """Cut or pad (at the end) every axis to `size`."""
    crop = crop[tuple(slice(0, n) for n in size)]
    return np.pad(crop, [(0, n - s) for n, s in zip(size, crop.shape)], constant_values=pad_value)


def nodule_crop(image: np.ndarray, target: np.ndarray, boxes: np.ndarray, config: DetectorConfig,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(crop [crop_size] float32 of the image's 0..255 values, target box, all boxes, coordinates) of a crop
    around `target` (z, y, x, d in voxels), scaled and flipped as configured."""
    size = np.asarray(config.crop_size)
    scale = 1.0
    if config.scale_augmentation:
        radius = np.asarray(config.scale_radius_mm) / config.spacing_mm
        low = min(max(radius[0] / target[3], config.scale_range[0]), 1.0)
        high = max(min(radius[1] / target[3], config.scale_range[1]), 1.0)
        scale = float(rng.uniform(low, high))
        size = (np.asarray(config.crop_size) / scale).astype(int)
    bound = config.bound_size
    start = np.zeros(3, int)
    for axis in range(3):
        first = int(np.floor(target[axis] - target[3] / 2) + 1 - bound)
        last = int(np.ceil(target[axis] + target[3] / 2) + 1 + bound - size[axis])
        start[axis] = rng.integers(last, first) if first > last else \
            int(target[axis]) - size[axis] // 2 + int(rng.integers(-bound // 2, bound // 2))
    coord = _coordinates(start, size, image.shape, config)
    crop = _cut(image, start, size, config.pad_value).astype(np.float32)
    target = np.asarray(target, np.float64).copy()
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    target[:3] -= start
    boxes[:, :3] -= start
    if scale != 1.0:
        crop = _fit(zoom_linear(crop, scale), config.crop_size, config.pad_value)
        target *= scale
        boxes *= scale
    if config.flip:
        for axis in (1, 2):
            if rng.integers(2):
                crop = np.flip(crop, axis)
                coord = np.flip(coord, axis)
                target[axis] = crop.shape[axis] - target[axis]
                boxes[:, axis] = crop.shape[axis] - boxes[:, axis]
    return np.ascontiguousarray(crop), target, boxes, np.ascontiguousarray(coord)


def random_crop(image: np.ndarray, boxes: np.ndarray, config: DetectorConfig, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(crop, boxes, coordinates) of a crop at a random place of the scan (no scaling, no flips)."""
    size = np.asarray(config.crop_size)
    bound = config.bound_size
    start = np.zeros(3, int)
    for axis in range(3):
        first = max(image.shape[axis] - size[axis] / 2, image.shape[axis] / 2 + bound)
        last = min(size[axis] / 2, image.shape[axis] / 2 - bound)
        start[axis] = rng.integers(int(last), int(first)) if first > last else int(last)
    coord = _coordinates(start, size, image.shape, config)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    boxes[:, :3] -= start
    return _cut(image, start, size, config.pad_value).astype(np.float32), boxes, coord


def training_sample(images: list[np.ndarray], boxes_per_case: list[np.ndarray], samples: list[tuple[int, int]],
                    index: int, config: DetectorConfig, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image [z, y, x, 1] in (v - 128) / 128, coordinates [z/4, y/4, x/4, 3], labels [z/4, y/4, x/4, anchors, 5])
    of epoch position `index`: a nodule crop for index < len(samples), else a random crop."""
    grid = tuple(n // config.stride for n in config.crop_size)
    if index < len(samples):
        case, nodule = samples[index]
        crop, target, boxes, coord = nodule_crop(images[case], boxes_per_case[case][nodule], boxes_per_case[case],
                                                 config, rng)
    else:
        case = samples[int(rng.integers(len(samples)))][0] if samples and rng.integers(2) else \
            int(rng.integers(len(images)))
        crop, boxes, coord = random_crop(images[case], boxes_per_case[case], config, rng)
        target = None
    labels = detection_labels(grid, target, boxes, config, rng)
    return ((crop - 128.0) / 128.0)[..., None].astype(np.float32), coord, labels
