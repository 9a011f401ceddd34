"""Whole-image CFCM preprocessing and inference as TF functions, shared by training (`cfcm.training`) and the
SavedModel's `segment` signature, so both see the same network input.

Images are 2D [H, W] raw grey values; network inputs are [S, S, 1] (S = `config.image_size`). A *frame*
records where the network input sits in the image: the box [row0, col0, row1, col1) (pixels) that was
resized and the size [h, w] it occupies at the top-left of the input.
"""
from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from cfcm.config import CFCMConfig
from preprocessing import intensity
from preprocessing.tf_geometry import letterbox


def non_zero_box(image: tf.Tensor) -> tf.Tensor:
    """int32 [4] (row0, col0, row1, col1), end exclusive, of the rows and columns holding a non-zero pixel; the
    whole image when it is all zero (the original's `crop_actual_image`, with rows taken from the rows)."""
    rows = tf.where(tf.reduce_any(image != 0, axis=1))[:, 0]
    cols = tf.where(tf.reduce_any(image != 0, axis=0))[:, 0]
    shape = tf.shape(image, out_type=tf.int64)
    box = tf.cond(tf.size(rows) > 0,
                  lambda: tf.stack([rows[0], cols[0], rows[-1] + 1, cols[-1] + 1]),
                  lambda: tf.stack([tf.constant(0, tf.int64), tf.constant(0, tf.int64), shape[0], shape[1]]))
    return tf.cast(box, tf.int32)


def frame_image(image: tf.Tensor, config: CFCMConfig, method: str, box: tf.Tensor | None = None
                ) -> tuple[tf.Tensor, dict]:
    """Image [H, W, C] -> ([S, S, C], frame). 'square': the non-zero box (of `image`, or `box`) resized to S x S
    (bilinear without anti-aliasing as the original's `resize_img`; aspect not kept); 'letterbox': the whole
    image, long side to S (area), padded with zeros. `method`: 'bilinear' for images, 'nearest' for labels."""
    size = config.image_size
    if config.resize == "square":
        box = non_zero_box(image[..., 0]) if box is None else box
        cropped = image[box[0]:box[2], box[1]:box[3]]
        resized = tf.image.resize(cropped, [size, size], method=method)
        return tf.cast(resized, image.dtype), {"box": box, "resized": tf.constant([size, size])}
    boxed, resized_shape = letterbox(image, size, method="area" if method == "bilinear" else method)
    box = tf.concat([tf.zeros([2], tf.int32), tf.shape(image)[:2]], axis=0)
    return boxed, {"box": box, "resized": resized_shape}


def network_input(image: tf.Tensor, config: CFCMConfig) -> tuple[tf.Tensor, dict]:
    """Raw 2D image [H, W] -> (network input [S, S, 1], frame): resized as `config.resize`, grey values raw or
    percentile-normalised (percentiles of the framed content only)."""
    framed, frame = frame_image(tf.cast(image, tf.float32)[..., None], config, "bilinear")
    if config.normalization == "raw":
        return framed, frame
    content = framed[:frame["resized"][0], :frame["resized"][1]]
    normalized = intensity.percentile_normalize(framed, *config.percentiles, reference=content)
    mask = tf.pad(tf.ones_like(content), [[0, config.image_size - frame["resized"][0]],
                                          [0, config.image_size - frame["resized"][1]], [0, 0]])
    return normalized * mask, frame


def network_label(label: tf.Tensor, config: CFCMConfig, frame: dict) -> tf.Tensor:
    """Label map [H, W] -> [S, S] in the image's `frame` (nearest neighbour, background outside)."""
    return frame_image(label[..., None], config, "nearest", frame["box"])[0][..., 0]


def to_image(output: tf.Tensor, frame: dict, image_shape: tf.Tensor) -> tf.Tensor:
    """Network output [S, S, C] -> [H, W, C] on the image: the framed part resized back (bilinear) into its box,
    zero elsewhere."""
    box = frame["box"]
    content = output[:frame["resized"][0], :frame["resized"][1]]
    resized = tf.image.resize(content, box[2:] - box[:2], method="bilinear")
    image_shape = tf.cast(image_shape, tf.int32)
    return tf.pad(resized, [[box[0], image_shape[0] - box[2]], [box[1], image_shape[1] - box[3]], [0, 0]])


def probabilities_of(logits: tf.Tensor, config: CFCMConfig) -> tf.Tensor:
    """Sigmoid (per foreground label) or softmax (all labels) of logits [..., C], float32."""
    logits = tf.cast(logits, tf.float32)
    return tf.sigmoid(logits) if config.head == "sigmoid" else tf.nn.softmax(logits, axis=-1)


def labels_of(probabilities: tf.Tensor, config: CFCMConfig) -> tf.Tensor:
    """uint8 labels: sigmoid head - the most probable foreground label where its probability exceeds 0.5 (the
    original's threshold), else background; softmax head - the argmax."""
    if config.head == "softmax":
        return tf.cast(tf.argmax(probabilities, axis=-1), tf.uint8)
    best = tf.cast(tf.argmax(probabilities, axis=-1), tf.uint8) + 1
    return tf.where(tf.reduce_max(probabilities, axis=-1) > 0.5, best, tf.zeros_like(best))


def segment_image(network: Callable[[tf.Tensor], tf.Tensor], image: tf.Tensor, config: CFCMConfig) -> dict:
    """{'probabilities': [H, W, C] float32 (C = `config.output_channels`), 'labels': [H, W] uint8} at the
    image's own size."""
    inputs, frame = network_input(tf.cast(image, tf.float32), config)
    probabilities = probabilities_of(network(inputs[None])[0], config)
    probabilities = to_image(probabilities, frame, tf.shape(image)[:2])
    return {"probabilities": probabilities, "labels": labels_of(probabilities, config)}
