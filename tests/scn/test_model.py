"""SpatialConfiguration-Net components: outputs, spatial inputs per label, uncertainty merge, noise."""
import numpy as np
import pytest
import tensorflow as tf

from localization.config import LocalizationConfig
from localization.model import build_localization_model
from scn.config import SCNConfig
from scn.model import SaltPepperNoise, SpatialConfiguration, SpatialUncertaintyMerge, build_scn_model

TINY = SCNConfig(local_filters=4, local_levels=3, spatial_filters=4, spatial_levels=2,
                 valid_sizes=((16,), (16,), (16,)))


def test_scn_outputs_probabilities_and_logits_for_all_labels():
    model = build_scn_model(TINY)
    outputs = model(tf.random.normal((2, 16, 16, 24, 1)), training=False)
    for name in ("prediction", "local_logits", "spatial_logits"):
        assert outputs[name].shape == (2, 16, 16, 24, 5) and outputs[name].dtype == tf.float32
    np.testing.assert_allclose(tf.reduce_sum(outputs["prediction"], -1).numpy(), 1.0, atol=1e-4)


def test_paper_default_configuration():
    config = SCNConfig()
    assert (config.local_filters, config.local_levels, config.spatial_filters, config.spatial_levels,
            config.spatial_downsample, config.spacing_mm) == (32, 5, 16, 4, 4, 2.0)
    assert config.size_multiple == 32
    localization = LocalizationConfig()
    assert (localization.num_filters, localization.num_levels, localization.dropout, localization.spacing_mm) == \
        (32, 5, 0.1, 6.0)
    assert build_localization_model(LocalizationConfig(num_filters=4, num_levels=3))(tf.zeros((1, 8, 8, 8, 1))).shape \
        == (1, 8, 8, 8, 2)


def test_each_spatial_unet_sees_the_image_and_the_other_organs():
    assert SpatialConfiguration.input_channels(0, 5) == [1, 2, 3, 4]
    assert SpatialConfiguration.input_channels(2, 5) == [1, 3, 4]
    layer = SpatialConfiguration(num_labels=5, num_filters=2, num_levels=2, downsample=4)
    layer([tf.zeros((1, 16, 16, 16, 5)), tf.zeros((1, 16, 16, 16, 1))])
    kernels = {u.name: [w for w in u.trainable_weights if len(w.shape) == 5][0] for u in layer.unets}
    assert kernels["unet_l0"].shape[3] == 1 + 4
    assert all(kernels[f"unet_l{i}"].shape[3] == 1 + 3 for i in range(1, 5))


def test_uncertainty_merge_trusts_confident_spatial_and_falls_back_to_local():
    local = tf.constant([[[[[-4.0, 4.0]]]]])
    confident = SpatialUncertaintyMerge()([local, tf.constant([[[[[20.0, -20.0]]]]])]).numpy().ravel()
    np.testing.assert_allclose(confident, [1.0, 0.0], atol=1e-3)
    unsure = SpatialUncertaintyMerge()([local, tf.zeros((1, 1, 1, 1, 2))]).numpy().ravel()
    expected = 1 / (1 + np.exp(-np.array([-4.0, 4.0])))
    np.testing.assert_allclose(unsure, expected / expected.sum(), atol=1e-4)


def test_salt_pepper_noise_only_in_training():
    noise = SaltPepperNoise(ratio=0.2, scales=(1, 2))
    x = tf.fill((1, 8, 8, 8, 2), 0.5)
    np.testing.assert_array_equal(noise(x, training=False), x)
    noisy = noise(x, training=True).numpy()
    assert set(np.unique(noisy)) == {0.0, 0.5, 1.0}
    assert 0.1 < np.mean(noisy != 0.5) < 0.6
