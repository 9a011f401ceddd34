"""Connected components of a boolean volume in TensorFlow (graph mode, CPU and GPU), 6-connectivity as
`scipy.ndimage.label`'s default.

Each voxel of the mask starts with its own label (its linear index + 1); every round it takes the largest label among
itself and its six neighbours in the mask, then jumps to the label that voxel carries (pointer jumping), until
nothing changes. Labels only grow and always name a voxel of the same component, so each component ends with the
label of its last voxel in C order. The rounds run on the mask's bounding box.
"""
from __future__ import annotations

import tensorflow as tf

from interactive.distance_transform import grown_box


def _neighbour_max(labels: tf.Tensor) -> tf.Tensor:
    best = labels
    for axis in range(labels.shape.rank):
        size = tf.shape(labels)[axis]
        zeros = tf.zeros_like(tf.gather(labels, [0], axis=axis))
        before = tf.concat([zeros, tf.gather(labels, tf.range(size - 1), axis=axis)], axis)
        after = tf.concat([tf.gather(labels, tf.range(1, size), axis=axis), zeros], axis)
        best = tf.maximum(best, tf.maximum(before, after))
    return best


def _label_box(mask: tf.Tensor) -> tf.Tensor:
    linear = tf.reshape(tf.range(1, tf.size(mask) + 1), tf.shape(mask))
    start = tf.where(mask, linear, 0)

    def round_(labels, _):
        grown = tf.where(mask, _neighbour_max(labels), 0)
        jumped = tf.where(mask, tf.gather(tf.concat([[0], tf.reshape(grown, [-1])], 0), grown), 0)
        return jumped, tf.reduce_any(jumped != labels)

    labels, _ = tf.while_loop(lambda labels, changed: changed, round_, (start, tf.constant(True)))
    return labels


def component_labels(mask: tf.Tensor) -> tf.Tensor:
    """int32 labels of the 6-connected components of `mask` (any rank): 0 outside the mask, and one positive value
    per component (not consecutive)."""
    mask = tf.convert_to_tensor(mask, tf.bool)

    def label() -> tf.Tensor:
        start, end = grown_box(mask)
        labels = _label_box(tf.slice(mask, start, end - start))
        return tf.pad(labels, tf.stack([start, tf.shape(mask) - end], axis=1))

    return tf.cond(tf.reduce_any(mask), label, lambda: tf.zeros(tf.shape(mask), tf.int32))


def largest_component(mask: tf.Tensor) -> tf.Tensor:
    """The largest 6-connected component of `mask` (boolean, same shape); among equally large ones, the one whose
    first voxel comes first in C order; all False for an empty mask."""
    labels = component_labels(mask)
    values, _, counts = tf.unique_with_counts(tf.boolean_mask(labels, labels > 0))
    return tf.cond(tf.size(values) > 0, lambda: tf.equal(labels, values[tf.argmax(counts, output_type=tf.int32)]),
                   lambda: tf.zeros(tf.shape(labels), tf.bool))
