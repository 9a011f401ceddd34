"""RSTN over a whole volume, one plane at a time, as TensorFlow functions (traced into the exported SavedModels
and run eagerly by the testing stages): every stack of three adjacent slices through a network, each output
channel added to the slice it predicts, the sum divided by the number of stacks predicting the slice (the
original's `coarse_testing.py` / `coarse2fine_testing.py`).

Volumes are [z, y, x] in canonical orientation; HU in, probabilities float32 out on the same grid. A fine round
runs only on the region of the previous mask that can change its result (`fine_region`) and is 0 elsewhere, as on
the whole volume (`fine_probabilities` says how equal the region's answer is).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from preprocessing.tf_connected_components import grown_box
from rstn.config import RSTNConfig
from rstn.model import RSTN, SALIENCY_REACH
from rstn.planes import PLANE_AXES

StackFn = Callable[[tf.Tensor], tf.Tensor]
STACK_REACH = 2
"""Slices beyond the mask, along a plane's slice axis, that a fine round with slice thickness 3 reads and writes: the
stacks showing the mask reach one slice beyond it and predict one slice further (0 with slice thickness 1)."""


def windowed(volume: tf.Tensor, config: RSTNConfig) -> tf.Tensor:
    """HU clipped to the window and scaled to [0, 1] (float32)."""
    low, high = config.window_hu
    return (tf.clip_by_value(tf.cast(volume, tf.float32), low, high) - low) / (high - low)


def to_plane(volume: tf.Tensor, plane: str) -> tf.Tensor:
    """[z, y, x] -> [slice, rows, columns] of `plane` (`rstn.planes.plane_view`)."""
    return tf.transpose(volume, PLANE_AXES[plane])


def from_plane(view: tf.Tensor, plane: str) -> tf.Tensor:
    return tf.transpose(view, np.argsort(PLANE_AXES[plane]).tolist())


def _stacks(view: tf.Tensor, indices: tf.Tensor, thickness: int) -> tf.Tensor:
    """[B, rows, columns, 3] stacks around slices `indices` of a plane view (ends repeated)."""
    count = tf.shape(view)[0]
    if thickness == 1:
        neighbours = tf.stack([indices] * 3, axis=1)
    else:
        neighbours = tf.stack([tf.maximum(indices - 1, 0), indices, tf.minimum(indices + 1, count - 1)], axis=1)
    return tf.transpose(tf.gather(view, neighbours), [0, 2, 3, 1])


def _targets(indices: tf.Tensor, thickness: int) -> tf.Tensor:
    """[B, 3] rows of a buffer with one extra slice at each end that each output channel adds to: slice j - 1 + c
    plus one (thickness 3; the ends' repeated channels land on the extra slices), or only the middle channel on
    j + 1 (thickness 1; the others on row 0)."""
    if thickness == 1:
        return tf.stack([tf.zeros_like(indices), indices + 1, tf.zeros_like(indices)], axis=1)
    return tf.stack([indices, indices + 1, indices + 2], axis=1)


def plane_probabilities(views: list[tf.Tensor], stack_fn: StackFn, config: RSTNConfig, slice_batch: tf.Tensor,
                        active: tf.Tensor | None = None, counts: tf.Tensor | None = None) -> tf.Tensor:
    """Averaged probabilities [slice, rows, columns] of one plane.

    Args:
        views: plane views [slice, rows, columns] whose stacks are cut at the same slices (the image first).
        stack_fn: stacks of each view concatenated on channels [B, R, C, 3 x len(views)]
            -> probabilities [B, R, C, 3] of the three slices of each stack.
        slice_batch: stacks per call.
        active: optional bool [slice]: stacks centred on inactive slices are skipped (they add 0, as the
            original's skipped stacks; the divisor stays the number of stacks predicting a slice).
        counts: optional float32 [slice]: the divisor of each slice (default `stack_counts` of the views; views
            cut out of a volume take the volume's).
    """
    image = views[0]
    count = tf.shape(image)[0]
    indices = tf.range(count) if active is None else tf.cast(tf.where(active)[:, 0], tf.int32)
    total = tf.shape(indices)[0]
    buffer = tf.zeros(tf.concat([[count + 2], tf.shape(image)[1:]], axis=0), tf.float32)
    batch = tf.maximum(tf.cast(slice_batch, tf.int32), 1)

    def body(start: tf.Tensor, accumulated: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        chosen = indices[start:tf.minimum(start + batch, total)]
        stacks = tf.concat([_stacks(view, chosen, config.slice_thickness) for view in views], axis=-1)
        probabilities = tf.transpose(tf.cast(stack_fn(stacks), tf.float32), [0, 3, 1, 2])
        targets = tf.reshape(_targets(chosen, config.slice_thickness), [-1, 1])
        values = tf.reshape(probabilities, tf.concat([[-1], tf.shape(image)[1:]], axis=0))
        return start + batch, tf.tensor_scatter_nd_add(accumulated, targets, values)

    _, buffer = tf.while_loop(lambda start, _: start < total, body, [tf.constant(0), buffer])
    divisors = stack_counts(count, config.slice_thickness) if counts is None else counts
    return buffer[1:-1] / divisors[:, tf.newaxis, tf.newaxis]


def stack_counts(count: tf.Tensor, thickness: int) -> tf.Tensor:
    """float32 [count]: how many stacks predict each slice, the divisor of the original's average (3 inside, 2 at
    the ends with thickness 3; 1 with thickness 1). Slices whose stacks were skipped still count."""
    index = tf.range(count)
    if thickness == 1:
        return tf.ones([count], tf.float32)
    interior = tf.fill([count], 3.0)
    ends = tf.where((index == 0) | (index == count - 1), 2.0, interior)
    return tf.where(tf.equal(count, 1), tf.ones([count]), ends)


def _active_stacks(mask_view: tf.Tensor, thickness: int) -> tf.Tensor:
    """bool [slice]: stacks whose slices show some of the mask (the original skips the others)."""
    present = tf.reduce_any(mask_view > 0, axis=[1, 2])
    if thickness == 1:
        return present
    before = tf.concat([present[:1], present[:-1]], axis=0)
    after = tf.concat([present[1:], present[-1:]], axis=0)
    return present | before | after


def coarse_probabilities(volume: tf.Tensor, plane: str, network: Callable[[tf.Tensor], tf.Tensor],
                         config: RSTNConfig, slice_batch: tf.Tensor) -> tf.Tensor:
    """Coarse stage of one plane: [z, y, x] HU -> organ probabilities [z, y, x] (`network`: stacks -> logits)."""
    view = to_plane(windowed(volume, config), plane)
    probabilities = plane_probabilities([view], lambda stacks: tf.sigmoid(network(stacks)), config, slice_batch)
    return from_plane(probabilities, plane)


def model_coarse_probabilities(volume: tf.Tensor, plane: str, model: RSTN, config: RSTNConfig,
                               slice_batch: tf.Tensor) -> tf.Tensor:
    """`coarse_probabilities` of `model`'s coarse network in inference mode."""
    return coarse_probabilities(volume, plane, lambda stacks: model.coarse(stacks, training=False), config,
                                slice_batch)


def fine_growth(plane: str, config: RSTNConfig) -> list[int]:
    """Voxels per axis [z, y, x] by which a fine round of `plane` grows the previous mask's box (`fine_region`):
    `STACK_REACH` (2) along the plane's slice axis (0 with slice thickness 1), in-plane the crop margin plus the
    saliency module's reach (`SALIENCY_REACH`: the saliency at the edge of a stack's box sees 3 more pixels)."""
    growth = [config.crop_margin + SALIENCY_REACH] * 3
    growth[PLANE_AXES[plane][0]] = STACK_REACH if config.slice_thickness == 3 else 0
    return growth


def fine_region(mask: tf.Tensor, plane: str, config: RSTNConfig) -> tuple[tf.Tensor, tf.Tensor]:
    """int32 start and end (exclusive) [z, y, x] of the part of the volume that one fine round of `plane` reads
    and writes, from a non-empty boolean `mask` [z, y, x]: the mask's box grown by `fine_growth`, clipped to the
    volume."""
    return grown_box(mask, fine_growth(plane, config))


def fine_in_box(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor, plane: str, model: RSTN, config: RSTNConfig,
                slice_batch: tf.Tensor, start: tf.Tensor, end: tf.Tensor) -> tf.Tensor:
    """One fine round of one plane (the original's TEST 'F') on the box [start, end) of the volume ([z, y, x]
    voxels; the whole volume or a `fine_region`): per stack, the saliency of the previous round's fused
    probabilities `score` times the image, cropped to the box of `mask` (previous round) plus the margin, through
    the fine network and pasted back; stacks without mask are skipped; each slice divided by the number of the
    volume's stacks predicting it. Each stack has its own box, as the original tests one stack at a time, so
    `slice_batch` does not change the result. Returns the box's probabilities [z, y, x]."""
    box = [tf.slice(tensor, start, end - start) for tensor in (volume, score, mask)]
    views = [to_plane(part, plane) for part in (windowed(box[0], config), tf.cast(box[1], tf.float32),
                                                tf.cast(box[2], tf.float32))]
    axis = PLANE_AXES[plane][0]
    counts = stack_counts(tf.shape(volume)[axis], config.slice_thickness)[start[axis]:end[axis]]
    margins = tf.fill([4], config.crop_margin)

    def stack_fn(stacks: tf.Tensor) -> tf.Tensor:
        image, saliency_input, box_mask = tf.split(stacks, 3, axis=-1)
        return tf.sigmoid(model.fine_logits_per_stack(image, saliency_input, box_mask >= 0.5, margins))

    active = _active_stacks(views[2], config.slice_thickness)
    return from_plane(plane_probabilities(views, stack_fn, config, slice_batch, active, counts), plane)


def fine_probabilities(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor, plane: str, model: RSTN,
                       config: RSTNConfig, slice_batch: tf.Tensor,
                       box: tuple[tf.Tensor, tf.Tensor] | None = None) -> tf.Tensor:
    """One fine round of one plane (`fine_in_box`) on the `fine_region` of `mask` (uint8 [z, y, x], the previous
    round), 0 elsewhere: the probabilities [z, y, x] of `box` (int32 start and end [z, y, x], holding the region;
    default the whole volume) at the cost of the region. Bit-exact on CPU with TensorFlow's own kernels
    (`TF_ENABLE_ONEDNN_OPTS=0`; checked on the cases of tests/rstn/test_volume_inference.py); with oneDNN,
    TensorFlow's default on x86 CPUs, within 1e-6 (tested: the saliency convolution runs on a smaller image, whose
    summation order oneDNN may choose otherwise; one voxel came out 6e-8 apart). On GPU, convolution algorithms
    chosen per shape can differ in the last bits (unverified here)."""
    present = tf.cast(mask, tf.bool)
    box_start, box_end = box if box is not None else (tf.zeros([3], tf.int32), tf.shape(present))

    def on_region() -> tf.Tensor:
        start, end = fine_region(present, plane, config)
        probabilities = fine_in_box(volume, score, mask, plane, model, config, slice_batch, start, end)
        return tf.pad(probabilities, tf.stack([start - box_start, box_end - end], axis=1))

    return tf.cond(tf.reduce_any(present), on_region, lambda: tf.zeros(box_end - box_start, tf.float32))


def oracle_probabilities(volume: tf.Tensor, label: tf.Tensor, plane: str, model: RSTN, config: RSTNConfig,
                         slice_batch: tf.Tensor) -> tf.Tensor:
    """Oracle testing of one plane (the original's TEST 'O'): the fine stage with the box of the ground truth
    `label` (organ mask) and the saliency of the stack's own coarse output; stacks without label are skipped;
    each stack has its own box."""
    views = [to_plane(windowed(volume, config), plane), to_plane(tf.cast(label, tf.float32), plane)]
    margins = tf.fill([4], config.crop_margin)

    def stack_fn(stacks: tf.Tensor) -> tf.Tensor:
        image, box_mask = tf.split(stacks, 2, axis=-1)
        coarse = tf.sigmoid(model.coarse(image))
        return tf.sigmoid(model.fine_logits_per_stack(image, coarse, box_mask >= 0.5, margins))

    active = _active_stacks(views[1], config.slice_thickness)
    return from_plane(plane_probabilities(views, stack_fn, config, slice_batch, active), plane)
