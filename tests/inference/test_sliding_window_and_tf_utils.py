"""Sliding window blending and the traced geometry functions of the CT pipeline."""
import numpy as np
import pytest
import tensorflow as tf

from inference import tf_utils
from inference import postprocess
from inference.postprocess import keep_largest_components
from inference.sliding_window import gaussian_weights, sliding_window_inference, window_starts
from preprocessing import tf_geometry


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


def network_input(volume, spacing, start, end, base_spacing, valid_sizes, fit=True, sigma=1.0, tolerance=0.05,
                  multiple=8):
    return tf_utils.network_input(tf.constant(volume, tf.float32), tf.constant(spacing, tf.float32),
                                  tf.constant(start, tf.float32), tf.constant(end, tf.float32),
                                  tf.constant(base_spacing, tf.float32), tf.constant(sigma, tf.float32),
                                  tf.constant([-1000.0, 1000.0]), tf.constant(valid_sizes, tf.int32),
                                  tf.constant(tolerance, tf.float32), tf.constant(multiple), tf.constant(fit))


def test_network_input_centres_the_region_in_the_smallest_larger_valid_size_on_the_lattice():
    volume = np.full((20, 30, 40), 40.0, np.float32)
    spacing = [2.5, 0.8, 0.8]
    box = tf_utils.whole_volume_box(tf.constant(volume.shape), tf.constant(spacing))
    np.testing.assert_allclose(box["start_mm"], [-1.25, -0.4, -0.4])
    np.testing.assert_allclose(box["end_mm"], [48.75, 23.6, 31.6])
    # extent 50 x 24 x 32 mm at 2 mm: 25, 12, 16 voxels -> valid sizes 32, 16, 32 (strictly larger, as the original).
    out = network_input(volume, spacing, box["start_mm"], box["end_mm"], 2.0, [[16, 32]] * 3)
    assert out["image"].shape == (1, 32, 16, 32, 1) and float(out["grid_spacing"]) == 2.0
    # Lattices of 25 / 12 / 16 voxels centred on the volume centre (23.75, 11.6, 15.6) mm; the grids start 3, 2 and
    # 8 lattice voxels before them: z -0.25 - 6, y 0.6 - 4, x 0.6 - 16.
    np.testing.assert_allclose(out["offset_mm"], [-6.25, -3.4, -15.4], atol=1e-5)
    image = out["image"].numpy()[0, ..., 0]
    # Slices at -6.25 + 2k mm lie in the volume ([-1.25, 48.75) mm) for k = 3..27; air (-1 after windowing) elsewhere.
    np.testing.assert_allclose(image[3:28, 2:14, 8:24], 0.04, atol=1e-5)
    assert np.all(image[:3] == -1.0) and np.all(image[28:] == -1.0)


def test_network_input_enlarges_the_spacing_to_fit_or_keeps_it_for_a_sliding_window():
    volume = np.zeros((50, 10, 10), np.float32)
    box = tf_utils.whole_volume_box(tf.constant(volume.shape), tf.constant([1.0, 1.0, 1.0]))
    fitted = network_input(volume, [1.0] * 3, box["start_mm"], box["end_mm"], 1.0, [[16, 32]] * 3)
    # 50 mm needs r = 50 / 32 = 1.5625 largest sizes: spacing 1.0 x (1.5625 + 0.05), 32 voxels.
    np.testing.assert_allclose(float(fitted["grid_spacing"]), 1.6125, rtol=1e-6)
    assert fitted["image"].shape == (1, 32, 16, 16, 1)
    kept = network_input(volume, [1.0] * 3, box["start_mm"], box["end_mm"], 1.0, [[16, 32]] * 3, fit=False)
    assert float(kept["grid_spacing"]) == 1.0 and kept["image"].shape == (1, 56, 16, 16, 1)


def test_bounding_box_of_localization_output_with_margin_and_fallback():
    probabilities = np.zeros((1, 10, 10, 10, 2), np.float32)
    probabilities[..., 0] = 1
    probabilities[0, 3:5, 2:6, 4, 1] = 2
    box = tf_utils.bounding_box(tf.constant(probabilities), tf.constant(6.0), tf.constant([-3.0, 0.0, 3.0]),
                                tf.constant(3.0), tf.constant([40, 60, 60]), tf.constant([1.5, 1.0, 1.0]))
    # Voxel edges z 3..4, y 2..5, x 4..4 at 6 mm from the offset, grown by the 3 mm margin.
    np.testing.assert_allclose(box["start_mm"], [-3 + 18 - 3 - 3, 12 - 3 - 3, 3 + 24 - 3 - 3])
    np.testing.assert_allclose(box["end_mm"], [-3 + 24 + 3 + 3, 30 + 3 + 3, 3 + 24 + 3 + 3])
    empty = tf_utils.bounding_box(tf.constant(probabilities[..., ::-1] * 0), tf.constant(6.0),
                                  tf.constant([0.0, 0.0, 0.0]), tf.constant(3.0), tf.constant([40, 60, 60]),
                                  tf.constant([1.5, 1.0, 1.0]))
    np.testing.assert_allclose(empty["start_mm"], [-0.75, -0.5, -0.5])
    np.testing.assert_allclose(empty["end_mm"], [59.25, 59.5, 59.5])


def test_labels_on_original_grid_inverts_region_resampling():
    labels = np.zeros((30, 48, 48), np.uint8)
    labels[8:20, 10:30, 12:36] = 1
    labels[12:18, 30:40, 20:30] = 2
    spacing = [3.0, 0.9, 0.9]
    start, end = [15.0, 6.3, 8.1], [66.0, 39.6, 37.8]
    one_hot = np.eye(3, dtype=np.float32)[labels]
    inputs = [network_input(one_hot[..., c] * 2000 - 1000, spacing, start, end, 1.5, [[48], [32], [32]], sigma=0.0)
              for c in range(3)]
    region = tf.stack([(i["image"][0, ..., 0] + 1) / 2 for i in inputs], axis=-1)
    assert region.shape == (48, 32, 32, 3)
    back = tf_utils.labels_on_original_grid(region, inputs[0]["grid_spacing"], inputs[0]["offset_mm"],
                                            tf.constant(labels.shape), tf.constant(spacing)).numpy()
    assert back.dtype == np.uint8 and back.shape == labels.shape
    assert np.mean(back[labels > 0] == labels[labels > 0]) > 0.95
    assert np.mean(back == labels) > 0.98


def test_labels_on_original_grid_slab_by_slab_equals_resampling_everything_at_once():
    probabilities = np.random.default_rng(4).random((20, 11, 12, 4)).astype(np.float32)
    spacing, start = [0.9, 0.7, 0.8], [-2.0, 1.5, 0.3]
    shape = [50, 34, 30]  # the grid reaches z = 36 mm: 41 original slices, two slabs of 16 and a partial one
    back = tf_utils.labels_on_original_grid(tf.constant(probabilities), 2.0, tf.constant(start), tf.constant(shape),
                                            tf.constant(spacing)).numpy()
    first = np.ceil(np.array(start) / spacing).astype(int).clip(0)
    end = np.array(start) + 2.0 * (np.array(probabilities.shape[:3]) - 1)
    count = np.floor(end / spacing).astype(int) - first + 1
    resampled = tf_geometry.resample_to_grid(probabilities, [2.0] * 3, count, spacing,
                                             first * np.array(spacing) - start).numpy()
    expected = np.zeros(shape, np.uint8)
    expected[tuple(slice(f, f + c) for f, c in zip(first, count))] = np.argmax(resampled, axis=-1)
    assert count[0] > 2 * tf_utils.BACKPROJECTION_SLAB
    np.testing.assert_array_equal(back, expected)


def test_keep_largest_components_per_label_with_face_connectivity():
    labels = np.zeros((6, 12, 12), np.uint8)
    labels[1:4, 1:5, 1:5] = 1  # 48 voxels: label 1's largest
    labels[1, 6, 6] = 1  # an island of label 1
    labels[2:4, 6:9, 1:3] = 7  # 12 voxels, touching label 1's block face to face
    labels[4, 9, 9] = 7  # 1 voxel
    labels[5, 10, 10] = 7  # 1 voxel, diagonal to the one above: a separate component
    labels[0, 9:11, 0:3] = 7  # 6 voxels: label 7's second largest
    kept = keep_largest_components(labels, {7: 2})
    expected = labels.copy()
    expected[1, 6, 6] = 0
    expected[4, 9, 9] = expected[5, 10, 10] = 0
    np.testing.assert_array_equal(kept, expected)
    np.testing.assert_array_equal(keep_largest_components(labels[2], {}), np.where(labels[2] == 1, 1, 0) +
                                  np.where(labels[2] == 7, 7, 0) * (np.arange(12)[:, None] >= 6))
    assert not keep_largest_components(np.zeros((3, 4), np.uint8), {}).any()


def test_keep_largest_components_when_one_label_fills_the_labelled_box():
    labels = np.zeros((4, 5, 6), np.uint8)
    labels[1:3, 1:4, 2:5] = 9  # no background inside the labels' bounding box
    np.testing.assert_array_equal(keep_largest_components(labels, {}), labels)
    single = np.zeros((3, 3), np.int64)
    single[1, 2] = 300
    np.testing.assert_array_equal(keep_largest_components(single, {}), single)


def test_value_counts_by_slabs_and_largest_ids_rank_ties_by_lower_id(monkeypatch):
    monkeypatch.setattr(postprocess, "SLAB_VOXELS", 4)  # 1 row of 4 voxels per bincount call
    ids = np.array([[0, 1, 1, 2], [3, 3, 2, 0], [4, 4, 4, 1]], np.uint32)
    sizes = postprocess.value_counts(ids, 4)
    np.testing.assert_array_equal(sizes, [2, 3, 2, 2, 3])
    np.testing.assert_array_equal(postprocess.largest_ids(sizes, 1), [1])
    np.testing.assert_array_equal(postprocess.largest_ids(sizes, 4), [1, 4, 2, 3])
    np.testing.assert_array_equal(postprocess.value_counts(ids[:, ::2], 4), [1, 1, 1, 1, 2])
