"""The training sample's click rounds: all of them at probability 1 (the original's default, no draw), none at 0, and
in the DeepGrow mode a first draw then one per round (mean p * p * rounds, no clicks with probability
1 - p + p * (1 - p) ** rounds), reproducible from the seed."""
import numpy as np
import pytest
import tensorflow as tf

from interactive.config import InteractiveConfig
from interactive.interaction import click_rounds


def test_probability_one_gives_every_round_and_zero_none():
    assert click_rounds(3, 1.0, tf.constant([1, 2])) == 3
    assert all(int(click_rounds(3, 0.0, tf.constant([s, 7]))) == 0 for s in range(20))


def test_deepgrow_mode_draws_the_sample_then_each_round():
    rounds, probability = 3, 0.5
    counts = np.array([int(click_rounds(rounds, probability, tf.constant([s, 11]))) for s in range(2000)])
    assert counts.min() == 0 and counts.max() == rounds
    assert abs(counts.mean() - probability * probability * rounds) < 0.06
    assert abs((counts == 0).mean() - (1 - probability + probability * (1 - probability) ** rounds)) < 0.04
    assert int(click_rounds(rounds, probability, tf.constant([5, 11]))) == counts[5]


def test_probability_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="click_probability"):
        InteractiveConfig(click_probability=1.5)
