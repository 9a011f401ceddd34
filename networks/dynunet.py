"""DynUNet (MONAI's nnU-Net-style U-Net) as a Keras 3 model, with residual encoder blocks (`res_block=True`).

Blocks as MONAI builds them: every convolution is preceded by symmetric zero padding (kernel - stride + 1) // 2
(PyTorch's padding, so strided convolutions sample the same positions), instance normalisation without affine
parameters (eps 1e-5; `networks.instance_norm`, one oneDNN op with the leaky ReLU on a CPU), leaky ReLU with slope
0.01.
- encoder (input block, downsampling levels, bottleneck): residual block = conv(kernel, stride) - norm - act -
  conv(kernel) - norm, plus a 1x1x1 conv(stride) - norm shortcut where channels or stride change, then act;
- decoder level: transposed convolution (kernel = stride, no bias) to the level's filters, concatenation with
  the skip, then conv - norm - act - conv - norm - act;
- output: 1x1x1 convolution with bias to the class logits.

Input (batch, z, y, x, channels); each spatial size must be divisible by the product of the strides along it.
"""
from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from networks.instance_norm import InstanceNormalization

NEGATIVE_SLOPE = 0.01
NORM_EPSILON = 1e-5


def _conv(filters: int, kernel: int, stride: Sequence[int], name: str, use_bias: bool = True) -> keras.Sequential:
    padding = [((kernel - s + 1) // 2,) * 2 for s in stride]
    return keras.Sequential([keras.layers.ZeroPadding3D(padding, name=f"{name}_pad"),
                             keras.layers.Conv3D(filters, kernel, strides=tuple(stride), use_bias=use_bias,
                                                 kernel_initializer="he_normal", name=f"{name}_conv")], name=name)


def _norm(name: str) -> keras.layers.Layer:
    return InstanceNormalization(epsilon=NORM_EPSILON, name=name)


def _act(name: str) -> keras.layers.Layer:
    return keras.layers.LeakyReLU(negative_slope=NEGATIVE_SLOPE, name=name)


def _residual_block(node: tf.Tensor, filters: int, kernel: int, stride: Sequence[int], name: str) -> tf.Tensor:
    out = _act(f"{name}_act1")(_norm(f"{name}_norm1")(_conv(filters, kernel, stride, f"{name}_conv1")(node)))
    out = _norm(f"{name}_norm2")(_conv(filters, kernel, (1, 1, 1), f"{name}_conv2")(out))
    if node.shape[-1] != filters or any(s != 1 for s in stride):
        node = _norm(f"{name}_norm3")(_conv(filters, 1, stride, f"{name}_conv3")(node))
    return _act(f"{name}_act")(keras.layers.Add(name=f"{name}_add")([out, node]))


def _basic_block(node: tf.Tensor, filters: int, kernel: int, name: str) -> tf.Tensor:
    for index in (1, 2):
        node = _act(f"{name}_act{index}")(_norm(f"{name}_norm{index}")(
            _conv(filters, kernel, (1, 1, 1), f"{name}_conv{index}")(node)))
    return node


def dynunet(input_channels: int, num_classes: int, kernel_sizes: Sequence[int],
            strides: Sequence[Sequence[int]], filters: Sequence[int], name: str = "dynunet") -> keras.Model:
    """A DynUNet with one level per entry of `kernel_sizes`, `strides` (z, y, x) and `filters` (the first level
    keeps its input's resolution, the last is the bottleneck); outputs the class logits (batch, z, y, x,
    num_classes), float32."""
    inputs = keras.Input((None, None, None, input_channels), name="image")
    node = inputs
    skips = []
    for level, (kernel, stride, width) in enumerate(zip(kernel_sizes, strides, filters)):
        node = _residual_block(node, width, kernel, stride, f"encoder{level}")
        skips.append(node)
    for level in range(len(filters) - 2, -1, -1):
        stride = tuple(strides[level + 1])
        node = keras.layers.Conv3DTranspose(filters[level], stride, strides=stride, use_bias=False,
                                            kernel_initializer="he_normal", name=f"decoder{level}_up")(node)
        node = keras.layers.Concatenate(name=f"decoder{level}_concat")([node, skips[level]])
        node = _basic_block(node, filters[level], kernel_sizes[level + 1], f"decoder{level}")
    logits = keras.layers.Conv3D(num_classes, 1, name="output", dtype="float32")(node)
    return keras.Model(inputs, logits, name=name)
