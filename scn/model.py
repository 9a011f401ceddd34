"""SpatialConfiguration-Net: local appearance + spatial configuration, merged by spatial uncertainty.

All tensors are channels-last [batch, z, y, x, channels]. Channel 0 is the background label.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from networks.resize import Upsampling3D
from networks.unet import UNetAvgLinear3D
from scn.config import SCNConfig


@keras.saving.register_keras_serializable(package="scn")
class SaltPepperNoise(keras.layers.Layer):
    """Sets random blocks of voxels to 0 (pepper) or 1 (salt) during training; identity otherwise.

    Args:
        ratio: fraction of blocks changed at each scale (half salt, half pepper).
        scales: block edge lengths in voxels; noise is drawn independently for each scale.

    Input/output shape: (batch, z, y, x, channels), values expected in [0, 1].
    """

    def __init__(self, ratio: float = 0.01, scales: tuple[int, ...] = (1, 2, 4, 8), **kwargs):
        super().__init__(**kwargs)
        self.ratio = ratio
        self.scales = tuple(scales)

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        if not training or self.ratio <= 0:
            return inputs
        shape = tf.shape(inputs)
        node = inputs
        for scale in self.scales:
            coarse = tf.stack([shape[0], (shape[1] + scale - 1) // scale, (shape[2] + scale - 1) // scale,
                               (shape[3] + scale - 1) // scale, shape[4]])
            draw = tf.random.uniform(coarse)
            for axis in (1, 2, 3):
                draw = tf.repeat(draw, scale, axis=axis)
            draw = draw[:, :shape[1], :shape[2], :shape[3], :]
            node = tf.where(draw < self.ratio / 2, tf.zeros_like(node), node)
            node = tf.where(draw > 1.0 - self.ratio / 2, tf.ones_like(node), node)
        return node

    def get_config(self) -> dict:
        return {**super().get_config(), "ratio": self.ratio, "scales": self.scales}


@keras.saving.register_keras_serializable(package="scn")
class SpatialConfiguration(keras.layers.Layer):
    """Spatial configuration component: one small U-Net per label at coarse resolution.

    The local-appearance probabilities of the organs (channels 1..L-1) and the image are average-pooled
    by `downsample`; during training organ channels get salt-and-pepper noise and channel dropout and the
    image channel dropout. The U-Net of label i sees the image and every organ channel except i (the
    background's U-Net sees all organs); its 1x1x1 output is one logit channel. The L logits are
    upsampled back with tricubic interpolation.

    Input: [local probabilities (B, Z, Y, X, L), image (B, Z, Y, X, 1)]; Z, Y, X multiples of
    downsample * 2 ** (levels - 1). Output: spatial logits (B, Z, Y, X, L).
    """

    def __init__(self, num_labels: int = 5, num_filters: int = 16, num_levels: int = 4, downsample: int = 4,
                 dropout: float = 0.1, leaky_relu_alpha: float = 0.1, local_channel_dropout: float = 0.25,
                 image_channel_dropout: float = 0.5, salt_pepper_ratio: float = 0.01,
                 salt_pepper_scales: tuple[int, ...] = (1, 2, 4, 8), **kwargs):
        super().__init__(**kwargs)
        self.config_values = dict(num_labels=num_labels, num_filters=num_filters, num_levels=num_levels,
                                  downsample=downsample, dropout=dropout, leaky_relu_alpha=leaky_relu_alpha,
                                  local_channel_dropout=local_channel_dropout,
                                  image_channel_dropout=image_channel_dropout, salt_pepper_ratio=salt_pepper_ratio,
                                  salt_pepper_scales=tuple(salt_pepper_scales))
        self.num_labels = num_labels
        self.pool = keras.layers.AveragePooling3D(downsample, name="downsampling")
        self.salt_pepper = SaltPepperNoise(salt_pepper_ratio, salt_pepper_scales, name="salt_pepper")
        self.local_dropout = keras.layers.SpatialDropout3D(local_channel_dropout, name="local_channel_dropout")
        self.image_dropout = keras.layers.SpatialDropout3D(image_channel_dropout, name="image_channel_dropout")
        self.unets = [UNetAvgLinear3D(num_filters, num_levels, dropout, leaky_relu_alpha, name=f"unet_l{i}")
                      for i in range(num_labels)]
        self.heads = [keras.layers.Conv3D(1, 1, kernel_initializer="he_normal", name=f"l{i}")
                      for i in range(num_labels)]
        self.upsample = Upsampling3D(downsample, "cubic", name="upsampling")

    @staticmethod
    def input_channels(label: int, num_labels: int) -> list[int]:
        """Organ channels (indices into the local output) that the U-Net of `label` receives."""
        return [j for j in range(1, num_labels) if j != label]

    def call(self, inputs: list[tf.Tensor], training: bool | None = None) -> tf.Tensor:
        local, image = inputs
        organs = self.pool(local[..., 1:])
        organs = self.local_dropout(self.salt_pepper(organs, training=training), training=training)
        image = self.image_dropout(self.pool(image), training=training)
        outputs = []
        for label in range(self.num_labels):
            channels = [organs[..., j - 1:j] for j in self.input_channels(label, self.num_labels)]
            node = keras.ops.concatenate([image] + channels, axis=-1)
            outputs.append(self.heads[label](self.unets[label](node, training=training)))
        return self.upsample(keras.ops.concatenate(outputs, axis=-1))

    def get_config(self) -> dict:
        return {**super().get_config(), **self.config_values}


@keras.saving.register_keras_serializable(package="scn")
class SpatialUncertaintyMerge(keras.layers.Layer):
    """Combines local and spatial logits per voxel and label by the spatial component's uncertainty.

    u = H(sigmoid(spatial)) / log(2) (binary entropy normalised to [0, 1]);
    merged = sigmoid(local) * u + sigmoid(spatial) * (1 - u): where the spatial configuration is
    confident, it decides; where it is unsure, the local appearance does. The returned prediction is
    `merged` normalised to sum 1 over labels.

    Input: [local logits, spatial logits], each (B, Z, Y, X, L). Output: probabilities (B, Z, Y, X, L), float32.
    """

    def call(self, inputs: list[tf.Tensor]) -> tf.Tensor:
        local, spatial = (tf.cast(t, tf.float32) for t in inputs)
        spatial_probability = tf.sigmoid(spatial)
        entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=spatial_probability, logits=spatial)
        uncertainty = entropy / tf.math.log(2.0)
        merged = tf.sigmoid(local) * uncertainty + spatial_probability * (1.0 - uncertainty)
        return merged / (tf.reduce_sum(merged, axis=-1, keepdims=True) + 1e-8)


def build_scn_model(config: SCNConfig = SCNConfig()) -> keras.Model:
    """Keras model: image [B, Z, Y, X, 1] -> {'prediction', 'local_logits', 'spatial_logits'} [B, Z, Y, X, L].

    'prediction' is float32 probabilities over the L labels (channel 0 background).
    """
    image = keras.Input((None, None, None, 1), name="image")
    features = UNetAvgLinear3D(config.local_filters, config.local_levels, config.dropout, config.leaky_relu_alpha,
                               name="local_unet")(image)
    local_logits = keras.layers.Conv3D(config.num_labels, 1, kernel_initializer="he_normal", name="local_prediction",
                                       dtype="float32")(features)
    local_probability = keras.layers.Activation("sigmoid", name="local_sigmoid")(local_logits)
    if config.stop_gradient_spatial:
        local_probability = keras.layers.Lambda(tf.stop_gradient, name="stop_gradient")(local_probability)
    spatial_logits = SpatialConfiguration(
        config.num_labels, config.spatial_filters, config.spatial_levels, config.spatial_downsample, config.dropout,
        config.leaky_relu_alpha, config.local_channel_dropout, config.image_channel_dropout, config.salt_pepper_ratio,
        config.salt_pepper_scales, name="spatial_configuration")([local_probability, image])
    spatial_logits = keras.layers.Activation("linear", dtype="float32", name="spatial_logits")(spatial_logits)
    prediction = SpatialUncertaintyMerge(name="merge", dtype="float32")([local_logits, spatial_logits])
    return keras.Model(image, {"prediction": prediction, "local_logits": local_logits,
                               "spatial_logits": spatial_logits}, name="scn")
