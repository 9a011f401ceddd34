"""Canonical orientation: the same array and geometry as SimpleITK's DICOMOrient('LPS') for all 48 axis
permutations and flips, an exact way back onto the input grid, and oblique directions."""
import numpy as np
import pytest
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry
from preprocessing.orientation import canonical_geometry, canonical_reorientation, to_canonical
from tests.conftest import signed_permutations


def rotation(degrees: float) -> np.ndarray:
    a = np.deg2rad(degrees)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize("index", range(48))
def test_matches_dicom_orient_lps_and_inverts_exactly(index):
    direction = list(signed_permutations())[index]
    array = np.random.default_rng(index).integers(0, 1000, (5, 6, 7)).astype(np.int16)
    geometry = ImageGeometry((7, 6, 5), (0.7, 0.9, 2.5), (-10.0, 20.0, -300.0), tuple(direction.ravel()))
    canonical, new_geometry, reorientation = to_canonical(array, geometry)
    reference = sitk.DICOMOrient(geometry.apply_to(sitk.GetImageFromArray(array)), "LPS")
    np.testing.assert_array_equal(canonical, sitk.GetArrayFromImage(reference))
    expected = ImageGeometry.of(reference)
    assert new_geometry.size == expected.size
    np.testing.assert_allclose(new_geometry.spacing, expected.spacing)
    np.testing.assert_allclose(new_geometry.origin, expected.origin, atol=1e-9)
    np.testing.assert_allclose(new_geometry.direction_matrix, np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(reorientation.invert(canonical), array)
    channels = np.stack([array, 2 * array], axis=-1)
    np.testing.assert_array_equal(reorientation.apply(channels)[..., 1], 2 * canonical)
    np.testing.assert_array_equal(reorientation.invert(reorientation.apply(channels)), channels)


def test_oblique_direction_goes_to_the_closest_axes_and_keeps_its_voxels():
    direction = rotation(20.0) @ np.array([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    geometry = ImageGeometry((4, 5, 6), (1.0, 2.0, 3.0), (5.0, -5.0, 50.0), tuple(direction.ravel()))
    reorientation = canonical_reorientation(geometry)
    assert reorientation.permutation == (2, 0, 1) and reorientation.flips == (True, False, True)
    new_geometry = canonical_geometry(geometry, reorientation)
    np.testing.assert_allclose(new_geometry.direction_matrix, rotation(20.0), atol=1e-12)
    assert new_geometry.spacing == (3.0, 1.0, 2.0) and new_geometry.size == (6, 4, 5)
    array = np.arange(120).reshape(6, 5, 4)
    canonical = reorientation.apply(array)
    for index_xyz in ((0, 0, 0), (3, 2, 1), (3, 4, 5), (1, 0, 5)):
        old_world = geometry.index_to_physical(np.array(index_xyz, float))
        new_index = np.round(new_geometry.physical_to_index(old_world)).astype(int)
        assert canonical[tuple(new_index[::-1])] == array[tuple(np.array(index_xyz)[::-1])]
