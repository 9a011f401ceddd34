"""The RSTN training stream of one plane: which slice stack, mode and crop margins every step sees, and the
tf.data pipeline that loads them from the cache (`rstn.cache`).

As the original (`Data.py`, `training.py`): the training slices are the cached slices of the training cases
that pass the slice selection (computed over the whole list, as the original's), every epoch visits them once
in a new random order, and the modes S, I, J follow each other after their numbers of epochs. The stream is a
function of the element index (seeded per epoch and per element), so a resumed run continues exactly.
"""
from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np
import tensorflow as tf

from preprocessing.pipeline import StreamShard
from rstn.cache import active_slices, read_slices
from rstn.config import MODES, RSTNConfig
from rstn.crop import training_margins
from rstn.model import MODE_CODES
from rstn.planes import plane_view, stack_indices
from rstn.volume_inference import windowed


@dataclasses.dataclass(frozen=True)
class SliceStream:
    """The training slices of one plane and the element -> (stack, mode, margins) rule.

    Attributes:
        cache_folder: the `rstn.prepare` cache.
        plane: 'X', 'Y' or 'Z'.
        config: the run's RSTNConfig.
        case_ids, slices: the training slices (case, slice index in the plane), in list order.
        seed: seed of the epoch orders and the margins.
    """

    cache_folder: str
    plane: str
    config: RSTNConfig
    case_ids: tuple[str, ...]
    slices: tuple[int, ...]
    seed: int = 0

    @classmethod
    def of(cls, cache_folder: str, plane: str, config: RSTNConfig, train_ids: list[str], seed: int = 0
           ) -> "SliceStream":
        """The stream of `train_ids`' selected slices of `plane`."""
        table = read_slices(cache_folder, plane)
        chosen = active_slices(table["pixels"], config.slice_threshold) & np.isin(table["case_id"], train_ids)
        if not chosen.any():
            raise ValueError(f"{cache_folder}: no training slice of plane {plane} shows the organ in the training "
                             "cases; check --organ_ids and the fold")
        return cls(cache_folder, plane, config, tuple(table["case_id"][chosen]),
                   tuple(int(s) for s in table["slice"][chosen]), seed)

    @property
    def steps_per_epoch(self) -> int:
        """Steps of one epoch (the last incomplete batch is dropped, as the original's loader does)."""
        return max(1, len(self.slices) // self.config.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * sum(self.config.epochs)

    def mode_of_step(self, step: int) -> str:
        """The training mode at a global step."""
        epoch = step // self.steps_per_epoch
        ends = np.cumsum(self.config.epochs)
        return MODES[min(int(np.searchsorted(ends, epoch, side="right")), len(MODES) - 1)]

    def element(self, index: int) -> tuple[str, int, str, np.ndarray]:
        """(case id, slice, mode, margins int32 [4]) of stream element `index`."""
        per_epoch = self.steps_per_epoch * self.config.batch_size
        epoch, position = divmod(index, per_epoch)
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.slices))
        chosen = int(order[position])
        margins = training_margins(np.random.default_rng([self.seed, 1, index]), self.config.crop_margin,
                                   self.config.crop_random_probability)
        mode = self.mode_of_step(index // self.config.batch_size)
        return self.case_ids[chosen], self.slices[chosen], mode, margins

    @functools.lru_cache(maxsize=None)
    def _arrays(self, case_id: str) -> tuple[np.ndarray, np.ndarray]:
        images = np.load(os.path.join(self.cache_folder, "images", f"{case_id}.npy"), mmap_mode="r")
        labels = np.load(os.path.join(self.cache_folder, "labels", f"{case_id}.npy"), mmap_mode="r")
        return plane_view(images, self.plane), plane_view(labels, self.plane)

    def load(self, index: int) -> tuple[np.ndarray, np.ndarray, np.int32, np.ndarray]:
        """(image [R, C, 3] int16 HU, target [R, C, 3] uint8, mode code, margins) of element `index`."""
        case_id, slice_index, mode, margins = self.element(index)
        images, labels = self._arrays(case_id)
        stack = stack_indices(slice_index, images.shape[0], self.config.slice_thickness)
        image = np.moveaxis(images[stack], 0, -1)
        target = np.isin(np.moveaxis(labels[stack], 0, -1), self.config.organ_ids).astype(np.uint8)
        return image, target, np.int32(MODE_CODES[mode]), margins

    def dataset(self, shard: StreamShard) -> tf.data.Dataset:
        """Replica batches ({'image', 'label', 'mode', 'margins'}, label) of this pipeline's share of the stream;
        images windowed to [0, 1] (`rstn.volume_inference.windowed`, as at inference); slices of different sizes in
        one batch are zero-padded at the end (the original trains one slice per step)."""
        def load(index: tf.Tensor) -> tuple:
            image, target, mode, margins = tf.numpy_function(
                lambda i: self.load(int(i)), [index], (tf.int16, tf.uint8, tf.int32, tf.int32), stateful=False)
            image = windowed(image, self.config)
            image.set_shape([None, None, 3])
            target.set_shape([None, None, 3])
            mode.set_shape([])
            margins.set_shape([4])
            return {"image": image, "label": target, "mode": mode, "margins": margins}, target

        dataset = shard.indices().map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.padded_batch(shard.replica_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
