"""Smoothing and sampling as one matrix per axis: matrices on hand values, and the matrix products against the
convolution-then-gather implementation they replace (`tf_smoothing`, `tf_sampling`)."""
import numpy as np
import tensorflow as tf

from preprocessing.tf_axis_operators import interpolation_matrix, resample_with_operators, smoothing_matrix
from preprocessing.tf_sampling import resample_axis_aligned
from preprocessing.tf_smoothing import gaussian_filter


def test_interpolation_matrix_on_hand_values():
    # Coordinates -0.25, 1.25, 2.75, 4.25 on 4 voxels: the border voxel clamped, two inner lerps, one outside.
    matrix, inside = interpolation_matrix(4, 4, 1.5, -0.25)
    np.testing.assert_allclose(matrix.numpy(), [[1, 0, 0, 0], [0, 0.75, 0.25, 0], [0, 0, 0.25, 0.75], [0, 0, 0, 0]])
    assert inside.numpy().tolist() == [True, True, True, False]


def test_smoothing_matrix_folds_mirrored_borders_back():
    # sigma 0.25 voxels: radius ceil(1.5) = 2, weights exp(-8 x^2) normalised; the border voxel is repeated.
    weights = np.exp(-8.0 * np.arange(-2, 3) ** 2)
    weights /= weights.sum()
    matrix = smoothing_matrix(5, 0.25).numpy()
    np.testing.assert_allclose(matrix[2], weights, rtol=1e-6)
    np.testing.assert_allclose(matrix[0], [weights[2] + weights[1] + weights[0], weights[3], weights[4], 0, 0],
                               rtol=1e-6)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(smoothing_matrix(3, 0.0).numpy(), np.eye(3))


def test_operators_equal_smoothing_then_sampling():
    volume = np.random.default_rng(3).normal(size=(17, 23, 29)).astype(np.float32) * 300
    sigma = tf.constant([0.8, 2.5, 0.0])
    shape, scale, offset = [12, 30, 9], tf.constant([1.6, 0.7, 3.1]), tf.constant([-1.2, 2.3, -0.4])
    expected = resample_axis_aligned(gaussian_filter(volume[..., None], sigma)[..., 0], shape, scale, offset,
                                     "linear", -1024.0).numpy()
    operators = []
    for axis in range(3):
        sampling, inside = interpolation_matrix(volume.shape[axis], shape[axis], scale[axis], offset[axis])
        operators.append((tf.matmul(sampling, smoothing_matrix(volume.shape[axis], sigma[axis])), inside))
    result = resample_with_operators(tf.constant(volume), operators, -1024.0).numpy()
    assert (expected == -1024.0).any() and (expected != -1024.0).any()
    np.testing.assert_array_equal(result == -1024.0, expected == -1024.0)
    np.testing.assert_allclose(result, expected, atol=1e-3)
