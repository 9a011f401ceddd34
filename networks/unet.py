"""The 3D U-Net of Payer et al. (SCN) and Thaler et al. (EfficientSCN): average pooling, linear upsampling,
the same number of filters on every level, concatenation skips, two convolutions per block."""
from __future__ import annotations

import keras
import tensorflow as tf

from networks.resize import Upsampling3D


@keras.saving.register_keras_serializable(package="networks")
class UNetAvgLinear3D(keras.layers.Layer):
    """U-Net with average pooling and trilinear upsampling (constant filters per level).

    Args:
        num_filters: filters of every convolution (32 local appearance / localization, 16 spatial).
        num_levels: resolution levels (input size must be divisible by 2 ** (num_levels - 1)).
        dropout: dropout ratio after every convolution (training only).
        leaky_relu_alpha: negative slope of the leaky ReLU activation (0.1).
        repeats: convolutions per block.
        l2: kernel L2 regularisation factor.

    Input shape: (batch, z, y, x, channels). Output shape: (batch, z, y, x, num_filters).
    """

    def __init__(self, num_filters: int = 32, num_levels: int = 5, dropout: float = 0.1,
                 leaky_relu_alpha: float = 0.1, repeats: int = 2, l2: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_filters = num_filters
        self.num_levels = num_levels
        self.dropout = dropout
        self.leaky_relu_alpha = leaky_relu_alpha
        self.repeats = repeats
        self.l2 = l2

        def block(name: str) -> list[keras.layers.Layer]:
            layers = []
            for index in range(repeats):
                layers.append(keras.layers.Conv3D(
                    num_filters, 3, padding="same", kernel_initializer="he_normal",
                    kernel_regularizer=keras.regularizers.L2(l2) if l2 > 0 else None, name=f"{name}_conv{index}"))
                layers.append(keras.layers.LeakyReLU(negative_slope=leaky_relu_alpha, name=f"{name}_act{index}"))
                layers.append(keras.layers.Dropout(dropout, name=f"{name}_dropout{index}"))
            return layers

        self.contracting = [block(f"contracting{level}") for level in range(num_levels)]
        self.expanding = [block(f"expanding{level}") for level in range(num_levels - 1)]
        self.pool = keras.layers.AveragePooling3D(2, name="downsample")
        self.upsample = Upsampling3D(2, "linear", name="upsample")

    @staticmethod
    def _apply(layers: list[keras.layers.Layer], node: tf.Tensor, training: bool | None) -> tf.Tensor:
        for layer in layers:
            node = layer(node, training=training) if isinstance(layer, keras.layers.Dropout) else layer(node)
        return node

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        skips = []
        node = inputs
        for level in range(self.num_levels):
            node = self._apply(self.contracting[level], node, training)
            if level < self.num_levels - 1:
                skips.append(node)
                node = self.pool(node)
        for level in reversed(range(self.num_levels - 1)):
            node = keras.ops.concatenate([skips[level], self.upsample(node)], axis=-1)
            node = self._apply(self.expanding[level], node, training)
        return node

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_filters,)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_filters": self.num_filters, "num_levels": self.num_levels,
                "dropout": self.dropout, "leaky_relu_alpha": self.leaky_relu_alpha, "repeats": self.repeats,
                "l2": self.l2}
