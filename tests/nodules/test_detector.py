"""The DeepLung detector network's shapes and its loss on hand values."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from nodules.config import DetectorConfig
from nodules.detector import build_detector
from nodules.detector_loss import detection_loss

TINY = DetectorConfig(filters_pre=4, filters_forward=(4, 8, 8, 8), blocks_forward=(1, 1, 1, 1),
                      filters_backward=(8, 8), blocks_backward=(1, 1), head_filters=8)


def test_output_grid_is_a_quarter_of_the_input_with_five_values_per_anchor():
    model = build_detector(TINY)
    image = tf.zeros((2, 32, 48, 64, 1))
    coord = tf.zeros((2, 8, 12, 16, 3))
    output = model({"image": image, "coord": coord}, training=False)
    assert output.shape == (2, 8, 12, 16, 3, 5) and output.dtype == tf.float32


def _post_res(n_in: int, n_out: int) -> int:
    """PyTorch parameters of grt123's PostRes: two 3^3 convs with bias, two BNs (weight, bias), and a 1^3 conv +
    BN shortcut when the channels change."""
    count = n_in * n_out * 27 + n_out + 2 * n_out + n_out * n_out * 27 + n_out + 2 * n_out
    return count + (n_in * n_out + n_out + 2 * n_out if n_in != n_out else 0)


def test_the_original_configuration_has_the_layers_of_res18():
    # detector/res18.py layer by layer: preBlock, forw1-4 ([2, 2, 3, 3] blocks of 32, 64, 64, 64), path1, back3
    # (3 blocks from 64 + 64), path2, back2 (3 blocks from 64 + 64 + 3 coordinates to 128), output (128 -> 64 -> 15)
    expected = (1 * 24 * 27 + 24 + 48) + (24 * 24 * 27 + 24 + 48)
    expected += _post_res(24, 32) + _post_res(32, 32) + _post_res(32, 64) + _post_res(64, 64)
    expected += 6 * _post_res(64, 64)
    expected += 2 * (64 * 64 * 8 + 64 + 128)
    expected += _post_res(128, 64) + 2 * _post_res(64, 64) + _post_res(131, 128) + 2 * _post_res(128, 128)
    expected += 128 * 64 + 64 + 64 * 15 + 15
    model = build_detector(DetectorConfig())
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected


def _batch(scores: list[float]) -> np.ndarray:
    labels = np.zeros((1, 1, 1, len(scores), 1, 5), np.float32)
    labels[0, 0, 0, :, 0, 0] = scores
    return labels


def test_loss_by_hand_with_hard_negative_mining():
    labels = _batch([1.0, -1.0, -1.0, -1.0, 0.0])
    labels[0, 0, 0, 0, 0, 1:] = [0.5, 0.0, 0.0, 0.0]
    outputs = np.zeros_like(labels)
    outputs[0, 0, 0, :, 0, 0] = [0.0, 2.0, -1.0, 3.0, 9.0]  # the ignored anchor's 9 never counts
    outputs[0, 0, 0, 0, 0, 1:] = [2.5, 0.25, 0.0, 0.0]
    terms = detection_loss(labels, outputs, num_hard=2)
    bce = lambda y, logit: np.log1p(np.exp(-logit)) if y else np.log1p(np.exp(logit))  # noqa: E731
    expected_classify = 0.5 * bce(1, 0.0) + 0.5 * (bce(0, 3.0) + bce(0, 2.0)) / 2  # the two hardest negatives
    assert float(terms["loss_classify"]) == pytest.approx(expected_classify, rel=1e-5)
    assert float(terms["loss_regress_z"]) == pytest.approx(2.0 - 0.5)  # |2.5 - 0.5| >= 1: linear part
    assert float(terms["loss_regress_y"]) == pytest.approx(0.5 * 0.25 ** 2)
    total = expected_classify + 1.5 + 0.5 * 0.25 ** 2
    assert float(sum(terms.values())) == pytest.approx(total, rel=1e-5)
    all_negatives = detection_loss(labels, outputs, num_hard=None)
    assert float(all_negatives["loss_classify"]) == pytest.approx(
        0.5 * bce(1, 0.0) + 0.5 * (bce(0, 2.0) + bce(0, -1.0) + bce(0, 3.0)) / 3, rel=1e-5)


def test_loss_without_positives_is_half_the_negative_term_and_finite():
    labels = _batch([-1.0, -1.0])
    outputs = np.zeros_like(labels)
    terms = detection_loss(labels, outputs, num_hard=2)
    assert float(terms["loss_classify"]) == pytest.approx(0.5 * np.log(2.0))
    assert float(terms["loss_regress_d"]) == 0.0 and np.isfinite(float(sum(terms.values())))


def test_weight_decay_is_an_l2_penalty_of_half_the_decay_on_every_parameter():
    model = build_detector(TINY)
    penalty = float(sum(model.losses))
    expected = TINY.weight_decay / 2 * sum(float(np.sum(np.square(w.numpy()))) for w in model.trainable_weights)
    assert penalty == pytest.approx(expected, rel=1e-4)


def test_learning_rate_schedule_steps_as_deeplung_by_epoch():
    import dataclasses

    from nodules.detector_training import learning_rate_schedule

    config = dataclasses.replace(DetectorConfig(), epochs=10)
    schedule = learning_rate_schedule(config, steps_per_epoch=2)
    rates = [float(schedule(step)) for step in range(20)]
    # epochs 1-3: 0.01; 4-6: 0.001; 7-8: 0.0005; 9-10: 0.0001 (main.py's get_lr with 10 epochs)
    expected = [0.01] * 6 + [0.001] * 6 + [0.0005] * 4 + [0.0001] * 4
    assert rates == pytest.approx(expected)
    # one epoch: epoch 1 is past 0.8 of the run, so the last rate (main.py's rule taken literally)
    assert learning_rate_schedule(dataclasses.replace(config, epochs=1), 5) == pytest.approx(0.0001)


def test_prior_probability_sets_only_the_logit_biases():
    biases = build_detector(dataclasses.replace(TINY, prior_probability=0.01)).get_layer("output").get_weights()[1]
    expected = np.zeros((3, 5), np.float32)
    expected[:, 0] = np.log(0.01 / 0.99)  # -4.59512
    np.testing.assert_allclose(biases.reshape(3, 5), expected, rtol=1e-6)
    assert abs(expected[0, 0] + 4.59512) < 1e-5
    assert not build_detector(TINY).get_layer("output").get_weights()[1].any()
