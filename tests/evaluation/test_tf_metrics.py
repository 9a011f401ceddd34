"""The in-graph Dice equals `evaluation.metrics.dice` bit for bit, on random masks of any overlap and on the empty
cases (both empty 1, one empty 0), also traced with unknown shapes."""
import numpy as np
import tensorflow as tf

from evaluation import metrics, tf_metrics


def test_in_graph_dice_equals_the_numpy_dice():
    traced = tf.function(tf_metrics.dice, input_signature=[tf.TensorSpec([None, None, None], tf.uint8)] * 2)
    rng = np.random.default_rng(3)
    empty = np.zeros((4, 5, 6), np.uint8)
    pairs = [(empty, empty), (empty, empty + 1), (empty + 1, empty)]
    for _ in range(30):
        shape = tuple(int(s) for s in rng.integers(1, 12, size=3))
        pairs.append(tuple((rng.random(shape) < rng.uniform(0.01, 0.9)).astype(np.uint8) for _ in range(2)))
    for prediction, reference in pairs:
        expected = metrics.dice(prediction, reference)
        assert tf_metrics.dice(prediction, reference).numpy() == expected
        assert traced(prediction, reference).numpy() == expected
    assert tf_metrics.dice(empty, empty).numpy() == 1.0 and tf_metrics.dice(empty, empty + 1).numpy() == 0.0
    assert tf_metrics.dice(np.ones(3, bool), np.array([True, False, False])).dtype == tf.float64
