"""Sliding window blending and the traced geometry functions of the CT pipeline."""
import numpy as np
import pytest
import tensorflow as tf

from inference import tf_utils
from inference.postprocess import keep_largest_components
from inference.sliding_window import gaussian_weights, sliding_window_inference, window_starts


@pytest.mark.parametrize("shape", [(20, 33, 17), (8, 8, 8), (5, 40, 9)])
@pytest.mark.parametrize("blending", ["gaussian", "constant"])
def test_sliding_window_reassembles_identity_network_exactly(shape, blending):
    volume = np.random.default_rng(0).random(shape + (1,)).astype(np.float32)
    calls = []

    def identity(batch):
        calls.append(len(batch))
        return np.concatenate([batch, 2 * batch], axis=-1)

    out = sliding_window_inference(volume, (8, 16, 8), identity, 2, overlap=0.5, batch_size=3, blending=blending)
    assert out.shape == shape + (2,)
    np.testing.assert_allclose(out[..., 0], volume[..., 0], rtol=1e-5)
    np.testing.assert_allclose(out[..., 1], 2 * volume[..., 0], rtol=1e-5)
    assert max(calls) <= 3


def test_window_starts_cover_axis_with_overlap():
    starts = window_starts(100, 32, 0.5)
    assert starts[0] == 0 and starts[-1] == 68
    assert all(b - a <= 16 for a, b in zip(starts, starts[1:]))
    assert window_starts(10, 32, 0.5) == [0]
    weights = gaussian_weights((9, 9))
    assert weights[4, 4] == 1.0 and weights.min() > 0


def test_network_input_resamples_region_windows_and_pads_to_multiple():
    volume = tf.constant(np.full((20, 30, 40), 40.0, np.float32))
    out = tf_utils.network_input(volume, tf.constant([2.5, 0.8, 0.8]), tf.constant([5.0, 4.0, 4.0]),
                                 tf.constant([30.0, 20.0, 24.0]), tf.constant(2.0), tf.constant([-1000.0, 1000.0]),
                                 tf.constant(8))
    assert out["shape"].numpy().tolist() == [13, 9, 11]
    assert out["image"].shape == (1, 16, 16, 16, 1)
    image = out["image"].numpy()[0, ..., 0]
    np.testing.assert_allclose(image[:13, :9, :11], 0.04, atol=1e-5)


def test_bounding_box_of_localization_output_with_margin_and_fallback():
    probabilities = np.zeros((1, 10, 10, 10, 2), np.float32)
    probabilities[..., 0] = 1
    probabilities[0, 3:5, 2:6, 4, 1] = 2
    box = tf_utils.bounding_box(tf.constant(probabilities), tf.constant([6.0, 6.0, 6.0]), tf.constant(3.0),
                                tf.constant([40, 60, 60]), tf.constant([1.5, 1.0, 1.0]))
    np.testing.assert_allclose(box["start_mm"], [15, 9, 21])
    np.testing.assert_allclose(box["end_mm"], [27, 33, 27])
    empty = tf_utils.bounding_box(tf.constant(probabilities[..., ::-1] * 0), tf.constant([6.0, 6.0, 6.0]),
                                  tf.constant(3.0), tf.constant([40, 60, 60]), tf.constant([1.5, 1.0, 1.0]))
    np.testing.assert_allclose(empty["end_mm"], [58.5, 59, 59])


def test_labels_on_original_grid_inverts_region_resampling():
    labels = np.zeros((30, 48, 48), np.uint8)
    labels[8:20, 10:30, 12:36] = 1
    labels[12:18, 30:40, 20:30] = 2
    spacing = tf.constant([3.0, 0.9, 0.9])
    start, end = tf.constant([15.0, 6.3, 8.1]), tf.constant([66.0, 39.6, 37.8])
    one_hot = tf.one_hot(labels, 3)
    region = tf.stack([tf_utils.network_input(one_hot[..., c] * 2000 - 1000, spacing, start, end, tf.constant(1.5),
                                              tf.constant([-1000.0, 1000.0]), tf.constant(1))["image"][0, ..., 0]
                       for c in range(3)], axis=-1)
    region = (region + 1) / 2
    back = tf_utils.labels_on_original_grid(region, tf.constant([1.5] * 3), start, tf.constant(labels.shape),
                                            spacing).numpy()
    assert back.dtype == np.uint8 and back.shape == labels.shape
    inside = np.zeros(labels.shape, bool)
    inside[5:23, 7:45, 9:43] = True
    assert np.mean(back[inside] == labels[inside]) > 0.97
    assert np.all(back[~inside] == 0)


def test_keep_largest_components_respects_count_per_label():
    labels = np.zeros((10, 20, 20), np.uint8)
    labels[2:6, 2:8, 2:8] = 1
    labels[2:3, 15:17, 15:17] = 1
    labels[2:6, 10:14, 2:5] = 2
    labels[2:6, 10:14, 15:18] = 2
    labels[8, 18, 18] = 2
    out = keep_largest_components(labels, {2: 2})
    assert (out == 1).sum() == 4 * 6 * 6
    assert (out == 2).sum() == 4 * 4 * 3 * 2
    assert not keep_largest_components(np.zeros((3, 3), np.uint8), {}).any()
