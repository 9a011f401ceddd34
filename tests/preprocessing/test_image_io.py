"""Image I/O: geometry kept exactly (checked with nibabel), DICOM series order, clear errors on bad input."""
import gzip
import locale
import os

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import ImageReadError, case_name, read_image, write_image
from preprocessing.synthetic.dicom import write_ct_series
from tests.conftest import oblique_geometry


def nibabel_affine_lps(path: str) -> np.ndarray:
    """The image's index (x, y, z) -> LPS world affine, read independently of SimpleITK."""
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ nib.load(path).affine


def itk_affine(geometry: ImageGeometry) -> np.ndarray:
    affine = np.eye(4)
    affine[:3, :3] = geometry.direction_matrix * np.asarray(geometry.spacing)[None, :]
    affine[:3, 3] = geometry.origin
    return affine


@pytest.mark.parametrize("suffix", [".nii.gz", ".nii"])
def test_nifti_round_trip_keeps_voxels_and_geometry_per_nibabel(tmp_path, suffix):
    geometry = oblique_geometry()
    array = np.random.default_rng(0).integers(-1000, 2000, geometry.shape).astype(np.int16)
    path = str(tmp_path / f"ct{suffix}")
    write_image(array, geometry, path)

    loaded = nib.load(path)
    np.testing.assert_array_equal(np.asarray(loaded.dataobj), array.transpose(2, 1, 0))
    np.testing.assert_allclose(nibabel_affine_lps(path), itk_affine(geometry), atol=1e-4)

    again, again_geometry = read_image(path, ndim=3)
    np.testing.assert_array_equal(again, array)
    np.testing.assert_allclose(again_geometry.spacing, geometry.spacing, atol=1e-6)
    np.testing.assert_allclose(again_geometry.origin, geometry.origin, atol=1e-4)
    np.testing.assert_allclose(again_geometry.direction, geometry.direction, atol=1e-6)


@pytest.mark.parametrize("suffix", [".mha", ".nrrd"])
def test_mha_and_nrrd_round_trip_exactly(tmp_path, suffix):
    geometry = oblique_geometry()
    array = np.random.default_rng(1).random(geometry.shape).astype(np.float32)
    path = str(tmp_path / f"image{suffix}")
    write_image(array, geometry, path)
    again, again_geometry = read_image(path)
    np.testing.assert_array_equal(again, array)
    assert again_geometry.size == geometry.size
    for field in ("spacing", "origin", "direction"):
        np.testing.assert_allclose(getattr(again_geometry, field), getattr(geometry, field), rtol=0, atol=1e-9)


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path):
    geometry = oblique_geometry()
    path = str(tmp_path / "out.nii.gz")
    write_image(np.zeros(geometry.shape, np.uint8), geometry, path)
    with pytest.raises(ValueError):
        write_image(np.zeros((2, 2, 2), np.uint8), geometry, path)
    assert os.listdir(tmp_path) == ["out.nii.gz"]
    assert read_image(path)[0].shape == geometry.shape


def write_dicom_series(folder: str, array: np.ndarray, spacing_xyz, origin, shuffle_names: bool,
                       uid_suffix: str = "1", prefix: str = "slice") -> None:
    """Writes `array` (z, y, x, HU) as one CT slice file per z, with positions along +z."""
    geometry = ImageGeometry(array.shape[::-1], spacing_xyz, origin, (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    order = np.random.default_rng(0).permutation(len(array)) if shuffle_names else np.arange(len(array))
    write_ct_series(folder, array, geometry, "PATIENT", uid_suffix, [f"{prefix}_{i:03d}.dcm" for i in order])


def test_dicom_series_is_read_in_slice_position_order_with_geometry(tmp_path):
    array = (np.arange(6)[:, None, None] * 100 + np.zeros((6, 5, 4))).astype(np.int16)
    folder = str(tmp_path / "series")
    write_dicom_series(folder, array, (0.7, 0.7, 2.0), (-10.0, 20.0, -300.0), shuffle_names=True)
    volume, geometry = read_image(folder, ndim=3)
    np.testing.assert_array_equal(volume[:, 0, 0], np.arange(6) * 100)
    np.testing.assert_allclose(geometry.spacing, (0.7, 0.7, 2.0), atol=1e-4)
    np.testing.assert_allclose(geometry.origin, (-10.0, 20.0, -300.0), atol=1e-3)


def test_a_case_folder_of_a_tcia_download_reads_its_nested_series(tmp_path):
    array = (np.arange(4)[:, None, None] * 10 + np.zeros((4, 3, 5))).astype(np.int16)
    case = tmp_path / "PANCREAS_0007"
    write_dicom_series(str(case / "11-24-2015-PANCREAS0007-Pancreas-1" / "Pancreas-2"), array, (0.8, 0.8, 1.5),
                       (0.0, 0.0, 0.0), shuffle_names=True)
    (case / "11-24-2015-PANCREAS0007-Pancreas-1" / "notes").mkdir()
    (case / "11-24-2015-PANCREAS0007-Pancreas-1" / "notes" / "readme.txt").write_text("not an image")
    volume, geometry = read_image(str(case), ndim=3)
    np.testing.assert_array_equal(volume[:, 0, 0], [0, 10, 20, 30])
    assert geometry.spacing == pytest.approx((0.8, 0.8, 1.5), abs=1e-4)
    with pytest.raises(ImageReadError, match="notes: no DICOM series found in folder"):
        read_image(str(case / "11-24-2015-PANCREAS0007-Pancreas-1" / "notes"), ndim=3)


def test_real_ct_dicom_series_reads_as_sorted_volume(shared_dicom_series):
    volume, geometry = read_image(shared_dicom_series, ndim=3)
    assert volume.shape == (20, 512, 512)
    assert geometry.size == (512, 512, 20)
    reader = sitk.ImageFileReader()
    positions = []
    for name in os.listdir(shared_dicom_series):
        reader.SetFileName(os.path.join(shared_dicom_series, name))
        reader.ReadImageInformation()
        positions.append([float(v) for v in reader.GetMetaData("0020|0032").split("\\")])
    positions = np.array(sorted(positions, key=lambda p: p[2]))
    np.testing.assert_allclose(geometry.origin, positions[0], atol=1e-3)
    z_step = np.diff(positions[:, 2]).mean()
    np.testing.assert_allclose(geometry.spacing[2], abs(z_step), rtol=1e-3)
    assert -1100 < volume.min() and volume.max() > 200, "intensities should be in HU"


def test_png_read_as_2d_gray(tmp_path):
    import cv2

    color = np.zeros((30, 40, 3), np.uint8)
    color[..., 1] = 90
    cv2.imwrite(str(tmp_path / "x.png"), color)
    array, geometry = read_image(str(tmp_path / "x.png"), ndim=2)
    assert array.shape == (30, 40) and geometry.size == (40, 30)


def test_single_slice_volume_is_accepted_as_2d(tmp_path):
    path = str(tmp_path / "xray.nii.gz")
    write_image(np.ones((1, 8, 6), np.int16), ImageGeometry((6, 8, 1), (0.2, 0.2, 1.0), (0, 0, 0),
                                                            (1, 0, 0, 0, 1, 0, 0, 0, 1)), path)
    array, geometry = read_image(path, ndim=2)
    assert array.shape == (8, 6) and geometry.spacing == pytest.approx((0.2, 0.2))


def _truncated_nifti(tmp_path) -> str:
    path = str(tmp_path / "good.nii.gz")
    write_image(np.zeros((8, 8, 8), np.int16), ImageGeometry((8, 8, 8), (1, 1, 1), (0, 0, 0),
                                                             (1, 0, 0, 0, 1, 0, 0, 0, 1)), path)
    data = open(path, "rb").read()
    bad = str(tmp_path / "truncated.nii.gz")
    with open(bad, "wb") as handle:
        handle.write(data[: len(data) // 3])
    return bad


def _text_as_nifti(tmp_path) -> str:
    path = str(tmp_path / "notes.nii.gz")
    with gzip.open(path, "wt") as handle:
        handle.write("not an image")
    return path


def _flat_png(tmp_path) -> str:
    path = str(tmp_path / "plane.nii.gz")
    write_image(np.zeros((1, 8, 8), np.int16), ImageGeometry((8, 8, 1), (1, 1, 1), (0, 0, 0),
                                                             (1, 0, 0, 0, 1, 0, 0, 0, 1)), path)
    return path


def _empty_folder(tmp_path) -> str:
    folder = tmp_path / "empty"
    folder.mkdir()
    return str(folder)


def _corrupt_png(tmp_path) -> str:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return str(path)


@pytest.mark.parametrize("make_input, ndim, problem", [
    (lambda t: str(t / "missing.nii.gz"), 3, "file not found"),
    (_truncated_nifti, 3, "compressed data is truncated"),
    (_text_as_nifti, 3, "not a NIfTI file (too short for a NIfTI header: 12 bytes)"),
    (_flat_png, 3, "is a 2D image"),
    (_empty_folder, 3, "empty folder"),
    (_corrupt_png, 2, "cannot be decoded"),
    (lambda t: (t / "zero.nii.gz").write_bytes(b"") or str(t / "zero.nii.gz"), 3, "empty file"),
])
def test_bad_inputs_raise_one_line_error_naming_the_file(tmp_path, make_input, ndim, problem):
    path = make_input(tmp_path)
    with pytest.raises(ImageReadError) as error:
        read_image(path, ndim=ndim)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and problem in message
    assert "\n" not in message


def test_case_name_strips_double_suffixes():
    assert case_name("/a/validation_000_0000.nii.gz") == "validation_000_0000"
    assert case_name("/a/MCUCXR_0001_0.png") == "MCUCXR_0001_0"
    assert case_name("/a/series_folder/") == "series_folder"


def test_a_folder_of_several_patients_is_refused_and_one_patients_studies_read_the_larger(tmp_path):
    """A dataset's root given as one case (TCIA's `Pancreas-CT/` with its patients' folders) is one clear line, not
    one patient's series read silently; one patient's two studies (LIDC: CT and X-ray) still read the larger, and
    another patient's series in a hidden folder does not count."""
    root = tmp_path / "Pancreas-CT"
    for index, slices in ((1, 4), (2, 3)):
        case = root / f"PANCREAS_000{index}" / f"11-24-2015-PANCREAS000{index}-Pancreas-1" / "Pancreas-2"
        write_ct_series(str(case), np.zeros((slices, 3, 5), np.int16), axial_geometry(slices),
                        f"PANCREAS_000{index}", str(index))
    with pytest.raises(ImageReadError, match=r"Pancreas-CT: holds the DICOM series of 2 patients \(PANCREAS_0001"
                                             r".*\): give one case's folder"):
        read_image(str(root), ndim=3)
    patient = tmp_path / "LIDC-IDRI-0001"
    write_ct_series(str(patient / "study-1" / "ct"), np.ones((4, 3, 5), np.int16), axial_geometry(4),
                    "LIDC-IDRI-0001", "3")
    write_ct_series(str(patient / "study-2" / "other"), np.zeros((2, 3, 5), np.int16), axial_geometry(2),
                    "LIDC-IDRI-0001", "4")
    write_ct_series(str(patient / ".cache" / "other"), np.zeros((2, 3, 5), np.int16), axial_geometry(2), "SOMEONE",
                    "5")
    volume, _ = read_image(str(patient), ndim=3)
    assert volume.shape[0] == 4 and (volume == 1).all(), "a hidden folder is skipped, as by the series reader"


def axial_geometry(slices: int) -> ImageGeometry:
    """5 x 3 pixels of 0.8 mm, `slices` axial slices of 1.5 mm."""
    return ImageGeometry((5, 3, slices), (0.8, 0.8, 1.5), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))


def test_folder_with_two_series_reads_the_larger(tmp_path):
    folder = str(tmp_path / "mixed")
    write_dicom_series(folder, np.zeros((5, 4, 4), np.int16), (1.0, 1.0, 1.0), (0, 0, 0), shuffle_names=False)
    write_dicom_series(folder, np.ones((2, 4, 4), np.int16), (1.0, 1.0, 1.0), (0, 0, 0), shuffle_names=False,
                       uid_suffix="2", prefix="other")
    volume, _ = read_image(folder, ndim=3)
    assert volume.shape[0] == 5


def test_single_dicom_xray_reads_as_2d_with_pixel_spacing(tmp_path):
    from preprocessing.image_io import image_dimension

    xray = sitk.GetImageFromArray(np.arange(40 * 30, dtype=np.uint16).reshape(40, 30))
    xray.SetSpacing((0.143, 0.143))
    path = str(tmp_path / "chest.dcm")
    sitk.WriteImage(xray, path)
    array, geometry = read_image(path, ndim=2)
    assert array.shape == (40, 30) and array[1, 0] == 30
    assert geometry.spacing == pytest.approx((0.143, 0.143))
    assert image_dimension(path) == 2
    assert image_dimension(str(tmp_path)) == 3


def test_a_truncated_or_missing_slice_is_one_line_naming_it(tmp_path):
    array = (np.arange(6)[:, None, None] * 100 + np.zeros((6, 5, 4))).astype(np.int16)
    folder = tmp_path / "series"
    write_dicom_series(str(folder), array, (0.7, 0.7, 2.0), (0.0, 0.0, 0.0), shuffle_names=False)
    (folder / "notes.txt").write_text("not DICOM, ignored")
    assert read_image(str(folder), ndim=3)[0].shape == (6, 5, 4)
    os.truncate(folder / "slice_002.dcm", os.path.getsize(folder / "slice_002.dcm") // 2)
    with pytest.raises(ImageReadError, match=r"slice_002.dcm: DICOM file cannot be read \(truncated or damaged\)$"):
        read_image(str(folder), ndim=3)
    os.remove(folder / "slice_002.dcm")
    with pytest.raises(ImageReadError, match="series: slice positions jump by 4 mm between slice_001.dcm and "
                                             r"slice_003.dcm \(2 mm elsewhere\): a slice is missing"):
        read_image(str(folder), ndim=3)


def _volume(tmp_path, name: str, array=None, spacing=(0.8, 0.8, 2.5)) -> str:
    path = str(tmp_path / name)
    array = np.arange(4 * 30 * 40, dtype=np.int16).reshape(4, 30, 40) if array is None else array
    write_image(array, ImageGeometry(array.shape[::-1], spacing, (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1)), path)
    return path


def test_truncated_files_are_refused(tmp_path, monkeypatch):
    import tempfile

    import cv2

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))

    for name in ("v.nii.gz", "v.nii"):
        path = _volume(tmp_path, name)
        assert read_image(path)[0].shape == (4, 30, 40)
        os.truncate(path, os.path.getsize(path) * 2 // 3)
        with pytest.raises(ImageReadError, match="truncated"):
            read_image(path)
    path = _volume(tmp_path, "crc.nii.gz")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    with pytest.raises(ImageReadError, match="crc.nii.gz: compressed data is corrupt"):
        read_image(path)
    assert os.listdir(scratch) == [], "the decompressed copies are removed"
    for name in ("x.png", "x.jpg"):
        path = str(tmp_path / name)
        cv2.imwrite(path, np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))
        assert read_image(path)[0].shape == (64, 64)
        os.truncate(path, os.path.getsize(path) // 2)
        with pytest.raises(ImageReadError):
            read_image(path)


def test_zero_spacing_nan_voxels_are_refused(tmp_path):
    path = _volume(tmp_path, "zero.nii.gz")
    header = nib.load(path)
    image = nib.Nifti1Image(np.asarray(header.dataobj), header.affine, header.header)
    image.header["pixdim"][3] = 0.0
    nib.save(image, path)
    with pytest.raises(ImageReadError, match="zero.nii.gz: voxel spacing 0.8, 0.8, 0 mm in the header is not positive"):
        read_image(path)
    nan = np.zeros((4, 30, 40), np.float32)
    nan[1, 2, 3], nan[2, 0, 0] = np.nan, np.inf
    for name in ("nan.mha", "nan.nii.gz", "nan.nii"):
        with pytest.raises(ImageReadError, match=f"{name}: 2 voxel\\(s\\) are NaN or infinite"):
            read_image(_volume(tmp_path, name, nan))


def test_writing_a_dicom_series_keeps_the_process_locale(tmp_path):
    # GDCM's writer sets the C locale; Python's default text encoding would turn ASCII (subprocess output with
    # non-ASCII characters, open() without an encoding)
    before = locale.getpreferredencoding(False), locale.setlocale(locale.LC_ALL)
    geometry = ImageGeometry((8, 8, 3), (1.0, 1.0, 2.5), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    write_ct_series(str(tmp_path / "series"), np.zeros((3, 8, 8), np.int16), geometry, "P^1", "31")
    assert (locale.getpreferredencoding(False), locale.setlocale(locale.LC_ALL)) == before
