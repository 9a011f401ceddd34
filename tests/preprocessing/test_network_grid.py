"""The one preprocessing of CT volumes onto network grids: the original's size and spacing rules on hand
values, and Gaussian smoothing against a direct NumPy convolution."""
import numpy as np
import pytest
import tensorflow as tf

from preprocessing import network_grid
from preprocessing.tf_smoothing import gaussian_filter, gaussian_kernel

LOCALIZATION_SIZES = network_grid.padded_valid_sizes((tuple(range(32, 257, 16)), (32, 48, 64, 80), (32, 48, 64, 80)))
SCN_SIZES = network_grid.padded_valid_sizes(((32, 64, 96, 128, 160), (32, 64, 96, 128), (32, 64, 96, 128, 160)))


def numpy_gaussian(volume: np.ndarray, sigmas: list[float]) -> np.ndarray:
    """Direct separable convolution with mirrored borders (np.pad 'symmetric')."""
    for axis, sigma in enumerate(sigmas):
        if sigma == 0:
            continue
        radius = int(np.ceil(4 * sigma + 0.5))
        kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
        kernel /= kernel.sum()
        pad = [(radius, radius) if a == axis else (0, 0) for a in range(volume.ndim)]
        padded = np.pad(volume, pad, mode="symmetric")
        volume = sum(w * np.take(padded, np.arange(k, k + volume.shape[axis]), axis=axis) for k, w in enumerate(kernel))
    return volume


def test_gaussian_filter_equals_direct_convolution_with_mirrored_borders():
    volume = np.random.default_rng(0).normal(size=(9, 14, 20, 2)).astype(np.float32)
    sigmas = [1.3, 0.0, 2.2]
    result = gaussian_filter(tf.constant(volume), tf.constant(sigmas)).numpy()
    np.testing.assert_allclose(result, numpy_gaussian(volume, sigmas), atol=1e-5)
    assert gaussian_kernel(1.25).shape == (13,), "radius ceil(4 sigma + 0.5) as the original"


@pytest.mark.parametrize("size, expected", [
    ((31, 31, 31), (32, 32, 32)),
    ((32, 32, 32), (48, 48, 48)),  # strictly larger, as the original's `size < valid_size`
    ((100, 90, 20), (112, 80, 32)),  # too large in y: the largest valid size
])
def test_valid_size_of_localization(size, expected):
    assert tuple(network_grid.valid_size(size, LOCALIZATION_SIZES).numpy()) == expected


def test_fitting_spacing_as_the_original_inference():
    # SCN box 350 x 260 x 300 mm (z, y, x): FLARE21 inference.py gives max(extent / largest) + 0.1 mm = 2.2875 mm.
    spacing = network_grid.fitting_spacing([350.0, 260.0, 300.0], 2.0, [160, 128, 160], 0.05).numpy()
    np.testing.assert_allclose(spacing, 350.0 / 160 + 0.1, rtol=1e-6)
    assert network_grid.fitting_spacing([250.0, 200.0, 300.0], 2.0, [160, 128, 160], 0.05).numpy() == 2.0
    # Localization: a 512 x 512 x 300 CT at 0.8 x 0.8 x 2.5 mm fits at 6 mm; a 600 mm field of view needs
    # 100 / 80 = 1.25 times the largest size: 6 x (1.25 + 0.02) mm.
    assert network_grid.fitting_spacing([750.0, 409.6, 409.6], 6.0, [256, 80, 80], 0.02).numpy() == 6.0
    np.testing.assert_allclose(network_grid.fitting_spacing([750.0, 600.0, 600.0], 6.0, [256, 80, 80], 0.02),
                               6.0 * 1.27, rtol=1e-6)


def test_lattice_is_ceil_of_extent_and_centred():
    shape = network_grid.lattice_size([300, 512, 512], [2.5, 0.8, 0.8], 2.0).numpy()
    assert tuple(shape) == (375, 205, 205)  # 750 / 2 exactly; 409.6 / 2 = 204.8 rounded up
    offset = network_grid.lattice_offset([300, 512, 512], [2.5, 0.8, 0.8], 2.0).numpy()
    np.testing.assert_allclose(offset + (shape - 1) / 2.0 * 2.0, [299 * 1.25, 511 * 0.4, 511 * 0.4], rtol=1e-6)


def test_smoothing_only_the_needed_part_equals_smoothing_everything():
    volume = np.random.default_rng(1).normal(size=(30, 40, 50)).astype(np.float32) * 100
    spacing, grid_spacing = [2.5, 0.8, 0.8], 2.0
    shape = network_grid.lattice_size(volume.shape, spacing, grid_spacing)
    offset = network_grid.lattice_offset(volume.shape, spacing, grid_spacing)
    whole = network_grid.smooth_and_resample(volume, spacing, shape, grid_spacing, offset, 1.0, -1024.0).numpy()
    start = np.array([8, 3, 5])
    part = network_grid.smooth_and_resample(volume, spacing, [6, 5, 7], grid_spacing, offset + start * grid_spacing,
                                            1.0, -1024.0).numpy()
    np.testing.assert_allclose(part, whole[8:14, 3:8, 5:12], atol=1e-3)
    beyond = network_grid.smooth_and_resample(volume, spacing, [4, 4, 4], grid_spacing, offset - 10 * grid_spacing,
                                              1.0, -1024.0).numpy()
    assert np.all(beyond == -1024.0), "outside the volume is air"
