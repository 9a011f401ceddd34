"""The original's click loop before each gradient step (`interaction.py`, GLOBAL_CORRECTIVE, MAX_ITER): starting
from empty guidance, `rounds` times run the network (inference mode) on the image with the current guidance, and
add one lesion click in its false negatives and one background click in its false positives; the guidance of all
clicks so far is rebuilt each round. Returns the network input of the gradient step. `click_rounds` gives the rounds
of the original's DeepGrow mode (DEEPGROW_GLOBAL_CORRECTIVE), where clicks come with a probability."""
from __future__ import annotations

from typing import Sequence

import keras
import tensorflow as tf

from interactive.clicks import corrective_clicks
from interactive.config import InteractiveConfig
from interactive.guidance import guidance_channels
from interactive.window_forward import windowed_logits


def with_guidance(image: tf.Tensor, lesion: tf.Tensor, background: tf.Tensor, config: InteractiveConfig) -> tf.Tensor:
    """[1, z, y, x, channels + 2]: the image [1, z, y, x, channels] with the guidance of the clicks (array indices
    [n, 3]) appended."""
    guidance = guidance_channels(lesion, background, tf.shape(image)[1:4], config.guidance_sigma,
                                 config.guidance_disks)
    return tf.concat([image, guidance[None]], axis=-1)


def click_rounds(rounds: int, probability: float, seed: tf.Tensor) -> tf.Tensor | int:
    """The click rounds of one training sample: `rounds` when `probability` is 1 (the original's default); below it
    the original's DeepGrow mode: none unless a first draw falls below `probability` (the sample trains on empty
    guidance), then each round adds clicks with `probability`. A round that adds none leaves the next prediction as
    it was, so the rounds that add clicks are the ones run: their number, int32, from the stateless `seed` [2]."""
    if probability >= 1.0:
        return rounds
    draws = tf.random.stateless_uniform([rounds + 1], tf.random.experimental.stateless_fold_in(
        tf.cast(seed, tf.int32), 1 << 20))
    return tf.where(draws[0] < probability, tf.reduce_sum(tf.cast(draws[1:] < probability, tf.int32)), 0)


def simulate_clicks(model: keras.Model, image: tf.Tensor, label: tf.Tensor, config: InteractiveConfig,
                    rounds: int | tf.Tensor, seed: tf.Tensor, spacing: Sequence[float]) -> tf.Tensor:
    """The network input [1, z, y, x, channels + 2] after `rounds` rounds of simulated corrective clicks on `image`
    [1, z, y, x, channels] against the lesion mask `label` [1, z, y, x]."""
    seed = tf.cast(seed, tf.int32)

    def one_round(round_, lesion, background):
        logits = windowed_logits(model, with_guidance(image, lesion, background, config), config.roi_size,
                                 config.overlap, training=False)
        prediction = tf.argmax(logits[0], axis=-1) == 1
        click_seed = tf.random.experimental.stateless_fold_in(seed, round_)
        new_lesion, lesion_found, new_background, background_found = corrective_clicks(
            label[0] > 0, prediction, config.click_rule, spacing, click_seed)
        lesion = tf.concat([lesion, tf.boolean_mask(new_lesion[None], lesion_found[None])], 0)
        background = tf.concat([background, tf.boolean_mask(new_background[None], background_found[None])], 0)
        return round_ + 1, lesion, background

    empty = tf.zeros([0, 3], tf.int32)
    _, lesion, background = tf.while_loop(
        lambda round_, *_: round_ < rounds, one_round, (tf.constant(0), empty, empty),
        shape_invariants=(tf.TensorShape([]), tf.TensorShape([None, 3]), tf.TensorShape([None, 3])))
    return with_guidance(image, lesion, background, config)
