"""tf.data pipelines: load (parallel, optionally cached) -> normalise -> augment + patch -> batch -> prefetch.

Loading happens in NumPy/SimpleITK (file I/O and physical resampling); everything after it is
TensorFlow ops. Elements are (image [*spatial, 1] float32, label [*spatial] uint8) in array axis order.

Training streams are a pure function of (seed, element index): element i belongs to epoch i // n (n
cases), whose case order is a permutation drawn from (seed, epoch), and its augmentation draws from
(seed, i). So a run resumed at step s starts at element s x global batch and sees exactly the batches an
uninterrupted run would have seen, and the stream can be split across workers and replicas without
changing the global batches.
"""
from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from preprocessing.atomic import atomic_path
from preprocessing.augmentation import (IntensityAugmentation, SpatialAugmentation, random_intensity,
                                        random_spatial_transform, smooth_labels)
from preprocessing.cases import Case, read_label
from preprocessing.cross_validation import ensure_folds
from preprocessing.geometry import resample
from preprocessing.intensity import AIR_HU
from preprocessing.image_io import read_image
from preprocessing.network_grid import (fitting_spacing, lattice_offset, padded_valid_sizes, smooth_and_resample,
                                        snapped_start, valid_size, voxels_for_extent)
from preprocessing.orientation import to_canonical
from preprocessing.tf_geometry import crop_or_pad

Loader = Callable[[Case], tuple[np.ndarray, np.ndarray]]
Normalizer = Callable[[tf.Tensor], tf.Tensor]
Preparer = Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]


@dataclasses.dataclass(frozen=True)
class ResampledCaseLoader:
    """Reads a case, brings a 3D image and label into canonical orientation (`preprocessing.orientation`) and
    puts them on the volume's lattice at a spacing (`preprocessing.network_grid`): the image smoothed and
    resampled exactly as at inference (`smooth_and_resample`, air outside), the label per-label linearly.

    Attributes:
        spacing_xyz: target spacing in mm, ITK (x, y, z) order; None keeps the file's grid.
        ndim: expected image dimension (3 for CT, 2 for X-ray).
        separate_labels: for multi-mask cases (Montgomery), keep one label per mask.
        sigma_mm: Gaussian smoothing of the image before resampling (the network's input sigma).
    """

    spacing_xyz: tuple[float, ...] | None
    ndim: int = 3
    separate_labels: bool = True
    sigma_mm: float = 0.0

    def __call__(self, case: Case) -> tuple[np.ndarray, np.ndarray]:
        image, geometry = read_image(case.image_path, self.ndim)
        label, label_geometry = read_label(case, self.ndim, self.separate_labels)
        if self.spacing_xyz is None:
            return image.astype(np.float32), label
        image, geometry, _ = to_canonical(image, geometry)
        label, label_geometry, _ = to_canonical(label, label_geometry)
        target = geometry.with_spacing(self.spacing_xyz)
        spacing = np.asarray(geometry.array_spacing, np.float32)
        grid_spacing = np.asarray(target.array_spacing, np.float32)
        offset = lattice_offset(image.shape, spacing, grid_spacing)
        image = smooth_and_resample(image, spacing, target.shape, grid_spacing, offset, self.sigma_mm, AIR_HU)
        label = resample(label, label_geometry, target, "label_linear")
        return image.numpy(), label


@dataclasses.dataclass(frozen=True)
class RegionCrop:
    """Training crops sized from a region of each case, as the original EfficientSCN's training sets
    (MDAT `ImageSizeGenerator` with `valid_output_sizes`; FLARE21 `scn/dataset.py`).

    Attributes:
        around: 'volume' (the whole volume, centred: localization) or 'foreground' (the box of the labelled
            voxels: SCN).
        valid_sizes: crop sizes per axis (array order z, y, x), voxels; the crop gets per axis the smallest one
            larger than the region, or the largest.
        extension_mm: added to the region on each side.
        zoom_to_fit: when the region exceeds the largest valid sizes, sample it at a larger spacing
            (`network_grid.fitting_spacing`, tolerance 0) instead of cutting it.
    """

    around: str
    valid_sizes: tuple[tuple[int, ...], ...]
    extension_mm: float = 0.0
    zoom_to_fit: bool = False

    def __post_init__(self) -> None:
        if self.around not in ("volume", "foreground"):
            raise ValueError(f"around must be 'volume' or 'foreground', not {self.around!r}")


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Batching and augmentation of a segmentation data set.

    Attributes:
        patch_shape: fixed network input shape (voxels, array order); None with `region` unset yields whole
            volumes one by one.
        region: training crops sized per case from a region (replaces `patch_shape`); replica batches of
            differently sized crops are padded to the largest (air, background).
        batch_size: patches per batch (training).
        spacing_mm: isotropic spacing of the loaded grid (mm; 1 for images in pixels): the unit in which
            augmentation distances and `region` extensions are given.
        spatial: random spatial augmentation (None: the crop is cut without it).
        intensity: random intensity augmentation (None disables it).
        label_sigma_voxels: smooth the training labels per label and re-assign by argmax (0: off).
        cache: '' caches loaded cases in memory, a folder path caches them on disk (.npz), None disables.
        seed: base seed of the case order and of augmentation; the same seed gives the same batches.
    """

    patch_shape: tuple[int, ...] | None = None
    region: RegionCrop | None = None
    batch_size: int = 1
    spacing_mm: float = 1.0
    spatial: SpatialAugmentation | None = SpatialAugmentation()
    intensity: IntensityAugmentation | None = IntensityAugmentation()
    label_sigma_voxels: float = 0.0
    cache: str | None = None
    seed: int = 0


def _random_center(seed: tf.Tensor, shape: tf.Tensor, patch: tf.Tensor) -> tf.Tensor:
    """A uniformly random patch centre (continuous index) keeping the patch inside when it fits."""
    shape_f, patch_f = tf.cast(shape, tf.float32), tf.cast(patch, tf.float32)
    low = tf.minimum((patch_f - 1.0) / 2.0, (shape_f - 1.0) / 2.0)
    high = tf.maximum(shape_f - 1.0 - (patch_f - 1.0) / 2.0, low)
    return low + (high - low) * tf.random.stateless_uniform(tf.shape(shape), seed)


def _foreground_box(label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(centre, extent) in voxels of the bounding box of the non-zero labels' voxel centres; the whole
    volume if there are none."""
    points = tf.cast(tf.where(label > 0), tf.float32)
    shape = tf.cast(tf.shape(label), tf.float32)

    def box() -> tuple[tf.Tensor, tf.Tensor]:
        low, high = tf.reduce_min(points, axis=0), tf.reduce_max(points, axis=0)
        return (low + high) / 2.0, high - low

    return tf.cond(tf.shape(points)[0] > 0, box, lambda: ((shape - 1.0) / 2.0, shape))


def region_crop_grid(label: tf.Tensor, crop: RegionCrop, spacing_mm: float) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """(centre as a continuous index, crop shape int32 [ndim], zoom) of the training crop of one case."""
    spacing = tf.constant(spacing_mm, tf.float32)
    if crop.around == "volume":
        shape = tf.cast(tf.shape(label), tf.float32)
        center, extent = (shape - 1.0) / 2.0, shape
    else:
        center, extent = _foreground_box(label)
    extent_mm = extent * spacing + 2.0 * crop.extension_mm
    valid_sizes = padded_valid_sizes(crop.valid_sizes)
    zoom = tf.constant(1.0)
    if crop.zoom_to_fit:
        zoom = fitting_spacing(extent_mm, spacing, tf.reduce_max(valid_sizes, axis=1), 0.0) / spacing
    return center, valid_size(voxels_for_extent(extent_mm, spacing * zoom), valid_sizes), zoom


def fold_cases(cases: list[Case], cv_folder: str, fold: int, num_folds: int = 4) -> tuple[list[Case], list[Case]]:
    """(training cases, test cases) of cross-validation `fold`; fold files are written when absent."""
    train_ids, test_ids = ensure_folds([c.case_id for c in cases], cv_folder, fold, num_folds)
    by_id = {c.case_id: c for c in cases}
    return [by_id[i] for i in train_ids], [by_id[i] for i in test_ids]


@dataclasses.dataclass
class CachedLoader:
    """Loads cases by index through `loader`, keeping them in memory (`cache` '') or as .npz files in the
    folder `cache`; `cache` None loads every time."""

    cases: list[Case]
    loader: Loader
    cache: str | None = None

    def __post_init__(self) -> None:
        self._memory: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __call__(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        index = int(index)
        if index in self._memory:
            return self._memory[index]
        path = os.path.join(self.cache, f"{self.cases[index].case_id}.npz") if self.cache else None
        if path and os.path.exists(path):
            with np.load(path) as stored:
                image, label = stored["image"], stored["label"]
        else:
            image, label = self.loader(self.cases[index])
            image, label = image.astype(np.float32), label.astype(np.uint8)
            if path:
                with atomic_path(path) as temp:
                    np.savez(temp, image=image, label=label)
        if self.cache == "":
            self._memory[index] = (image, label)
        return image, label


def _load_op(load: CachedLoader, ndim: int, normalize: Normalizer,
             prepare: Preparer | None) -> Callable[[tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    def load_op(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image, label = tf.numpy_function(load, [index], [tf.float32, tf.uint8], stateful=False)
        image.set_shape([None] * ndim)
        label.set_shape([None] * ndim)
        image = normalize(image)[..., None]
        return (image, label) if prepare is None else prepare(image, label)
    return load_op


def case_of_element(element: tf.Tensor, num_cases: int, seed: int) -> tf.Tensor:
    """The case index of training stream element `element`: epoch = element // num_cases, and each epoch
    visits the cases in a permutation drawn from (seed, epoch)."""
    epoch, position = element // num_cases, element % num_cases
    order = tf.argsort(tf.random.stateless_uniform([num_cases], tf.stack([tf.constant(seed, tf.int64), epoch])))
    return tf.cast(tf.gather(order, position), tf.int64)


@dataclasses.dataclass(frozen=True)
class StreamShard:
    """Which part of the global training stream one input pipeline produces.

    Attributes:
        first_step: global step the stream starts at (resume).
        global_batch: elements per global step, over all replicas and workers.
        pipeline_id, num_pipelines: this input pipeline (one per worker) among all of them; pipeline p
            produces elements p * k .. (p + 1) * k - 1 of every global batch (k = global_batch / num_pipelines),
            batched per replica, so its local replicas consume them in order.
        replica_batch: elements per replica batch.
    """

    first_step: int = 0
    global_batch: int = 1
    pipeline_id: int = 0
    num_pipelines: int = 1
    replica_batch: int = 1

    @classmethod
    def of(cls, context: tf.distribute.InputContext | None, global_batch: int, first_step: int) -> "StreamShard":
        """The shard of `context` (None: everything on one replica)."""
        if context is None:
            return cls(first_step, global_batch, 0, 1, global_batch)
        if global_batch % context.num_replicas_in_sync:
            raise ValueError(f"global batch {global_batch} is not divisible by the {context.num_replicas_in_sync} "
                             "replicas")
        return cls(first_step, global_batch, context.input_pipeline_id, context.num_input_pipelines,
                   context.get_per_replica_batch_size(global_batch))

    def indices(self) -> tf.data.Dataset:
        """The stream element indices this pipeline produces, from `first_step` on (unbatched)."""
        per_pipeline = self.global_batch // self.num_pipelines
        dataset = tf.data.Dataset.range(self.first_step * self.global_batch, np.iinfo(np.int64).max)
        if self.num_pipelines > 1:
            dataset = dataset.filter(lambda i: (i % self.global_batch) // per_pipeline == self.pipeline_id)
        return dataset


def _training_crop(image: tf.Tensor, label: tf.Tensor, seeds: tf.Tensor, config: PipelineConfig,
                   image_default: float) -> tuple[tf.Tensor, tf.Tensor]:
    """The (augmented) training crop of one loaded case."""
    if config.region is not None:
        center, shape, zoom = region_crop_grid(label, config.region, config.spacing_mm)
    else:
        shape, zoom = tf.constant(config.patch_shape, tf.int32), 1.0
        center = _random_center(seeds[0], tf.shape(label), shape)
    center = tf.cast(snapped_start(center, shape), tf.float32) + (tf.cast(shape, tf.float32) - 1.0) / 2.0
    image, label = random_spatial_transform(image, label, seeds[1], config.spatial, shape, center, image_default,
                                            config.spacing_mm, zoom)
    if config.label_sigma_voxels > 0:
        label = smooth_labels(label, config.label_sigma_voxels)
    if config.intensity is not None:
        image = random_intensity(image, seeds[2], config.intensity)
    return image, label


def make_dataset(cases: list[Case], loader: Loader, normalize: Normalizer, config: PipelineConfig,
                 training: bool, ndim: int = 3, image_default: float = -1.0,
                 prepare: Preparer | None = None, shard: StreamShard | None = None) -> tf.data.Dataset:
    """A batched, prefetched tf.data pipeline over `cases`.

    Args:
        loader: reads one case as (image, label) arrays on the network's grid (e.g. `ResampledCaseLoader`).
        normalize: intensity normalisation TF op (e.g. `functools.partial(intensity.window, low=..., high=...)`).
        training: repeat, shuffle, augment and cut crops; otherwise one pass in order, centre patches (or
            whole volumes if `config.patch_shape` is None).
        image_default: normalised image value used outside the volume (air after windowing).
        prepare: optional TF op (image [*spatial, 1], label [*spatial]) -> (image, label) applied after
            normalisation, e.g. letterboxing X-rays to the network size.
        shard: (training) the part of the stream this pipeline produces; default: all of it in batches of
            `config.batch_size` from step 0.
    """
    if not cases:
        raise ValueError("no cases to build a data set from")
    load_op = _load_op(CachedLoader(cases, loader, config.cache), ndim, normalize, prepare)
    patch = None if config.patch_shape is None else tf.constant(config.patch_shape, tf.int32)
    if not training:
        dataset = tf.data.Dataset.range(len(cases)).map(load_op, num_parallel_calls=tf.data.AUTOTUNE)
        if patch is not None:
            def center_patch(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                start = (tf.shape(label) - patch) // 2
                return crop_or_pad(image, start, patch, image_default), crop_or_pad(label, start, patch, 0)
            dataset = dataset.map(center_patch, num_parallel_calls=tf.data.AUTOTUNE)
        return dataset.batch(config.batch_size if patch is not None else 1).prefetch(tf.data.AUTOTUNE)
    if patch is None and config.region is None:
        raise ValueError("training needs a patch_shape or a region")
    shard = shard or StreamShard.of(None, config.batch_size, 0)
    dataset = shard.indices()

    def augment(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image, label = load_op(case_of_element(index, len(cases), config.seed))
        seeds = tf.random.experimental.stateless_split(tf.stack([tf.constant(config.seed, tf.int64), index]), 3)
        image, label = _training_crop(image, label, seeds, config, image_default)
        shape = list(config.patch_shape) if patch is not None else [None] * ndim
        return tf.ensure_shape(image, shape + [1]), tf.ensure_shape(label, shape)

    dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    if patch is not None:
        dataset = dataset.batch(shard.replica_batch, drop_remainder=True)
    else:
        dataset = dataset.padded_batch(shard.replica_batch, padding_values=(image_default, tf.constant(0, tf.uint8)),
                                       drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
