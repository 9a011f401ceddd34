"""The DeepLung / grt123 detector loss in TensorFlow: binary cross-entropy on the positive anchors and on the
hardest negatives, plus smooth L1 (beta 1) on each of the positives' four box values."""
from __future__ import annotations

import tensorflow as tf


def _mean(values: tf.Tensor) -> tf.Tensor:
    """Mean of a 1-D tensor; 0 when it is empty."""
    return tf.reduce_sum(values) / tf.maximum(tf.cast(tf.size(values), values.dtype), 1.0)


def _smooth_l1(difference: tf.Tensor) -> tf.Tensor:
    magnitude = tf.abs(difference)
    return tf.where(magnitude < 1.0, 0.5 * magnitude ** 2, magnitude - 0.5)


def detection_loss(labels: tf.Tensor, outputs: tf.Tensor, num_hard: int | None) -> dict[str, tf.Tensor]:
    """Loss terms of a batch.

    Args:
        labels: (batch, z, y, x, anchors, 5) from `nodules.anchors.detection_labels` (score 1 / -1 / 0).
        outputs: the network's outputs, same shape (logit, dz, dy, dx, log-size).
        num_hard: negatives kept per crop, the highest-scoring (None: all, as in validation).

    Returns:
        {"loss_classify": 0.5 BCE(positives) + 0.5 BCE(hard negatives), "loss_regress_z", "loss_regress_y",
        "loss_regress_x", "loss_regress_d"}: means over the anchors concerned (0 where there are none); the loss
        is their sum.
    """
    batch = tf.shape(labels)[0]
    labels = tf.reshape(tf.cast(labels, tf.float32), [-1, 5])
    outputs = tf.reshape(tf.cast(outputs, tf.float32), [-1, 5])
    negatives = tf.boolean_mask(outputs[:, 0], labels[:, 0] < -0.5)
    if num_hard is not None:
        negatives = tf.math.top_k(negatives, tf.minimum(num_hard * batch, tf.size(negatives))).values
    positive = labels[:, 0] > 0.5
    positive_outputs = tf.boolean_mask(outputs, positive)
    positive_labels = tf.boolean_mask(labels, positive)
    terms = {
        "loss_classify": 0.5 * _mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(positive_outputs[:, 0]),
                                                                         positive_outputs[:, 0]))
        + 0.5 * _mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(negatives), negatives)),
    }
    for index, name in enumerate(("z", "y", "x", "d"), start=1):
        terms[f"loss_regress_{name}"] = _mean(_smooth_l1(positive_outputs[:, index] - positive_labels[:, index]))
    return terms
