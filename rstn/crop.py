"""The fine stage's region: the box of a mask plus margins, cropped out of a slice stack and pasted back.

Tensors are channels-last slice stacks [batch, rows, columns, channels]. Margins are pixels
(rows before, rows after, columns before, columns after), the original's (left, right, top, bottom).
As in the original (`RSTN.crop` / `RSTN.uncrop`), one box covers the whole batch (the union of the samples'
masks, clipped to the image), each sample is zeroed outside its own box, and the fine output is pasted into a
canvas of -9999999 logits, so its probability is 0 outside the box.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf

OUTSIDE_LOGIT = -9999999.0


def _extent(present: tf.Tensor, before: tf.Tensor, after: tf.Tensor, size: tf.Tensor) -> tf.Tensor:
    """[start, stop) of the True entries of a 1D mask grown by `before` / `after` and clipped to [0, size)."""
    indices = tf.cast(tf.where(present)[:, 0], tf.int32)
    first, last = tf.reduce_min(indices), tf.reduce_max(indices)
    return tf.stack([tf.maximum(first - before, 0), tf.minimum(last + after + 1, size)])


def mask_box(mask: tf.Tensor, margins: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(box int32 [4] = row start, row stop, column start, column stop; found bool) of the True pixels of
    `mask` [B, R, C, K] over all samples and channels, grown by `margins` and clipped. An empty mask gives the
    whole image and found = False."""
    shape = tf.shape(mask)
    rows = tf.reduce_any(mask, axis=[0, 2, 3])
    columns = tf.reduce_any(mask, axis=[0, 1, 3])
    found = tf.reduce_any(rows)
    margins = tf.cast(margins, tf.int32)
    box = tf.cond(found,
                  lambda: tf.concat([_extent(rows, margins[0], margins[1], shape[1]),
                                     _extent(columns, margins[2], margins[3], shape[2])], axis=0),
                  lambda: tf.stack([0, shape[1], 0, shape[2]]))
    return box, found


def sample_box_masks(mask: tf.Tensor, margins: tf.Tensor) -> tf.Tensor:
    """float32 [B, R, C, 1]: 1 inside each sample's own box (`mask_box` of that sample), 0 elsewhere."""
    def one(sample: tf.Tensor) -> tf.Tensor:
        box, _ = mask_box(sample[tf.newaxis], margins)
        rows = tf.range(tf.shape(sample)[0])
        columns = tf.range(tf.shape(sample)[1])
        inside_rows = (rows >= box[0]) & (rows < box[1])
        inside_columns = (columns >= box[2]) & (columns < box[3])
        return tf.cast(inside_rows[:, tf.newaxis, tf.newaxis] & inside_columns[tf.newaxis, :, tf.newaxis],
                       tf.float32)
    return tf.map_fn(one, mask, fn_output_signature=tf.TensorSpec([None, None, 1], tf.float32))


def crop(stack: tf.Tensor, box: tf.Tensor) -> tf.Tensor:
    """stack[:, box rows, box columns, :]."""
    return stack[:, box[0]:box[1], box[2]:box[3], :]


def uncrop(cropped: tf.Tensor, box: tf.Tensor, rows: tf.Tensor, columns: tf.Tensor) -> tf.Tensor:
    """`cropped` logits pasted at `box` into a [B, rows, columns, K] canvas of OUTSIDE_LOGIT."""
    padding = [[0, 0], [box[0], rows - box[1]], [box[2], columns - box[3]], [0, 0]]
    return tf.pad(cropped, padding, constant_values=OUTSIDE_LOGIT)


def training_margins(rng: np.random.Generator, margin: int, random_probability: float) -> np.ndarray:
    """int32 [4] margins of one training step, as the original's `update_margin` with a batch of one: with
    probability `random_probability` each margin is uniform in 0..2 x margin, else all four are `margin`."""
    if rng.random() < random_probability:
        return rng.integers(0, 2 * margin + 1, size=4).astype(np.int32)
    return np.full(4, margin, np.int32)
