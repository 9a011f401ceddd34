"""Segmentation metrics as TensorFlow ops (graph mode, CPU and GPU), with the conventions of `evaluation.metrics`
(both masks empty -> Dice 1), for computations that stay inside a SavedModel."""
from __future__ import annotations

import tensorflow as tf


def dice(prediction: tf.Tensor, reference: tf.Tensor) -> tf.Tensor:
    """float64 scalar 2 |P ∩ R| / (|P| + |R|) of two masks of the same shape (non-zero = inside); 1 when both are
    empty. Counts are exact and the division is float64, so the value equals `evaluation.metrics.dice`."""
    prediction, reference = tf.cast(prediction, tf.bool), tf.cast(reference, tf.bool)
    total = tf.cast(tf.math.count_nonzero(prediction) + tf.math.count_nonzero(reference), tf.float64)
    overlap = tf.cast(tf.math.count_nonzero(prediction & reference), tf.float64)
    return tf.where(total > 0, 2.0 * overlap / tf.maximum(total, 1.0), tf.constant(1.0, tf.float64))
