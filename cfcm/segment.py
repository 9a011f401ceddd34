"""Whole-image CFCM inference as one TF function (traced into the SavedModel's `segment` signature)."""
from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from cfcm.config import CFCMConfig
from preprocessing import intensity
from preprocessing.tf_geometry import letterbox, unletterbox


def network_input(image: tf.Tensor, config: CFCMConfig) -> tuple[tf.Tensor, tf.Tensor]:
    """Raw 2D image [H, W] -> (letterboxed normalised input [S, S, 1], resized shape [2]).

    The image is letterboxed first (area resampling) and the percentiles are taken over the resized
    image without its padding, so normalisation costs the same for a 20-megapixel input as for a small one.
    """
    boxed, resized_shape = letterbox(tf.cast(image, tf.float32)[..., None], config.image_size)
    content = boxed[:resized_shape[0], :resized_shape[1]]
    normalized = intensity.percentile_normalize(boxed, *config.percentiles, reference=content)
    mask = tf.pad(tf.ones_like(content), [[0, config.image_size - resized_shape[0]],
                                          [0, config.image_size - resized_shape[1]], [0, 0]])
    return normalized * mask, resized_shape


def letterbox_label(label: tf.Tensor, config: CFCMConfig) -> tf.Tensor:
    """Label map [H, W] -> letterboxed [S, S] (nearest neighbour, background padding)."""
    return letterbox(label[..., None], config.image_size, method="nearest")[0][..., 0]


def segment_image(network: Callable[[tf.Tensor], tf.Tensor], image: tf.Tensor, config: CFCMConfig) -> dict:
    """{'probabilities': [H, W, L] float32, 'labels': [H, W] uint8} at the image's own size."""
    inputs, resized_shape = network_input(tf.cast(image, tf.float32), config)
    probabilities = tf.nn.softmax(tf.cast(network(inputs[None])[0], tf.float32), axis=-1)
    probabilities = unletterbox(probabilities, resized_shape, tf.shape(image)[:2])
    return {"probabilities": probabilities, "labels": tf.cast(tf.argmax(probabilities, axis=-1), tf.uint8)}
