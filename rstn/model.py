"""RSTN: a coarse FCN-8s, the saliency transformation module and a fine FCN-8s (OrganSegRSTN `model.py`).

Channels-last slice stacks [batch, rows, columns, 3]: three adjacent CT slices in, the three slices' organ
logits out. The FCN-8s is the classic VGG-16 one: 100 pixels of zero padding before the first convolution,
ceil-mode max pooling, fc6 / fc7 as 7x7 / 1x1 convolutions with channel dropout, score layers at 1/32, 1/16
and 1/8 fused through transposed convolutions that are fixed bilinear upsamplings, and the crops at offsets
5, 9 and 31 that bring the output back to the input's size.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from rstn.config import RSTNConfig
from rstn.crop import crop, mask_box, sample_box_masks, uncrop

VGG_BLOCKS = (2, 2, 3, 3, 3)
CHANNELS = 3
SALIENCY_KERNELS = (3, 5)
SALIENCY_REACH = sum(size // 2 for size in SALIENCY_KERNELS)
"""Pixels of the saliency module's input that one output pixel depends on, on each side (3)."""


def bilinear_kernel(size: int, channels: int) -> np.ndarray:
    """[size, size, channels, channels] kernel of a transposed convolution that upsamples each channel
    bilinearly (factor (size + 1) // 2) and does not mix channels, as FCN's `upsample_filt`."""
    factor = (size + 1) // 2
    centre = factor - 1 if size % 2 == 1 else factor - 0.5
    grid = np.arange(size)
    profile = 1.0 - np.abs(grid - centre) / factor
    kernel = np.zeros((size, size, channels, channels), np.float32)
    for channel in range(channels):
        kernel[:, :, channel, channel] = np.outer(profile, profile)
    return kernel


@keras.saving.register_keras_serializable(package="rstn")
class CropLike(keras.layers.Layer):
    """x[:, offset:offset + rows, offset:offset + columns, :] with the rows and columns of a reference tensor.

    Call: (x [B, R', C', K], reference [B, R, C, *]) -> [B, R, C, K].
    """

    def __init__(self, offset: int, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def call(self, x: tf.Tensor, reference: tf.Tensor) -> tf.Tensor:
        shape = tf.shape(reference)
        return x[:, self.offset:self.offset + shape[1], self.offset:self.offset + shape[2], :]

    def get_config(self) -> dict:
        return {**super().get_config(), "offset": self.offset}


def _upsampling(size: int, stride: int, name: str) -> keras.layers.Conv2DTranspose:
    kernel = bilinear_kernel(size, CHANNELS)
    layer = keras.layers.Conv2DTranspose(CHANNELS, size, strides=stride, use_bias=False, name=name,
                                         kernel_initializer=keras.initializers.Constant(kernel))
    layer.trainable = False
    return layer


def build_fcn8s(config: RSTNConfig, name: str) -> keras.Model:
    """FCN-8s on a VGG-16 trunk: slice stack [B, R, C, 3] -> logits [B, R, C, 3] (float32).

    Trunk layers are named as Keras' VGG-16 (`block1_conv1` ...) so that its weights can be loaded by name;
    from scratch they start from He normal, which keeps the activations' scale through the 15 ReLU layers (the
    original starts from PASCAL FCN-8s weights); the score layers start from 0 as in the original (`score_fr`'s biases
    at the logit of `config.prior_probability` where that addition is on).
    """
    image = keras.Input((None, None, CHANNELS), name="image")
    node = keras.layers.ZeroPadding2D(config.input_padding, name="input_padding")(image)
    pools = []
    for block, convs in enumerate(VGG_BLOCKS, start=1):
        filters = config.base_filters * 2 ** min(block - 1, 3)
        for conv in range(1, convs + 1):
            padding = "valid" if block == 1 and conv == 1 else "same"
            node = keras.layers.Conv2D(filters, 3, padding=padding, activation="relu", kernel_initializer="he_normal",
                                       name=f"block{block}_conv{conv}")(node)
        node = keras.layers.MaxPooling2D(2, padding="same", name=f"block{block}_pool")(node)
        pools.append(node)
    node = keras.layers.Conv2D(config.fc_filters, 7, activation="relu", kernel_initializer="he_normal",
                               name="fc6")(node)
    node = keras.layers.SpatialDropout2D(config.dropout, name="drop6")(node)
    node = keras.layers.Conv2D(config.fc_filters, 1, activation="relu", kernel_initializer="he_normal",
                               name="fc7")(node)
    node = keras.layers.SpatialDropout2D(config.dropout, name="drop7")(node)
    prior = config.prior_probability
    score_bias = np.log(prior / (1.0 - prior)) if prior > 0.0 else 0.0
    score = keras.layers.Conv2D(CHANNELS, 1, kernel_initializer="zeros", name="score_fr",
                                bias_initializer=keras.initializers.Constant(score_bias))(node)
    upscore2 = _upsampling(4, 2, "upscore2")(score)
    pool4 = keras.layers.Conv2D(CHANNELS, 1, kernel_initializer="zeros", name="score_pool4")(pools[3])
    fused = keras.layers.Add(name="fuse_pool4")([upscore2, CropLike(5, name="crop_pool4")(pool4, upscore2)])
    upscore_pool4 = _upsampling(4, 2, "upscore_pool4")(fused)
    pool3 = keras.layers.Conv2D(CHANNELS, 1, kernel_initializer="zeros", name="score_pool3")(pools[2])
    fused = keras.layers.Add(name="fuse_pool3")([upscore_pool4, CropLike(9, name="crop_pool3")(pool3, upscore_pool4)])
    upscore8 = _upsampling(16, 8, "upscore8")(fused)
    logits = CropLike(31, name="crop_output", dtype="float32")(upscore8, image)
    return keras.Model(image, logits, name=name)


def build_saliency_module(config: RSTNConfig) -> keras.Sequential:
    """Probabilities [B, R, C, 3] -> saliency [B, R, C, 3]: 3x3 convolution (Xavier normal weights, biases 1),
    ReLU, 5x5 convolution (weights 0, biases `config.saliency_bias`)."""
    first, second = SALIENCY_KERNELS
    return keras.Sequential([
        keras.layers.Conv2D(CHANNELS, first, padding="same", activation="relu", kernel_initializer="glorot_normal",
                            bias_initializer="ones", name="saliency1"),
        keras.layers.Conv2D(CHANNELS, second, padding="same", kernel_initializer="zeros",
                            bias_initializer=keras.initializers.Constant(np.asarray(config.saliency_bias)),
                            name="saliency2", dtype="float32"),
    ], name="saliency")


MODE_CODES = {"S": 0, "I": 1, "J": 2}


class RSTN(keras.Model):
    """The coarse network, the saliency module and the fine network, with the original's training forward pass.

    Training call: inputs {'image' [B, R, C, 3] in [0, 1], 'label' [B, R, C, 3] {0, 1}, 'mode' int32 [B]
    (MODE_CODES; the first sample's decides), 'margins' int32 [B, 4] (the first sample's are used)} ->
    {'coarse', 'fine'} probabilities [B, R, C, 3]. Modes as the original:
    S: fine box from the label, fine input the image; I: box from the label, input image x saliency;
    J: box from the coarse probabilities >= 0.5 (the label's when empty), input image x saliency.
    """

    def __init__(self, config: RSTNConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.coarse = build_fcn8s(config, "coarse")
        self.saliency = build_saliency_module(config)
        self.fine = build_fcn8s(config, "fine")

    def fine_logits(self, image: tf.Tensor, saliency_input: tf.Tensor, box_mask: tf.Tensor, margins: tf.Tensor,
                    transform: tf.Tensor | bool = True, training: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
        """(fine logits on the whole slice stack, with OUTSIDE_LOGIT outside the box; found): the saliency of
        `saliency_input` times the image (or the image alone where `transform` is False), cropped to the box of
        `box_mask` plus `margins` and through the fine network."""
        saliency = self.saliency(saliency_input, training=training)
        data = tf.where(tf.cast(transform, tf.bool), image * saliency, image)
        box, found = mask_box(box_mask, margins)
        data = data * sample_box_masks(box_mask, margins)
        cropped = self.fine(crop(data, box), training=training)
        shape = tf.shape(image)
        return uncrop(cropped, box, shape[1], shape[2]), found

    def fine_logits_per_stack(self, image: tf.Tensor, saliency_input: tf.Tensor, box_mask: tf.Tensor,
                              margins: tf.Tensor) -> tf.Tensor:
        """Testing's fine logits [B, R, C, 3]: `fine_logits` of each stack on its own, with its own box, as the
        original tests one stack at a time (a batch sharing the union box would give, inside that box but outside
        a stack's own, the fine network's answer to zeroed input instead of probability 0)."""
        def one(stack: tuple[tf.Tensor, tf.Tensor, tf.Tensor]) -> tf.Tensor:
            logits, _ = self.fine_logits(*(part[tf.newaxis] for part in stack), margins)
            return tf.cast(logits[0], tf.float32)

        return tf.map_fn(one, (image, saliency_input, box_mask),
                         fn_output_signature=tf.TensorSpec([None, None, CHANNELS], tf.float32))

    def call(self, inputs: dict, training: bool = False) -> dict:
        image = tf.cast(inputs["image"], self.compute_dtype)
        label = tf.cast(inputs["label"], tf.float32) >= 0.5
        mode = tf.cast(inputs["mode"], tf.int32)[0]
        margins = tf.cast(inputs["margins"], tf.int32)[0]
        coarse = tf.sigmoid(tf.cast(self.coarse(image, training=training), tf.float32))
        predicted = coarse >= 0.5
        joint = tf.equal(mode, MODE_CODES["J"])
        box_mask = tf.cond(joint & tf.reduce_any(predicted), lambda: predicted, lambda: label)
        logits, _ = self.fine_logits(image, tf.cast(coarse, image.dtype), box_mask, margins,
                                     transform=tf.not_equal(mode, MODE_CODES["S"]), training=training)
        return {"coarse": coarse, "fine": tf.sigmoid(tf.cast(logits, tf.float32))}


def dsc_loss(probabilities: tf.Tensor, labels: tf.Tensor, epsilon: float) -> tf.Tensor:
    """1 - mean over the batch of the soft DSC (2 sum(p t) + eps) / (sum(p + t) + eps), each sample's sums over
    all its pixels and channels (the original's `DSC_loss`)."""
    axes = tf.range(1, tf.rank(probabilities))
    labels = tf.cast(labels, probabilities.dtype)
    overlap = tf.reduce_sum(probabilities * labels, axis=axes)
    total = tf.reduce_sum(probabilities + labels, axis=axes)
    return 1.0 - tf.reduce_mean((2.0 * overlap + epsilon) / (total + epsilon))
