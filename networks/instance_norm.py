"""Instance normalisation without affine parameters (MONAI's `InstanceNorm3d`, PyTorch's default), written so that
TensorFlow runs it as one oneDNN op on a CPU.

The values are Keras' `GroupNormalization(groups=-1, center=False, scale=False)`. Its graph (reshape into groups,
moments, five elementwise passes) took a quarter of a click-guided DynUNet window on a CPU. Grappler's remapper
replaces `tf.nn.moments` + `tf.nn.batch_normalization` with constant scale and offset, and the leaky ReLU after it,
by one `_MklFusedInstanceNorm` (about 4x faster per normalisation, and closer to a float64 reference: 5e-7 against
3e-5). Constant folding runs first, though, and removes a scale of exactly 1 and an offset of exactly 0, which
breaks the pattern: so the scale is 1 + 2^-23 (the float32 after 1) and the offset 1e-30, whose effect stays below the
computation's own float32 rounding (x * inv - mean * inv). The fusion needs a float32 policy (under mixed precision
the casts break the pattern; the values stay right); on a GPU the same ops run unfused.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

SCALE = float(np.nextafter(np.float32(1.0), np.float32(2.0)))
OFFSET = 1e-30


@keras.saving.register_keras_serializable(package="networks")
class InstanceNormalization(keras.layers.Layer):
    """Normalises each channel of each sample over its spatial axes: (x - mean) / sqrt(variance + epsilon).

    Input (batch, *spatial, channels), channels last, 2 or 3 spatial axes; no weights.
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        values = tf.cast(inputs, tf.float32)
        channels = inputs.shape[-1]
        mean, variance = tf.nn.moments(values, list(range(1, len(inputs.shape) - 1)), keepdims=True)
        normalised = tf.nn.batch_normalization(values, mean, variance, tf.constant(OFFSET, tf.float32, [channels]),
                                               tf.constant(SCALE, tf.float32, [channels]), self.epsilon)
        return tf.cast(normalised, self.compute_dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}
