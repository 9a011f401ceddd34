"""Separable trilinear / tricubic resizing of 5D tensors [batch, z, y, x, channels] by integer factors.

`tf.image.resize` works on two spatial axes; a 3D resize is done as a resize of (y, x) followed by a
resize of (z, x) with x unchanged. Half-pixel centres: output voxel j samples input (j + 0.5) / f - 0.5.
Cubic uses Keys' kernel (a = -0.5), as TensorFlow's 'bicubic'.
"""
from __future__ import annotations

import keras
import tensorflow as tf


def resize_3d(volume: tf.Tensor, size: tf.Tensor, method: str = "bilinear") -> tf.Tensor:
    """Resizes [B, Z, Y, X, C] to [B, size[0], size[1], size[2], C] with 'bilinear' (= trilinear) or 'bicubic'."""
    shape = tf.shape(volume)
    batch, depth, channels = shape[0], shape[1], shape[4]
    size = tf.cast(size, tf.int32)
    planes = tf.reshape(volume, tf.stack([batch * depth, shape[2], shape[3], channels]))
    planes = tf.image.resize(planes, size[1:], method=method)
    planes = tf.reshape(planes, tf.stack([batch, depth, size[1], size[2], channels]))
    columns = tf.reshape(tf.transpose(planes, [0, 2, 1, 3, 4]), tf.stack([batch * size[1], depth, size[2], channels]))
    columns = tf.image.resize(columns, tf.stack([size[0], size[2]]), method=method)
    out = tf.transpose(tf.reshape(columns, tf.stack([batch, size[1], size[0], size[2], channels])), [0, 2, 1, 3, 4])
    return tf.cast(out, volume.dtype)


@keras.saving.register_keras_serializable(package="networks")
class Upsampling3D(keras.layers.Layer):
    """Upsamples [B, Z, Y, X, C] by an integer factor per axis with trilinear or tricubic interpolation.

    Args:
        factor: upsampling factor (int or 3 ints, z-y-x).
        method: 'linear' or 'cubic'.

    Input shape: (batch, z, y, x, channels). Output shape: (batch, z*f, y*f, x*f, channels).

    Example: `Upsampling3D(4, "cubic")(tf.zeros([1, 8, 8, 8, 5])).shape == (1, 32, 32, 32, 5)`.
    """

    def __init__(self, factor: int | tuple[int, int, int] = 2, method: str = "linear", **kwargs):
        super().__init__(**kwargs)
        self.factor = (factor,) * 3 if isinstance(factor, int) else tuple(factor)
        if method not in ("linear", "cubic"):
            raise ValueError(f"method must be 'linear' or 'cubic', not {method!r}")
        self.method = method

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        size = tf.shape(inputs)[1:4] * tf.constant(self.factor, tf.int32)
        return resize_3d(inputs, size, "bilinear" if self.method == "linear" else "bicubic")

    def compute_output_shape(self, input_shape):
        spatial = [None if s is None else s * f for s, f in zip(input_shape[1:4], self.factor)]
        return (input_shape[0], *spatial, input_shape[4])

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor, "method": self.method}
