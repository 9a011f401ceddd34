"""CFCM: ResNet encoder whose residual-block outputs feed a convolutional LSTM memory from the coarsest
level to the finest; the memory's final state is decoded to the segmentation at full resolution.

Channels-last 2D tensors [batch, y, x, channels]. Layers as CFCM-2D builds them with TF-slim defaults
(`cfcm/zoo/tf_resnet.py`): every convolution with Xavier (Glorot uniform) weights and a bias, batch
normalisation without scale (gamma), epsilon 0.001, decay `CFCMConfig.batch_norm_decay` (slim's 0.999);
transposed convolutions followed by ReLU.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from cfcm.config import RESNET_BLOCKS, CFCMConfig


def slim_conv(filters: int, kernel_size: int, name: str) -> keras.layers.Conv2D:
    """A convolution as TF-slim's `conv2d` default: Glorot uniform weights, zero-initialised bias, 'same'."""
    return keras.layers.Conv2D(filters, kernel_size, padding="same", kernel_initializer="glorot_uniform", name=name)


def slim_transposed_conv(filters: int, name: str) -> keras.layers.Conv2DTranspose:
    """TF-slim's `conv2d_transpose` (kernel 2, stride 2) with its default ReLU, Glorot weights and bias."""
    return keras.layers.Conv2DTranspose(filters, 2, strides=2, activation="relu", kernel_initializer="glorot_uniform",
                                        name=name)


def slim_batch_norm(decay: float, name: str) -> keras.layers.BatchNormalization:
    """TF-slim's `batch_norm` default: no scale (gamma), epsilon 0.001; moving statistics with `decay`."""
    return keras.layers.BatchNormalization(momentum=decay, epsilon=0.001, scale=False, name=name)


@keras.saving.register_keras_serializable(package="cfcm")
class PreActivationBlock(keras.layers.Layer):
    """ResNet v2 residual block: BN-ReLU-conv3x3-BN-ReLU-conv3x3 (basic) or the 1x1-3x3-1x1 bottleneck
    (4x expansion). With `projection` (the first block of every level in the original, whatever the channels)
    the shortcut is a 1x1 convolution of the activated input, else the input itself.

    Input (B, Y, X, C) -> output (B, Y, X, filters) (basic) or (B, Y, X, 4 * filters) (bottleneck).
    """

    def __init__(self, filters: int, bottleneck: bool = False, projection: bool = False,
                 batch_norm_decay: float = 0.999, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.bottleneck = bottleneck
        self.batch_norm_decay = batch_norm_decay
        self.out_channels = 4 * filters if bottleneck else filters
        kernels = (1, 3, 1) if bottleneck else (3, 3)
        widths = (filters, filters, 4 * filters) if bottleneck else (filters, filters)
        self.norms = [slim_batch_norm(batch_norm_decay, f"bn{i}") for i in range(len(kernels))]
        self.convs = [slim_conv(w, k, f"conv{i}") for i, (w, k) in enumerate(zip(widths, kernels))]
        self.projection = slim_conv(self.out_channels, 1, "projection") if projection else None

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        node = keras.ops.relu(self.norms[0](inputs, training=training))
        shortcut = inputs if self.projection is None else self.projection(node)
        for index, conv in enumerate(self.convs):
            if index > 0:
                node = keras.ops.relu(self.norms[index](node, training=training))
            node = conv(node)
        return node + shortcut

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "bottleneck": self.bottleneck,
                "projection": self.projection is not None, "batch_norm_decay": self.batch_norm_decay}


@keras.saving.register_keras_serializable(package="cfcm")
class ConvLSTMCell2D(keras.layers.Layer):
    """Convolutional LSTM cell (one step) whose state is the concatenation [c, h] along channels.

    gates = conv3x3([x, h]) -> i, j, f, o; c' = c * sigmoid(f + forget_bias) + sigmoid(i) * act(j);
    h' = act(c') * sigmoid(o), with act = ReLU by default as in the original CFCM cell.
    Keeping [c, h] in one tensor lets a transposed convolution hand the whole state to the next, finer
    level of the memory.

    Call: (x (B, Y, X, Cx), state (B, Y, X, 2 * features)) -> (h' (B, Y, X, features), state').
    """

    def __init__(self, features: int, kernel_size: int = 3, activation: str = "relu", forget_bias: float = 1.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.features = features
        self.kernel_size = kernel_size
        self.activation_name = activation
        self.forget_bias = forget_bias
        self.activation = keras.activations.get(activation)
        self.gates = slim_conv(4 * features, kernel_size, "gates")

    def call(self, inputs: tf.Tensor, state: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        cell, hidden = tf.split(state, 2, axis=-1)
        i, j, f, o = tf.split(self.gates(tf.concat([inputs, hidden], axis=-1)), 4, axis=-1)
        cell = cell * tf.sigmoid(f + self.forget_bias) + tf.sigmoid(i) * self.activation(j)
        hidden = self.activation(cell) * tf.sigmoid(o)
        return hidden, tf.concat([cell, hidden], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "features": self.features, "kernel_size": self.kernel_size,
                "activation": self.activation_name, "forget_bias": self.forget_bias}


def level_filters(config: CFCMConfig) -> list[int]:
    """Output channels of the four encoder levels."""
    kind, _ = RESNET_BLOCKS[config.resnet_depth]
    per_block = config.base_filters // 4 if kind == "bottleneck" else config.base_filters
    factor = 4 if kind == "bottleneck" else 1
    return [per_block * 2 ** level * factor for level in range(4)]


def encoder(image: tf.Tensor, config: CFCMConfig) -> list[list[tf.Tensor]]:
    """The residual blocks' outputs per level as the memory reads them, finest level first; each level halves
    the size. As the original's `block_layer_compressing`: the first block's output as it is, the others after
    a ReLU; the first block of each level has a projection shortcut."""
    kind, blocks = RESNET_BLOCKS[config.resnet_depth]
    per_block = config.base_filters // 4 if kind == "bottleneck" else config.base_filters
    node = slim_conv(level_filters(config)[0], 7, "stem")(image)
    levels = []
    for level, count in enumerate(blocks):
        node = keras.layers.MaxPooling2D(2, padding="same", name=f"pool{level}")(node)
        outputs = []
        for block in range(count):
            node = PreActivationBlock(per_block * 2 ** level, kind == "bottleneck", projection=block == 0,
                                      batch_norm_decay=config.batch_norm_decay, name=f"encoder{level}_{block}")(node)
            outputs.append(node if block == 0 else keras.layers.ReLU(name=f"encoder{level}_{block}_relu")(node))
        levels.append(outputs)
    return levels


def memory_decoder(levels: list[list[tf.Tensor]], config: CFCMConfig) -> tf.Tensor:
    """Runs one ConvLSTM per level over that level's block outputs, coarsest level first; the state is
    upsampled (transposed conv, stride 2) to start the next finer level. Returns the last hidden state
    upsampled to the input resolution."""
    filters = level_filters(config)
    state = keras.ops.zeros_like(keras.ops.concatenate([levels[-1][0], levels[-1][0]], axis=-1))
    hidden = None
    for level in reversed(range(len(levels))):
        cell = ConvLSTMCell2D(filters[level], activation=config.memory_activation, name=f"memory{level}")
        for step in levels[level]:
            hidden, state = cell(step, state)
        if level > 0:
            state = slim_transposed_conv(2 * filters[level - 1], f"memory_up{level}")(state)
    return slim_transposed_conv(filters[0], "memory_up0")(hidden)


def resnet_decoder(levels: list[list[tf.Tensor]], config: CFCMConfig) -> tf.Tensor:
    """The 'ResNet' ablation: an expanding path of residual blocks, each fed the matching encoder block's
    output (concatenated, deepest block first), with transposed-conv upsampling between levels."""
    kind, _ = RESNET_BLOCKS[config.resnet_depth]
    filters = level_filters(config)
    node = levels[-1][-1]
    for level in reversed(range(len(levels))):
        skips = levels[level][::-1]
        per_block = filters[level] // 4 if kind == "bottleneck" else filters[level]
        for index, skip in enumerate(skips):
            if index > 0 or level < len(levels) - 1:
                node = keras.layers.Concatenate(name=f"decoder{level}_{index}_concat")([node, skip])
            node = PreActivationBlock(per_block, kind == "bottleneck", projection=True,
                                      batch_norm_decay=config.batch_norm_decay, name=f"decoder{level}_{index}")(node)
        target = filters[level - 1] if level > 0 else filters[0]
        node = slim_transposed_conv(target, f"decoder_up{level}")(node)
    return node


def build_cfcm_model(config: CFCMConfig = CFCMConfig()) -> keras.Model:
    """Keras model: image [B, S, S, 1] (S = config.image_size or any multiple of 16) ->
    logits [B, S, S, config.output_channels] (float32)."""
    image = keras.Input((None, None, 1), name="image")
    levels = encoder(image, config)
    features = memory_decoder(levels, config) if config.memory else resnet_decoder(levels, config)
    features = keras.layers.Conv2D(level_filters(config)[0], 3, padding="same", activation="relu",
                                   kernel_initializer="glorot_uniform", name="final_conv")(features)
    logits = keras.layers.Conv2D(config.output_channels, 3, padding="same", kernel_initializer="glorot_uniform",
                                 name="prediction", dtype="float32")(features)
    return keras.Model(image, logits, name="cfcm" if config.memory else "resnet")
