"""tf.data pipelines: load (parallel) -> normalise -> optional cache -> augment + patch -> batch -> prefetch.

Loading happens in NumPy/SimpleITK (file I/O and physical resampling); everything after it is
TensorFlow ops. Elements are (image [*spatial, 1] float32, label [*spatial] uint8) in array axis order.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from preprocessing.augmentation import IntensityAugmentation, SpatialAugmentation, random_intensity, random_spatial_transform
from preprocessing.cases import Case, read_label
from preprocessing.cross_validation import ensure_folds
from preprocessing.geometry import resample
from preprocessing.image_io import read_image
from preprocessing.tf_geometry import crop_or_pad

Loader = Callable[[Case], tuple[np.ndarray, np.ndarray]]
Normalizer = Callable[[tf.Tensor], tf.Tensor]
Preparer = Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


@dataclasses.dataclass(frozen=True)
class ResampledCaseLoader:
    """Reads a case and resamples image (linear, anti-aliased) and label (per-label linear) to a spacing.

    Attributes:
        spacing_xyz: target spacing in mm, ITK (x, y, z) order; None keeps the file's grid.
        ndim: expected image dimension (3 for CT, 2 for X-ray).
        separate_labels: for multi-mask cases (Montgomery), keep one label per mask.
    """

    spacing_xyz: tuple[float, ...] | None
    ndim: int = 3
    separate_labels: bool = True

    def __call__(self, case: Case) -> tuple[np.ndarray, np.ndarray]:
        image, geometry = read_image(case.image_path, self.ndim)
        label, label_geometry = read_label(case, self.ndim, self.separate_labels)
        if self.spacing_xyz is None:
            target = geometry
        else:
            target = geometry.with_spacing(self.spacing_xyz)
        image = resample(image.astype(np.float32), geometry, target, "linear", float(image.min()), antialias=True)
        label = resample(label, label_geometry, target, "label_linear")
        return image, label


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Batching and augmentation of a segmentation data set.

    Attributes:
        patch_shape: network input shape (voxels, array order); None yields whole volumes one by one.
        batch_size: patches per batch (training).
        spatial: random spatial augmentation (None disables it; patches are then cut around random centres).
        intensity: random intensity augmentation (None disables it).
        cache: '' caches preprocessed cases in memory, a path caches them on disk, None disables.
        shuffle_buffer: cases kept for shuffling.
        seed: base seed of shuffling and augmentation; the same seed gives the same batches.
        center_on_foreground: centre training patches on the bounding box of the labelled voxels
            (plus the random translation) instead of a uniformly random position.
    """

    patch_shape: tuple[int, ...] | None = None
    batch_size: int = 1
    spatial: SpatialAugmentation | None = SpatialAugmentation()
    intensity: IntensityAugmentation | None = IntensityAugmentation()
    cache: str | None = None
    shuffle_buffer: int = 64
    seed: int = 0
    center_on_foreground: bool = False


def _random_center(seed: tf.Tensor, shape: tf.Tensor, patch: tf.Tensor) -> tf.Tensor:
    """A uniformly random patch centre (continuous index) keeping the patch inside when it fits."""
    shape_f, patch_f = tf.cast(shape, tf.float32), tf.cast(patch, tf.float32)
    low = tf.minimum((patch_f - 1.0) / 2.0, (shape_f - 1.0) / 2.0)
    high = tf.maximum(shape_f - 1.0 - (patch_f - 1.0) / 2.0, low)
    return low + (high - low) * tf.random.stateless_uniform(tf.shape(shape), seed)


def _foreground_center(label: tf.Tensor) -> tf.Tensor:
    """Centre (continuous index) of the bounding box of non-zero labels; the volume centre if there are none."""
    points = tf.cast(tf.where(label > 0), tf.float32)
    volume_center = (tf.cast(tf.shape(label), tf.float32) - 1.0) / 2.0
    box_center = (tf.reduce_min(points, axis=0) + tf.reduce_max(points, axis=0)) / 2.0
    return tf.cond(tf.shape(points)[0] > 0, lambda: box_center, lambda: volume_center)


def fold_cases(cases: list[Case], cv_folder: str, fold: int, num_folds: int = 4) -> tuple[list[Case], list[Case]]:
    """(training cases, test cases) of cross-validation `fold`; fold files are written when absent."""
    train_ids, test_ids = ensure_folds([c.case_id for c in cases], cv_folder, fold, num_folds)
    by_id = {c.case_id: c for c in cases}
    return [by_id[i] for i in train_ids], [by_id[i] for i in test_ids]


def _loaded(cases: list[Case], loader: Loader, ndim: int, normalize: Normalizer,
            prepare: Preparer | None) -> tf.data.Dataset:
    def load(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image, label = loader(cases[int(index)])
        return image.astype(np.float32), label.astype(np.uint8)

    def load_op(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image, label = tf.numpy_function(load, [index], [tf.float32, tf.uint8], stateful=False)
        image.set_shape([None] * ndim)
        label.set_shape([None] * ndim)
        image = normalize(image)[..., None]
        return (image, label) if prepare is None else prepare(image, label)

    return tf.data.Dataset.range(len(cases)).map(load_op, num_parallel_calls=tf.data.AUTOTUNE)


def make_dataset(cases: list[Case], loader: Loader, normalize: Normalizer, config: PipelineConfig,
                 training: bool, ndim: int = 3, image_default: float = -1.0,
                 prepare: Preparer | None = None) -> tf.data.Dataset:
    """A batched, prefetched tf.data pipeline over `cases`.

    Args:
        loader: reads one case as (image, label) arrays on the network's grid (e.g. `ResampledCaseLoader`).
        normalize: intensity normalisation TF op (e.g. `functools.partial(intensity.window, low=..., high=...)`).
        training: repeat, shuffle, augment and cut random patches; otherwise one pass in order,
            centre patches (or whole volumes if `config.patch_shape` is None).
        image_default: normalised image value used outside the volume (air after windowing).
        prepare: optional TF op (image [*spatial, 1], label [*spatial]) -> (image, label) applied after
            normalisation and before caching, e.g. letterboxing X-rays to the network size.
    """
    if not cases:
        raise ValueError("no cases to build a data set from")
    dataset = _loaded(cases, loader, ndim, normalize, prepare)
    if config.cache is not None:
        dataset = dataset.cache(config.cache)
    patch = None if config.patch_shape is None else tf.constant(config.patch_shape, tf.int32)
    if not training:
        if patch is not None:
            def center_patch(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                start = (tf.shape(label) - patch) // 2
                return crop_or_pad(image, start, patch, image_default), crop_or_pad(label, start, patch, 0)
            dataset = dataset.map(center_patch, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.batch(config.batch_size if patch is not None else 1).prefetch(tf.data.AUTOTUNE)
    if patch is None:
        raise ValueError("training needs a patch_shape")
    dataset = dataset.repeat().shuffle(config.shuffle_buffer, seed=config.seed).enumerate()

    def augment(index: tf.Tensor, element: tuple[tf.Tensor, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
        image, label = element
        seeds = tf.random.experimental.stateless_split(tf.stack([tf.constant(config.seed, tf.int64), index]), 3)
        if config.center_on_foreground:
            center = _foreground_center(label)
        else:
            center = _random_center(seeds[0], tf.shape(label), patch)
        if config.spatial is not None:
            image, label = random_spatial_transform(image, label, seeds[1], config.spatial, patch, center, image_default)
        else:
            start = tf.cast(tf.floor(center - (tf.cast(patch, tf.float32) - 1.0) / 2.0 + 0.5), tf.int32)
            image, label = crop_or_pad(image, start, patch, image_default), crop_or_pad(label, start, patch, 0)
        if config.intensity is not None:
            image = random_intensity(image, seeds[2], config.intensity)
        image = tf.ensure_shape(image, list(config.patch_shape) + [1])
        return image, tf.ensure_shape(label, list(config.patch_shape))

    dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
