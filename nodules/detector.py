"""The DeepLung 3D Res18 nodule detector as a Keras 3 model (detector/res18.py; its residual block is grt123's
PostRes): an encoder-decoder on a 1 mm CT crop that predicts, on a grid 4x coarser, a score and a box per anchor.

- pre-block: two 3^3 convolutions (24 filters), each with batch normalisation and ReLU, at full resolution;
- encoder: four 2^3 max-poolings, each followed by a group of residual blocks (32, 64, 64, 64 filters; 2, 2, 3, 3
  blocks); a residual block is conv 3^3 - BN - ReLU - conv 3^3 - BN, plus (where the filters change) a 1^3
  conv - BN shortcut, then ReLU;
- decoder: transposed convolution (kernel 2, stride 2) - BN - ReLU back to stride 8, concatenation with the
  encoder's stride-8 features, three residual blocks (64); again to stride 4, concatenation with the stride-4
  features and the 3 coordinate channels (the crop's position in its scan, each in [-0.5, 0.5]), three residual
  blocks (128);
- head: channel dropout (0.5), 1^3 conv (64) - ReLU, 1^3 conv to 5 values per anchor.

Inputs: `image` (batch, z, y, x, 1), sides a multiple of 16; `coord` (batch, z/4, y/4, x/4, 3). Output
(batch, z/4, y/4, x/4, anchors, 5): logit, dz, dy, dx, log-size (`nodules.anchors` decodes them), float32.
Batch normalisation as PyTorch's defaults (momentum 0.1, epsilon 1e-5). SGD's weight decay (PyTorch's, added to
every parameter's gradient) is an L2 penalty of weight_decay / 2 on every kernel, bias and BN scale and offset.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from nodules.config import DetectorConfig

BN_MOMENTUM = 0.9  # Keras' moving-average weight: PyTorch's momentum 0.1
BN_EPSILON = 1e-5


class _Layers:
    """Layer factories sharing the weight-decay penalty."""

    def __init__(self, weight_decay: float):
        self.penalty = keras.regularizers.L2(weight_decay / 2) if weight_decay else None

    def conv(self, filters: int, kernel: int, name: str, **kwargs) -> keras.layers.Layer:
        return keras.layers.Conv3D(filters, kernel, kernel_regularizer=self.penalty, bias_regularizer=self.penalty,
                                   name=name, **kwargs)

    def up(self, filters: int, name: str) -> keras.layers.Layer:
        return keras.layers.Conv3DTranspose(filters, 2, strides=2, kernel_regularizer=self.penalty,
                                            bias_regularizer=self.penalty, name=name)

    def bn(self, name: str) -> keras.layers.Layer:
        return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                               gamma_regularizer=self.penalty, beta_regularizer=self.penalty,
                                               name=name)


def _conv_bn_relu(layers: _Layers, node: tf.Tensor, filters: int, name: str) -> tf.Tensor:
    node = layers.conv(filters, 3, f"{name}_conv", padding="same")(node)
    return keras.layers.ReLU(name=f"{name}_relu")(layers.bn(f"{name}_bn")(node))


def post_res(layers: _Layers, node: tf.Tensor, filters: int, name: str) -> tf.Tensor:
    """grt123's PostRes residual block (stride 1)."""
    out = _conv_bn_relu(layers, node, filters, f"{name}_1")
    out = layers.bn(f"{name}_2_bn")(layers.conv(filters, 3, f"{name}_2_conv", padding="same")(out))
    if node.shape[-1] != filters:
        node = layers.bn(f"{name}_shortcut_bn")(layers.conv(filters, 1, f"{name}_shortcut_conv")(node))
    return keras.layers.ReLU(name=f"{name}_relu")(keras.layers.Add(name=f"{name}_add")([out, node]))


def _group(layers: _Layers, node: tf.Tensor, filters: int, blocks: int, name: str) -> tf.Tensor:
    for index in range(blocks):
        node = post_res(layers, node, filters, f"{name}_{index + 1}")
    return node


def _up(layers: _Layers, node: tf.Tensor, filters: int, name: str) -> tf.Tensor:
    node = layers.bn(f"{name}_bn")(layers.up(filters, f"{name}_conv")(node))
    return keras.layers.ReLU(name=f"{name}_relu")(node)


class PerAnchor(keras.layers.Layer):
    """Splits the last axis (anchors x 5) into (anchors, 5)."""

    def __init__(self, anchors: int, **kwargs):
        super().__init__(**kwargs)
        self.anchors = anchors

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.reshape(inputs, tf.concat([tf.shape(inputs)[:4], [self.anchors, 5]], axis=0))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:4]) + (self.anchors, 5)

    def get_config(self) -> dict:
        return {**super().get_config(), "anchors": self.anchors}


def build_detector(config: DetectorConfig) -> keras.Model:
    """The detector network of `config` (float32 outputs under any precision policy)."""
    layers = _Layers(config.weight_decay)
    image = keras.Input((None, None, None, 1), name="image")
    coord = keras.Input((None, None, None, 3), name="coord")
    node = _conv_bn_relu(layers, _conv_bn_relu(layers, image, config.filters_pre, "pre_1"), config.filters_pre,
                         "pre_2")
    skips = []
    for level, (filters, blocks) in enumerate(zip(config.filters_forward, config.blocks_forward), start=1):
        node = keras.layers.MaxPooling3D(2, name=f"pool{level}")(node)
        node = _group(layers, node, filters, blocks, f"forw{level}")
        skips.append(node)
    node = _up(layers, node, config.filters_forward[-1], "path1")
    node = keras.layers.Concatenate(name="comb3_concat")([node, skips[2]])
    node = _group(layers, node, config.filters_backward[1], config.blocks_backward[1], "back3")
    node = _up(layers, node, config.filters_backward[1], "path2")
    node = keras.layers.Concatenate(name="comb2_concat")([node, skips[1], coord])
    node = _group(layers, node, config.filters_backward[0], config.blocks_backward[0], "back2")
    node = keras.layers.SpatialDropout3D(config.dropout, name="drop")(node)
    node = layers.conv(config.head_filters, 1, "head", activation="relu")(node)
    anchors = len(config.anchors_mm)
    bias = np.zeros((anchors, 5), np.float32)
    if config.prior_probability > 0.0:
        bias[:, 0] = np.log(config.prior_probability / (1.0 - config.prior_probability))
    node = layers.conv(5 * anchors, 1, "output", dtype="float32",
                       bias_initializer=keras.initializers.Constant(bias.reshape(-1)))(node)
    output = PerAnchor(anchors, dtype="float32", name="per_anchor")(node)
    return keras.Model({"image": image, "coord": coord}, output, name="deeplung_res18")
