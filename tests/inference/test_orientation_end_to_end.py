"""Real scans whatever their orientation: one phantom written with each of the 48 axis permutations / flips and
an oblique direction gives the same segmentation in world coordinates with the shipped FLARE21 set, every
output on its input's grid; the real DICOM series stored as a RAS NIfTI gives the LPS run's labels."""
import os

import numpy as np
import SimpleITK as sitk

from inference.inputs import CaseImages
from inference.pipeline import canonical_images
from preprocessing.cases import flare21_cases
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import read_image, write_image
from tests.conftest import REPO, assert_same_geometry_per_nibabel, run_module, signed_permutations

SHIPPED = os.path.join(REPO, "saved_models")


def reoriented(array: np.ndarray, geometry: ImageGeometry, direction: np.ndarray) -> tuple[np.ndarray, ImageGeometry]:
    """The same voxels in world space stored with index axes along the signed permutation `direction`: the
    result is built with SimpleITK's own reorientation, independent of the code under test."""
    image = geometry.apply_to(sitk.GetImageFromArray(array))
    codes = {(0, 1): "L", (0, -1): "R", (1, 1): "P", (1, -1): "A", (2, 1): "S", (2, -1): "I"}
    letters = "".join(codes[(int(np.argmax(np.abs(direction[:, c]))), int(np.sign(direction[:, c].sum())))]
                      for c in range(3))
    result = sitk.DICOMOrient(image, letters)
    return sitk.GetArrayFromImage(result), ImageGeometry.of(result)


def lps(path: str) -> np.ndarray:
    """A label file's voxels in LPS index order (SimpleITK's reorientation, as an independent reader)."""
    return sitk.GetArrayFromImage(sitk.DICOMOrient(sitk.ReadImage(path), "LPS"))


def test_48_orientations_and_an_oblique_one_give_one_segmentation(flare21_folder, tmp_path):
    case = flare21_cases(flare21_folder, "validation")[0]
    array, geometry = read_image(case.image_path)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for index, direction in enumerate(signed_permutations()):
        data, new_geometry = reoriented(array, geometry, direction)
        write_image(data, new_geometry, str(inputs / f"o{index:02d}_0000.nii.gz"))
    angle = np.deg2rad(12.0)
    tilt = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    write_image(array, ImageGeometry(geometry.size, geometry.spacing, geometry.origin, tuple(tilt.ravel())),
                str(inputs / "oblique_0000.mha"))
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(tmp_path / "out"),
                        "--saved_models_folder", SHIPPED, "--model", "flare21")
    assert result.returncode == 0 and "49 ok" in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]
    reference = lps(str(tmp_path / "out" / "o00.nii.gz"))
    assert set(np.unique(reference)) >= {0, 1}, "the phantom's liver is found"
    for index in range(48):
        output = str(tmp_path / "out" / f"o{index:02d}.nii.gz")
        assert_same_geometry_per_nibabel(output, str(inputs / f"o{index:02d}_0000.nii.gz"))
        np.testing.assert_array_equal(lps(output), reference, err_msg=f"orientation {index}")
    assert_same_geometry_per_nibabel(str(tmp_path / "out" / "oblique.nii.gz"), str(inputs / "oblique_0000.mha"))
    np.testing.assert_array_equal(sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "out" / "oblique.nii.gz"))),
                                  reference)


def test_real_dicom_series_stored_as_ras_nifti_is_segmented_in_the_same_place(shared_dicom_series, tmp_path):
    array, geometry = read_image(shared_dicom_series)
    inputs = tmp_path / "in"
    inputs.mkdir()
    ras, ras_geometry = reoriented(array, geometry, np.diag([-1.0, -1.0, 1.0]))
    assert np.allclose(ras_geometry.direction_matrix, np.diag([-1.0, -1.0, 1.0]))
    write_image(ras, ras_geometry, str(inputs / "ras_0000.nii.gz"))
    write_image(array, geometry, str(inputs / "lps_0000.nii.gz"))
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(tmp_path / "out"),
                        "--saved_models_folder", SHIPPED, "--model", "flare21")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert_same_geometry_per_nibabel(str(tmp_path / "out" / "ras.nii.gz"), str(inputs / "ras_0000.nii.gz"))
    lps_labels, ras_labels = lps(str(tmp_path / "out" / "lps.nii.gz")), lps(str(tmp_path / "out" / "ras.nii.gz"))
    np.testing.assert_array_equal(ras_labels, lps_labels)
    # The networks see one array whichever way the file stores the scan (the phantom-trained demo models find
    # no organs in this 20-slice slab, so the labels alone would not show it).
    seen = [canonical_images(CaseImages((a,), g))[0] for a, g in ((ras, ras_geometry), (array, geometry))]
    np.testing.assert_array_equal(seen[0].channels[0], seen[1].channels[0])
    assert seen[0].geometry.same_grid(seen[1].geometry)
