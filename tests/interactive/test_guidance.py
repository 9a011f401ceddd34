"""Guidance maps: MONAI's erf kernel on hand values, the disk of one click voxel by voxel, clicks at the border,
no clicks, and world points (mm) to voxels on anisotropic and rotated grids."""
import numpy as np
import pytest
import tensorflow as tf

from interactive.guidance import click_indices, gaussian_kernel_1d, guidance_channels, guidance_map
from preprocessing.image_geometry import ImageGeometry


def test_erf_kernel_hand_values():
    kernel = gaussian_kernel_1d(1.0)
    assert kernel.shape == (9,)
    # 0.5 * (erf((x + 0.5) / sqrt(2)) - erf((x - 0.5) / sqrt(2))) for x = 0, 1, 2, 3
    np.testing.assert_allclose(kernel[4:8], [0.38292492, 0.24173034, 0.06059754, 0.00597704], rtol=1e-5)
    np.testing.assert_allclose(kernel, kernel[::-1])


def test_one_click_disk_is_the_cube_and_the_six_axis_neighbours_two_steps_away():
    disk = guidance_map(tf.constant([[6, 6, 6]]), (13, 13, 13)).numpy()
    offsets = {tuple(int(v) for v in index - 6) for index in np.argwhere(disk)}
    cube = {(z, y, x) for z in (-1, 0, 1) for y in (-1, 0, 1) for x in (-1, 0, 1)}
    axis = {(2, 0, 0), (-2, 0, 0), (0, 2, 0), (0, -2, 0), (0, 0, 2), (0, 0, -2)}
    assert offsets == cube | axis and disk.max() == 1.0 and disk.dtype == np.float32


def test_gaussian_blob_and_clicks_clamped_into_the_volume():
    blob = guidance_map(tf.constant([[0, 0, 9], [3, 40, -5]]), (4, 10, 10), disks=False).numpy()
    assert blob[0, 0, 9] == pytest.approx(1.0) and blob[3, 9, 0] == pytest.approx(1.0)
    ratio = 0.24173034 / 0.38292492
    assert blob[0, 1, 9] == pytest.approx(ratio, rel=1e-4), "neighbour of a click: one axis one step away"
    assert blob.min() == 0.0


def test_no_clicks_give_zeros_and_channels_are_lesion_then_background():
    channels = guidance_channels(tf.zeros([0, 3], tf.int32), tf.constant([[1, 1, 1]]), (3, 4, 5)).numpy()
    assert channels.shape == (3, 4, 5, 2) and not channels[..., 0].any() and channels[1, 1, 1, 1] == 1.0


def test_world_points_to_voxels_on_anisotropic_rotated_grids():
    # index axis x runs along world -y, y along world +x, z along world +z (a 90 degree rotation about z).
    geometry = ImageGeometry((20, 30, 10), (0.5, 2.0, 3.0), (100.0, -50.0, 7.0), (0, 1, 0, -1, 0, 0, 0, 0, 1))
    index_xyz = np.array([[4, 11, 2], [19, 29, 9], [0, 0, 0]])
    points = geometry.index_to_physical(index_xyz)
    np.testing.assert_allclose(points[0], [100 + 11 * 2.0, -50 - 4 * 0.5, 7 + 2 * 3.0])
    indices, inside = click_indices(points + [0.9, -0.2, 1.4], geometry)
    assert indices.tolist() == [[2, 11, 4], [9, 29, 19], [0, 0, 0]] and inside.all()
    outside, inside = click_indices(geometry.index_to_physical([[20, 0, 0], [-0.6, 3, 3], [19.4, 29.4, 9.4]]), geometry)
    assert inside.tolist() == [False, False, True]
