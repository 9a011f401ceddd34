"""VGG-16 weights for the FCN-8s trunks from a Keras weights file the user already has (never downloaded here).

The original starts both networks from FCN-8s weights trained on PASCAL VOC; those are not available in Keras.
A Keras VGG-16 file (`keras.applications.VGG16`, ImageNet, with or without the classifier) gives the 13
convolutions; with the classifier, fc1 / fc2 are reshaped into the fully convolutional fc6 (7x7) / fc7 (1x1),
as FCN does. The score layers keep their zero initialisation, as in the original.
"""
from __future__ import annotations

import keras

from rstn.model import VGG_BLOCKS


def _vgg16(path: str) -> keras.Model:
    """A Keras VGG-16 holding the weights of `path` (with the classifier if the file has it)."""
    errors = []
    for include_top in (True, False):
        model = keras.applications.VGG16(include_top=include_top, weights=None,
                                         input_shape=(224, 224, 3) if include_top else (None, None, 3))
        try:
            model.load_weights(path)
            return model
        except (ValueError, KeyError, OSError) as error:
            errors.append(str(error).splitlines()[0] if str(error) else type(error).__name__)
    raise ValueError(f"{path}: not a Keras VGG-16 weights file ({'; '.join(errors)})")


def load_vgg16_weights(fcn: keras.Model, path: str) -> None:
    """Copies VGG-16's convolutions (and fc1 / fc2 as fc6 / fc7 when present) into an FCN-8s from
    `rstn.model.build_fcn8s`. Raises ValueError when the file or the FCN's widths do not fit."""
    vgg = _vgg16(path)
    names = [f"block{b}_conv{c}" for b, count in enumerate(VGG_BLOCKS, start=1) for c in range(1, count + 1)]
    pairs = [(fcn.get_layer(name), vgg.get_layer(name).get_weights()) for name in names]
    if any(layer.kernel.shape != weights[0].shape for layer, weights in pairs):
        raise ValueError(f"{path}: VGG-16 widths do not match the FCN's (base_filters must be 64)")
    layers = {layer.name for layer in vgg.layers}
    if {"fc1", "fc2"} <= layers:
        fc6, fc7 = fcn.get_layer("fc6"), fcn.get_layer("fc7")
        kernel6, bias6 = vgg.get_layer("fc1").get_weights()
        kernel7, bias7 = vgg.get_layer("fc2").get_weights()
        if fc6.kernel.shape[-1] != kernel6.shape[-1]:
            raise ValueError(f"{path}: fc1 has {kernel6.shape[-1]} outputs, fc6 {fc6.kernel.shape[-1]} "
                             "(fc_filters must be 4096)")
        pairs += [(fc6, [kernel6.reshape(fc6.kernel.shape), bias6]), (fc7, [kernel7.reshape(fc7.kernel.shape), bias7])]
    for layer, weights in pairs:
        layer.set_weights(weights)
