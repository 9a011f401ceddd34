"""The per-nodule crop model (`nodules.config.CropModelConfig`): a DynUNet whose decoder outputs the nodule mask
(2-class logits) and whose bottleneck, averaged over space, gives the malignancy logit (a shared encoder).

Input `image` (batch, z, y, x, 1): HU windowed to [0, 1]. Outputs {"mask": (batch, z, y, x, 2) logits,
"malignancy": (batch, 1) logit}, float32.
"""
from __future__ import annotations

import keras
import numpy as np

from networks.dynunet import dynunet
from nodules.config import CropModelConfig


def crop_input(hu: np.ndarray, config: CropModelConfig) -> np.ndarray:
    """float32 network input in [0, 1] from HU."""
    low, high = config.hu_window
    return ((np.clip(hu, low, high) - low) / (high - low)).astype(np.float32)


def build_crop_model(config: CropModelConfig) -> keras.Model:
    """The crop model of `config`."""
    unet = dynunet(1, 2, config.kernel_sizes, config.strides, config.filters, name="nodule_unet")
    bottleneck = unet.get_layer(f"encoder{len(config.filters) - 1}_act").output
    pooled = keras.layers.GlobalAveragePooling3D(name="malignancy_pool")(bottleneck)
    malignancy = keras.layers.Dense(1, dtype="float32", name="malignancy")(pooled)
    return keras.Model(unet.input, {"mask": unet.output, "malignancy": malignancy}, name="nodule_crop_model")
