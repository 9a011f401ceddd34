"""Segmentation losses on channels-last tensors [batch, *spatial, labels] (float32 math)."""
from __future__ import annotations

import tensorflow as tf


def generalized_dice_loss(labels: tf.Tensor, probabilities: tf.Tensor, epsilon: float = 1e-6) -> tf.Tensor:
    """Generalized Dice loss (Sudre et al. 2017): label weights 1 / (reference volume)^2, per batch element.

    Args:
        labels: one-hot reference [B, *spatial, L].
        probabilities: predicted probabilities [B, *spatial, L].
    """
    labels = tf.cast(labels, tf.float32)
    probabilities = tf.cast(probabilities, tf.float32)
    axes = list(range(1, len(labels.shape) - 1))
    reference = tf.reduce_sum(labels, axis=axes)
    weights = 1.0 / (reference ** 2 + epsilon)
    weights = tf.where(tf.math.is_finite(weights), weights, 0.0)
    intersection = tf.reduce_sum(weights * tf.reduce_sum(labels * probabilities, axis=axes), axis=-1)
    union = tf.reduce_sum(weights * tf.reduce_sum(labels + probabilities, axis=axes), axis=-1)
    return tf.reduce_mean(1.0 - 2.0 * (intersection + epsilon) / (union + epsilon))


def sigmoid_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean per-voxel, per-label sigmoid cross-entropy."""
    labels, logits = tf.cast(labels, tf.float32), tf.cast(logits, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


def dice_per_label(labels: tf.Tensor, probabilities: tf.Tensor, epsilon: float = 1e-6) -> tf.Tensor:
    """Soft Dice per label [L], summed over batch and space."""
    labels = tf.cast(labels, tf.float32)
    probabilities = tf.cast(probabilities, tf.float32)
    axes = list(range(len(labels.shape) - 1))
    intersection = tf.reduce_sum(labels * probabilities, axis=axes)
    return (2.0 * intersection + epsilon) / (tf.reduce_sum(labels + probabilities, axis=axes) + epsilon)
