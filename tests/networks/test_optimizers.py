"""GroupedSGD follows PyTorch's SGD with parameter groups (coupled weight decay, the momentum buffer holding
gradients, per-group learning rates), checked step by step against the update written out by hand."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from networks.optimizers import GroupedSGD


def test_updates_equal_pytorch_sgd_with_groups_across_a_learning_rate_change():
    weights = [tf.Variable([1.0, -2.0]), tf.Variable([0.5])]
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([2], [0.1, 0.05])
    optimizer = GroupedSGD(schedule, momentum=0.9, multipliers=[1.0, 10.0], weight_decays=[0.01, 0.0])
    optimizer.build(weights)
    expected = [w.numpy().copy() for w in weights]
    velocity = [np.zeros_like(w) for w in expected]
    for step in range(4):
        gradients = [np.array([0.3, -0.1]) * (step + 1), np.array([0.2])]
        rate = 0.1 if step <= 2 else 0.05  # the schedule switches after iteration 2
        for i, (multiplier, decay) in enumerate([(1.0, 0.01), (10.0, 0.0)]):
            velocity[i] = 0.9 * velocity[i] + multiplier * (gradients[i] + decay * expected[i])
            expected[i] = expected[i] - rate * velocity[i]
        optimizer.apply_gradients(zip([tf.constant(g, tf.float32) for g in gradients], weights))
        for weight, value in zip(weights, expected):
            np.testing.assert_allclose(weight.numpy(), value, rtol=1e-5)


def test_without_momentum_it_is_plain_sgd_and_the_groups_must_match_the_variables():
    weight = tf.Variable([1.0])
    optimizer = GroupedSGD(0.5, momentum=0.0, multipliers=[2.0], weight_decays=[0.0])
    optimizer.apply_gradients([(tf.constant([1.0]), weight)])
    assert weight.numpy()[0] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="multipliers"):
        GroupedSGD(0.1, 0.9, [1.0], [0.0]).build([tf.Variable(1.0), tf.Variable(2.0)])


def test_cosine_annealing_steps_once_per_epoch():
    from networks.optimizers import CosineAnnealingPerEpoch

    schedule = CosineAnnealingPerEpoch(1e-4, 1e-8, epochs=4, steps_per_epoch=3)
    rates = [float(schedule(step)) for step in range(15)]
    expected = [1e-8 + (1e-4 - 1e-8) * (1 + np.cos(np.pi * e / 4)) / 2 for e in (0, 1, 2, 3, 4)]
    np.testing.assert_allclose(rates[:12:3], expected[:4], rtol=1e-5)
    assert rates[0] == rates[1] == rates[2] and rates[12:] == [pytest.approx(1e-8)] * 3


def test_poly_per_epoch_matches_nnunet_by_hand():
    from networks.optimizers import PolyPerEpoch

    schedule = PolyPerEpoch(0.01, epochs=4, steps_per_epoch=3, exponent=0.9)
    rates = [float(schedule(step)) for step in range(12)]
    expected = [0.01 * (1 - e / 4) ** 0.9 for e in (0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3)]
    assert rates == pytest.approx(expected, rel=1e-6)
