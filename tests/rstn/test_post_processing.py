"""RSTN's post-processing has two implementations, SimpleITK in the test stages (`rstn.fusion.remove_small_components`)
and TensorFlow in `segment` (`preprocessing.tf_connected_components.keep_large_components`): the same masks on random
masks of several components, and on the empty, half-volume and just-below-half masks whose rules differ."""
import numpy as np
import tensorflow as tf
from scipy import ndimage

from preprocessing.tf_connected_components import keep_large_components
from rstn.fusion import remove_small_components

FRACTIONS = (0.0, 0.1, 0.5, 0.9, 1.0)


def _blobs(rng: np.random.Generator, shape: tuple[int, ...], density: float) -> np.ndarray:
    """uint8 mask of smoothed noise above its quantile: several components of various sizes."""
    smooth = ndimage.gaussian_filter(rng.random(shape), rng.uniform(0.6, 1.5))
    return (smooth > np.quantile(smooth, 1 - density)).astype(np.uint8)


def _rule_masks() -> list[np.ndarray]:
    """Empty; 32 of 64 voxels (half: returned unchanged) with a one-voxel component; 31 (post-processed)."""
    half = np.zeros((4, 4, 4), np.uint8)
    half[:2], half[1, 3, 3], half[3, 0, 0] = 1, 0, 1
    below = half.copy()
    below[0, 0, 0] = 0
    return [np.zeros((3, 4, 5), np.uint8), half, below]


def test_keep_large_components_equals_the_simpleitk_post_processing():
    keep = tf.function(keep_large_components, reduce_retracing=True)
    rng = np.random.default_rng(25)
    masks = [_blobs(rng, tuple(int(s) for s in rng.integers(4, 17, size=3)), rng.uniform(0.03, 0.45))
             for _ in range(36)]
    for index, mask in enumerate(masks + _rule_masks()):
        components = ndimage.label(mask)[1]
        for fraction in FRACTIONS:
            got = keep(tf.constant(mask), fraction).numpy()
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, remove_small_components(mask, fraction),
                                          err_msg=f"mask {index} {mask.shape}, {components} components, {fraction}")
    assert remove_small_components(_rule_masks()[2], 0.5).sum() == 30, "below half, the one-voxel component goes"
