"""The localization network: U-Net (average pooling, linear upsampling) -> 2-class softmax (background,
region of all organs), on the whole volume at coarse spacing."""
from __future__ import annotations

import keras

from localization.config import LocalizationConfig
from networks.unet import UNetAvgLinear3D


def build_localization_model(config: LocalizationConfig = LocalizationConfig()) -> keras.Model:
    """Keras model: image [B, Z, Y, X, 1] (windowed to [-1, 1]) -> logits [B, Z, Y, X, 2] (float32).

    Z, Y, X are dynamic and must be multiples of `config.size_multiple`.
    """
    image = keras.Input((None, None, None, 1), name="image")
    features = UNetAvgLinear3D(config.num_filters, config.num_levels, config.dropout, config.leaky_relu_alpha,
                               name="unet")(image)
    logits = keras.layers.Conv3D(2, 1, kernel_initializer="he_normal", name="prediction", dtype="float32")(features)
    return keras.Model(image, logits, name="localization")
