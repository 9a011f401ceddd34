"""Augmentation ops: label values kept, image/label aligned, deterministic under a seed, traceable."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from preprocessing.augmentation import (IntensityAugmentation, SpatialAugmentation, bspline_matrix, random_deformation,
                                        random_intensity, random_spatial_transform, smooth_labels, spatial_coordinates)


def label_and_image(ndim: int):
    shape = (24, 28, 32)[-ndim:]
    grids = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    label = np.zeros(shape, np.uint8)
    label[sum((g - n / 2) ** 2 for g, n in zip(grids, shape)) < 8 ** 2] = 3
    label[sum((g - n / 3) ** 2 for g, n in zip(grids, shape)) < 4 ** 2] = 7
    image = label.astype(np.float32)[..., None] * 10.0
    return image, label


@pytest.mark.parametrize("ndim", [2, 3])
def test_spatial_transform_keeps_label_values_and_alignment(ndim):
    image, label = label_and_image(ndim)
    config = SpatialAugmentation(translation_mm=4.0, rotation_rad=0.44, deformation_mm=2.0)
    warped, warped_label = random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant([4, 2]), config)
    warped, warped_label = warped.numpy()[..., 0], warped_label.numpy()
    assert warped_label.dtype == np.uint8 and set(np.unique(warped_label)) <= {0, 3, 7}
    assert np.any(warped_label != label), "the transform should move something"
    # Where the interpolated image is flat, it must equal the nearest-neighbour label there.
    flat = np.isclose(warped, np.round(warped / 10) * 10, atol=1e-3)
    assert flat.mean() > 0.8
    np.testing.assert_array_equal(np.round(warped[flat] / 10).astype(np.uint8), warped_label[flat])


def test_same_seed_same_result_different_seed_different_result():
    image, label = label_and_image(3)
    run = lambda seed: random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant(seed))[1].numpy()
    np.testing.assert_array_equal(run([1, 2]), run([1, 2]))
    assert np.any(run([1, 2]) != run([1, 3]))
    noisy = lambda seed: random_intensity(tf.constant(image), tf.constant(seed)).numpy()
    np.testing.assert_array_equal(noisy([5, 5]), noisy([5, 5]))


@pytest.mark.parametrize("config", [None, SpatialAugmentation(translation_mm=0, rotation_rad=0, uniform_scale=0,
                                                                axis_scale=0, deformation_mm=0)])
def test_identity_configuration_is_identity(config):
    image, label = label_and_image(3)
    warped, warped_label = random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant([0, 1]), config)
    np.testing.assert_allclose(warped.numpy(), image, atol=1e-5)
    np.testing.assert_array_equal(warped_label.numpy(), label)


def test_crop_is_cut_around_requested_center_and_zoom_spreads_it():
    image, label = label_and_image(3)
    center = tf.constant([12.0, 14.0, 16.0])
    patch, patch_label = random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant([0, 1]), None,
                                                  output_shape=tf.constant([9, 9, 9]), center=center)
    np.testing.assert_array_equal(patch_label.numpy(), label[8:17, 10:19, 12:21])
    _, zoomed = random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant([0, 1]), None,
                                         output_shape=tf.constant([5, 5, 5]), center=center, zoom=2.0)
    np.testing.assert_array_equal(zoomed.numpy(), label[8:17:2, 10:19:2, 12:21:2])


def test_distances_are_in_mm_whatever_the_spacing():
    """A translation of at most 20 mm moves a 4 mm grid by at most 5 voxels, the same for every point; a
    deformation never exceeds its largest control point displacement (the B-spline weights are convex)."""
    shift_only = SpatialAugmentation(rotation_rad=0, uniform_scale=0, axis_scale=0, deformation_mm=0)
    center = tf.constant([10.0, 10.0, 10.0])
    still = spatial_coordinates(tf.constant([0, 0]), tf.constant([6, 6, 6]), center, 4.0).numpy()
    shifts = []
    for seed in range(20):
        moved = spatial_coordinates(tf.constant([seed, 1]), tf.constant([6, 6, 6]), center, 4.0,
                                    config=shift_only).numpy()
        shift = (moved - still).reshape(-1, 3)
        np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-5)
        shifts.append(shift[0])
    shifts = np.abs(np.asarray(shifts))
    assert shifts.max() <= 5.0 + 1e-5 and shifts.max() > 3.0
    field = random_deformation(tf.constant([3, 4]), tf.constant([20, 24, 28]), SpatialAugmentation()).numpy()
    assert np.abs(field).max() <= 15.0 + 1e-4 and np.abs(field).max() > 3.0


@pytest.mark.parametrize("nodes, order", [(8, 2), (7, 3)])
def test_bspline_weights_partition_unity_and_traced_transform_has_dynamic_shapes(nodes, order):
    weights = bspline_matrix(tf.constant(17), nodes, order).numpy()
    assert weights.shape == (17, nodes) and np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert np.count_nonzero(weights[8]) <= order + 1
    traced = tf.function(lambda x, y, s: random_spatial_transform(x, y, s),
                         input_signature=[tf.TensorSpec([None, None, None, 1]),
                                          tf.TensorSpec([None, None, None], tf.uint8), tf.TensorSpec([2], tf.int32)])
    for shape in [(10, 12, 14), (7, 9, 5)]:
        out, out_label = traced(tf.zeros(shape + (1,)), tf.zeros(shape, tf.uint8), tf.constant([1, 1]))
        assert out.shape == shape + (1,) and out_label.shape == shape


def test_label_smoothing_removes_specks_and_keeps_blocks():
    label = np.zeros((12, 12, 12), np.uint8)
    label[2:9, 2:9, 2:9] = 2
    label[10, 10, 10] = 1
    smoothed = smooth_labels(tf.constant(label), 1.0).numpy()
    assert smoothed.dtype == np.uint8 and not np.any(smoothed == 1), "a one-voxel label loses to its background"
    np.testing.assert_array_equal(smoothed[3:8, 3:8, 3:8], 2)
    assert smoothed[0, 0, 0] == 0 and smoothed[2, 2, 2] == 0, "block corners are rounded off"
    np.testing.assert_array_equal(smooth_labels(tf.constant(label), 0.0).numpy(), label)


def test_intensity_augmentation_changes_values_within_bounds():
    image = np.linspace(-1, 1, 1000, dtype=np.float32).reshape(10, 100, 1)
    config = dataclasses.replace(IntensityAugmentation(), noise_std=0.0)
    out = random_intensity(tf.constant(image), tf.constant([3, 9]), config).numpy()
    assert not np.allclose(out, image)
    assert np.all(np.diff(out.ravel()) >= -1e-5), "without noise the mapping must stay monotonic"
    assert out.min() >= -1.0 * 1.25 - 0.1 - 1e-5 and out.max() <= 1.25 + 0.1 + 1e-5
