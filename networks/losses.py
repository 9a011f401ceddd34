"""Segmentation losses on channels-last tensors [batch, *spatial, labels] (float32 math)."""
from __future__ import annotations

import tensorflow as tf


def generalized_dice_loss(labels: tf.Tensor, probabilities: tf.Tensor, squared: bool = True,
                          weight_epsilon: float = 1e-4, epsilon: float = 1e-8) -> tf.Tensor:
    """Generalized Dice loss (Sudre et al. 2017) as MedicalDataAugmentationTool's `generalized_dice_loss`
    computes it, the loss of the original EfficientSCN.

    Per batch element b: w_l = 1 / ((sum_x t_bl)^2 + weight_epsilon);
    loss_b = 1 - 2 (sum_l w_l sum_x t p + epsilon) / (sum_l w_l sum_x (t + p^2) + epsilon) with `squared`
    (the original's default), (t + p) otherwise; the result is the mean over the batch.

    Args:
        labels: one-hot reference [B, *spatial, L].
        probabilities: predicted probabilities [B, *spatial, L].
    """
    labels = tf.cast(labels, tf.float32)
    probabilities = tf.cast(probabilities, tf.float32)
    axes = list(range(1, len(labels.shape) - 1))
    weights = 1.0 / (tf.reduce_sum(labels, axis=axes) ** 2 + weight_epsilon)
    intersection = tf.reduce_sum(weights * tf.reduce_sum(labels * probabilities, axis=axes), axis=-1)
    predicted = probabilities ** 2 if squared else probabilities
    union = tf.reduce_sum(weights * tf.reduce_sum(labels + predicted, axis=axes), axis=-1)
    return tf.reduce_mean(1.0 - 2.0 * (intersection + epsilon) / (union + epsilon))


def sigmoid_cross_entropy(labels: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Mean per-voxel, per-label sigmoid cross-entropy."""
    labels, logits = tf.cast(labels, tf.float32), tf.cast(logits, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))


def dice_per_image(labels: tf.Tensor, probabilities: tf.Tensor, squared: bool = True,
                   epsilon: float = 1e-7) -> tf.Tensor:
    """Soft Dice per image and channel [B, C] as CFCM-2D's `dice` (`cfcm/layers/losses.py`):
    2 sum(t p) / sum(t^2 + p^2) + epsilon over the spatial axes (`squared`; t + p otherwise), the epsilon
    added after the division as the original does.

    Args:
        labels, probabilities: [B, *spatial, C].
    """
    labels = tf.cast(labels, tf.float32)
    probabilities = tf.cast(probabilities, tf.float32)
    axes = list(range(1, len(labels.shape) - 1))
    denominator = labels ** 2 + probabilities ** 2 if squared else labels + probabilities
    return 2.0 * tf.reduce_sum(labels * probabilities, axis=axes) / tf.reduce_sum(denominator, axis=axes) + epsilon


def dice_ce_loss(labels: tf.Tensor, logits: tf.Tensor, squared: bool = True, include_background: bool = True,
                 smooth: float = 1e-5) -> tf.Tensor:
    """MONAI's DiceCELoss(to_onehot_y=True, softmax=True): mean softmax cross-entropy over the voxels plus the soft
    Dice loss 1 - (2 sum(t p) + smooth) / (sum(t^2 or t) + sum(p^2 or p) + smooth), per image and class, averaged
    over both (`include_background`: class 0 counts; `squared`: the squared_pred denominator).

    Args:
        labels: class indices [B, *spatial] (int).
        logits: [B, *spatial, C].
    """
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    cross_entropy = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
    probabilities = tf.nn.softmax(logits)
    onehot = tf.one_hot(labels, tf.shape(logits)[-1], dtype=tf.float32)
    if not include_background:
        probabilities, onehot = probabilities[..., 1:], onehot[..., 1:]
    axes = list(range(1, len(logits.shape) - 1))
    intersection = tf.reduce_sum(onehot * probabilities, axis=axes)
    predicted = probabilities ** 2 if squared else probabilities
    denominator = tf.reduce_sum(onehot, axis=axes) + tf.reduce_sum(predicted, axis=axes)
    dice = 1.0 - (2.0 * intersection + smooth) / (denominator + smooth)
    return tf.reduce_mean(dice) + cross_entropy
