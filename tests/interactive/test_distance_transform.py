"""The TensorFlow EDT equals SciPy's on random masks with anisotropic spacing (2D and 3D, sparse and dense, touching
the array's border), in eager and graph mode with unknown shapes."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from interactive.distance_transform import distance_transform_edt


def _random_mask(shape, density, seed):
    rng = np.random.default_rng(seed)
    blobs = ndimage.gaussian_filter(rng.random(shape), 1.5)
    return blobs > np.quantile(blobs, 1 - density)


@pytest.mark.parametrize("shape, spacing, density", [
    ((17, 23), (2.5, 0.7), 0.3),
    ((12, 20, 16), (3.0, 2.03642011, 2.03642011), 0.2),
    ((12, 20, 16), (0.5, 1.0, 4.0), 0.9),
    ((9, 31, 14), (1.0, 1.0, 1.0), 0.6),
])
def test_equals_scipy(shape, spacing, density):
    for seed in range(3):
        mask = _random_mask(shape, density, seed)
        expected = ndimage.distance_transform_edt(mask, sampling=spacing)
        got = distance_transform_edt(tf.constant(mask), spacing).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_single_region_far_from_the_border_and_an_empty_mask():
    mask = np.zeros((40, 40, 40), bool)
    mask[10:30, 5:12, 20:39] = True
    spacing = (1.5, 0.8, 3.0)
    np.testing.assert_allclose(distance_transform_edt(mask, spacing).numpy(),
                               ndimage.distance_transform_edt(mask, sampling=spacing), rtol=1e-5, atol=1e-5)
    assert not distance_transform_edt(np.zeros((4, 5, 6), bool), spacing).numpy().any()


def test_graph_mode_with_unknown_shape():
    spacing = (2.0, 1.0, 1.0)
    transform = tf.function(lambda m: distance_transform_edt(m, spacing),
                            input_signature=[tf.TensorSpec([None, None, None], tf.bool)])
    mask = _random_mask((10, 18, 13), 0.4, 7)
    np.testing.assert_allclose(transform(tf.constant(mask)).numpy(),
                               ndimage.distance_transform_edt(mask, sampling=spacing), rtol=1e-5, atol=1e-5)
