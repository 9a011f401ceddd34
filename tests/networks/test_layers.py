"""U-Net, resize layers and losses: shapes, serialisation, interpolation and loss values."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from networks.losses import dice_per_image, generalized_dice_loss
from networks.resize import Upsampling3D
from networks.unet import UNetAvgLinear3D


@pytest.mark.parametrize("levels, shape", [(3, (8, 12, 16)), (4, (16, 8, 24))])
def test_unet_keeps_spatial_shape_and_outputs_num_filters(levels, shape):
    unet = UNetAvgLinear3D(num_filters=6, num_levels=levels)
    assert unet(tf.zeros((2, *shape, 3))).shape == (2, *shape, 6)
    convs = [w for w in unet.trainable_weights if len(w.shape) == 5]
    assert len(convs) == 2 * (2 * levels - 1), "two convolutions per block on each level"
    assert {w.shape[-1] for w in convs} == {6}, "constant filter count on every level"


def test_unet_config_round_trip_and_dropout_only_in_training():
    unet = UNetAvgLinear3D(num_filters=4, num_levels=2, dropout=0.5)
    clone = UNetAvgLinear3D.from_config(unet.get_config())
    assert clone.get_config() == unet.get_config()
    x = tf.random.normal((1, 4, 4, 4, 1))
    np.testing.assert_allclose(unet(x, training=False), unet(x, training=False))
    assert not np.allclose(unet(x, training=True), unet(x, training=False))


@pytest.mark.parametrize("method", ["linear", "cubic"])
def test_upsampling_preserves_linear_ramps_inside(method):
    ramp = tf.reshape(tf.range(8, dtype=tf.float32), (1, 8, 1, 1, 1)) * tf.ones((1, 8, 4, 4, 1))
    up = Upsampling3D(2, method)(ramp).numpy()[0, :, 0, 0, 0]
    assert up.shape == (16,)
    expected = (np.arange(16) + 0.5) / 2 - 0.5
    np.testing.assert_allclose(up[3:-3], expected[3:-3], atol=1e-4)
    layer = Upsampling3D.from_config(Upsampling3D((1, 2, 4), method).get_config())
    assert layer(tf.zeros((1, 2, 3, 4, 2))).shape == (1, 2, 6, 16, 2)


def test_generalized_dice_loss_zero_for_perfect_and_high_for_wrong():
    labels = tf.one_hot(tf.constant(np.random.default_rng(0).integers(0, 3, (1, 6, 6, 6))), 3)
    assert float(generalized_dice_loss(labels, labels)) == pytest.approx(0.0, abs=1e-4)
    assert float(generalized_dice_loss(labels, tf.roll(labels, 1, axis=-1))) > 0.9
    np.testing.assert_allclose(dice_per_image(labels, labels).numpy(), 1.0 + 1e-7, atol=1e-6)


def test_cfcm_dice_per_image_on_hand_values_squared_and_not():
    """Two 1 x 2 images, one channel: t = (1, 1), p = (0.5, 0.5) and t = (1, 0), p = (1, 0.5).
    Squared (the original): 2 x 1 / (2 + 0.5) = 0.8 and 2 x 1 / (1 + 1.25) = 0.8889; plain: 2 / 3 and 2 / 2.5."""
    labels = tf.constant([[[1.0], [1.0]], [[1.0], [0.0]]])
    probabilities = tf.constant([[[0.5], [0.5]], [[1.0], [0.5]]])
    np.testing.assert_allclose(dice_per_image(labels, probabilities).numpy()[:, 0], [0.8, 2 / 2.25], atol=1e-6)
    np.testing.assert_allclose(dice_per_image(labels, probabilities, squared=False).numpy()[:, 0], [2 / 3, 0.8],
                               atol=1e-6)
    assert keras.__version__.startswith("3.")


def test_dice_ce_loss_on_hand_values():
    from networks.losses import dice_ce_loss

    # one image, two voxels: labels (1, 0); softmax probabilities (0.25, 0.75) and (0.5, 0.5)
    logits = tf.constant([[[np.log(1.0), np.log(3.0)], [0.0, 0.0]]])
    labels = tf.constant([[1, 0]])
    ce = -(np.log(0.75) + np.log(0.5)) / 2
    # class 0: t = (0, 1), p = (0.25, 0.5); class 1: t = (1, 0), p = (0.75, 0.5)
    squared = [1 - (2 * 0.5 + 1e-5) / (1 + 0.0625 + 0.25 + 1e-5), 1 - (2 * 0.75 + 1e-5) / (1 + 0.5625 + 0.25 + 1e-5)]
    plain = [1 - (2 * 0.5 + 1e-5) / (1 + 0.75 + 1e-5), 1 - (2 * 0.75 + 1e-5) / (1 + 1.25 + 1e-5)]
    np.testing.assert_allclose(dice_ce_loss(labels, logits).numpy(), np.mean(squared) + ce, rtol=1e-5)
    np.testing.assert_allclose(dice_ce_loss(labels, logits, squared=False).numpy(), np.mean(plain) + ce, rtol=1e-5)
    np.testing.assert_allclose(dice_ce_loss(labels, logits, include_background=False).numpy(), squared[1] + ce,
                               rtol=1e-5)
