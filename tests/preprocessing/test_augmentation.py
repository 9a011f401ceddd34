"""Augmentation ops: label values kept, image/label aligned, deterministic under a seed, traceable."""
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from preprocessing.augmentation import (IntensityAugmentation, SpatialAugmentation, bspline_matrix, random_intensity,
                                        random_spatial_transform)


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
    config = SpatialAugmentation(rotation_degrees=25, elastic_magnitude_voxels=2.0)
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


def test_identity_configuration_is_identity():
    image, label = label_and_image(3)
    identity = SpatialAugmentation(rotation_degrees=0, scale_range=(1, 1), translation_voxels=0, shear=0,
                                   elastic_magnitude_voxels=0)
    warped, warped_label = random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant([0, 1]), identity)
    np.testing.assert_allclose(warped.numpy(), image, atol=1e-5)
    np.testing.assert_array_equal(warped_label.numpy(), label)


def test_patch_output_is_cut_around_requested_center():
    image, label = label_and_image(3)
    still = SpatialAugmentation(rotation_degrees=0, scale_range=(1, 1), translation_voxels=0, shear=0,
                                elastic_magnitude_voxels=0)
    center = tf.constant([12.0, 14.0, 16.0])
    patch, patch_label = random_spatial_transform(tf.constant(image), tf.constant(label), tf.constant([0, 1]), still,
                                                  output_shape=tf.constant([9, 9, 9]), center=center)
    np.testing.assert_array_equal(patch_label.numpy(), label[8:17, 10:19, 12:21])


def test_bspline_weights_partition_unity_and_traced_transform_has_dynamic_shapes():
    weights = bspline_matrix(tf.constant(17), 5).numpy()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    traced = tf.function(lambda x, y, s: random_spatial_transform(x, y, s),
                         input_signature=[tf.TensorSpec([None, None, None, 1]), tf.TensorSpec([None, None, None], tf.uint8),
                                          tf.TensorSpec([2], tf.int32)])
    for shape in [(10, 12, 14), (7, 9, 5)]:
        out, out_label = traced(tf.zeros(shape + (1,)), tf.zeros(shape, tf.uint8), tf.constant([1, 1]))
        assert out.shape == shape + (1,) and out_label.shape == shape


def test_intensity_augmentation_changes_values_within_bounds():
    image = np.linspace(-1, 1, 1000, dtype=np.float32).reshape(10, 100, 1)
    config = dataclasses.replace(IntensityAugmentation(), noise_std=0.0)
    out = random_intensity(tf.constant(image), tf.constant([3, 9]), config).numpy()
    assert not np.allclose(out, image)
    assert np.all(np.diff(out.ravel()) >= -1e-5), "without noise the mapping must stay monotonic"
    assert out.min() >= -1.0 * 1.25 - 0.1 - 1e-5 and out.max() <= 1.25 + 0.1 + 1e-5
