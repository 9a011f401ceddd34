"""The network over a volume by sliding windows in TensorFlow (differentiable: the original also trains through
its sliding-window inferer): windows of `roi` with `overlap`, run as one batch, their logits blended with Gaussian
weights (as MONAI's SlidingWindowInferer blends the network's outputs). Shapes are static: the volume is at least
`roi` along every axis (training crops are padded to their size)."""
from __future__ import annotations

import itertools
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from inference.sliding_window import gaussian_weights, window_starts


def windowed_logits(model: keras.Model, volume: tf.Tensor, roi: Sequence[int], overlap: float,
                    training: bool = False) -> tf.Tensor:
    """Blended logits [batch, z, y, x, classes] of `model` over `volume` [batch, z, y, x, channels] (static shape,
    each spatial axis >= its `roi`). With `roi` covering the volume this is one plain call of the model."""
    batch = int(volume.shape[0])
    shape = tuple(int(n) for n in volume.shape[1:4])
    roi = tuple(min(int(r), n) for r, n in zip(roi, shape))
    if roi == shape:
        return tf.cast(model(volume, training=training), tf.float32)
    starts = list(itertools.product(*[window_starts(n, r, overlap) for n, r in zip(shape, roi)]))
    windows = tf.concat([volume[:, z:z + roi[0], y:y + roi[1], x:x + roi[2]] for z, y, x in starts], axis=0)
    outputs = tf.cast(model(windows, training=training), tf.float32)
    weight = gaussian_weights(roi)
    weights = tf.constant(weight[..., None])
    blended, total = 0.0, np.zeros(shape, np.float32)
    for index, start in enumerate(starts):
        padding = [(0, 0)] + [(s, n - s - r) for s, n, r in zip(start, shape, roi)] + [(0, 0)]
        blended = blended + tf.pad(outputs[index * batch:(index + 1) * batch] * weights, padding)
        total[tuple(slice(s, s + r) for s, r in zip(start, roi))] += weight
    return blended / tf.constant(total[None, ..., None])
