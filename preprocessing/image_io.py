"""Reading and writing images with their geometry.

3D and medical 2D formats go through SimpleITK (NIfTI .nii/.nii.gz, MetaImage .mha/.mhd, NRRD,
single DICOM files and DICOM series folders); PNG and JPEG go through OpenCV. Arrays are returned in
array axis order ((z, y, x) or (y, x)); geometry in ITK's (x, y, z) order (see `ImageGeometry`).
Every failure to read raises `ImageReadError` whose message names the file and the problem.
"""
from __future__ import annotations

import os
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import SimpleITK as sitk

from preprocessing.atomic import TEMP_PREFIX, atomic_path, full_suffix
from preprocessing.file_integrity import file_problem, gunzip_problem, spacing_problem
from preprocessing.image_geometry import ImageGeometry

OPENCV_SUFFIXES = (".png", ".jpg", ".jpeg")
SITK_SUFFIXES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd", ".nhdr", ".dcm")
IMAGE_SUFFIXES = OPENCV_SUFFIXES + SITK_SUFFIXES


class ImageReadError(ValueError):
    """An input image cannot be used; the message is one line: '<path>: <problem>'."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def is_image_path(path: str) -> bool:
    """True for files with a supported image suffix and for folders (DICOM series candidates)."""
    return os.path.isdir(path) or full_suffix(path).lower() in IMAGE_SUFFIXES


def case_name(path: str) -> str:
    """The file name without its image suffix ('train_001_0000.nii.gz' -> 'train_001_0000')."""
    name = os.path.basename(os.path.normpath(path))
    suffix = full_suffix(name)
    return name[: -len(suffix)] if suffix.lower() in IMAGE_SUFFIXES else name


def _first_line(error: Exception) -> str:
    """The informative line of a SimpleITK exception (its 'sitk::ERROR: ...' line when there is one)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    detail = next((line.split("ERROR:", 1)[1].strip() for line in lines if "ERROR:" in line), "")
    return (detail or (lines[-1] if lines else type(error).__name__))[:200]


# Slice positions may deviate from the series' median spacing by this fraction before the series counts as
# having a missing, duplicated or damaged slice.
SLICE_SPACING_TOLERANCE = 0.1


def _slice_positions(files: list[str]) -> np.ndarray | None:
    """Positions (mm) of the slice files along the slice normal (ImagePositionPatient . normal of
    ImageOrientationPatient); None when a file lacks those tags."""
    reader = sitk.ImageFileReader()
    positions, normal = [], None
    for path in files:
        reader.SetFileName(path)
        reader.ReadImageInformation()
        if not reader.HasMetaDataKey("0020|0032") or not reader.HasMetaDataKey("0020|0037"):
            return None
        if normal is None:
            cosines = np.array([float(v) for v in reader.GetMetaData("0020|0037").split("\\")])
            normal = np.cross(cosines[:3], cosines[3:])
        positions.append(float(np.array([float(v) for v in reader.GetMetaData("0020|0032").split("\\")]) @ normal))
    return np.array(positions)


def check_slice_spacing(files: list[str], positions: np.ndarray) -> None:
    """Raises ImageReadError naming the two slice files around a gap that differs from the median slice spacing
    by more than SLICE_SPACING_TOLERANCE (`files` sorted by `positions`, mm)."""
    steps = np.diff(positions)
    if len(steps) < 2:
        return
    median = float(np.median(steps))
    bad = np.flatnonzero(np.abs(steps - median) > SLICE_SPACING_TOLERANCE * abs(median))
    if len(bad):
        i = int(bad[0])
        raise ImageReadError(os.path.dirname(files[i]), f"slice positions jump by {steps[i]:.3g} mm between "
                             f"{os.path.basename(files[i])} and {os.path.basename(files[i + 1])} ({median:.3g} mm "
                             "elsewhere): a slice is missing, duplicated or unreadable")


def _has_dicom_preamble(path: str) -> bool:
    """Whether the file `path` carries DICOM's "DICM" marker after its 128-byte preamble. Raises OSError."""
    with open(path, "rb") as handle:
        return handle.read(132)[128:] == b"DICM"


def _unreadable_slices(folder: str, series: dict[str, tuple[str, ...]]) -> list[str]:
    """Files of `folder` that are DICOM by suffix or preamble but belong to no readable series (truncated or
    damaged)."""
    listed = {os.path.basename(path) for files in series.values() for path in files}
    unreadable = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name in listed or name.startswith(".") or not os.path.isfile(path):
            continue
        if name.lower().endswith(".dcm") or _has_dicom_preamble(path):
            unreadable.append(name)
    return unreadable


def largest_file_folder(folder: str) -> str:
    """The folder under `folder` (itself included) holding the most files: where a TCIA download keeps a case's
    series (`PANCREAS_0001/<study>/<series>/*.dcm`)."""
    best, most = folder, -1
    for directory, _, files in os.walk(folder):
        count = sum(1 for name in files if not name.startswith("."))
        if count > most:
            best, most = directory, count
    return best


def _patient_ids(folder: str) -> dict[str, str]:
    """{PatientID (0010,0020): the first folder under `folder` holding it}, one DICOM header read per folder that
    holds files; hidden files and folders are skipped as the series reader skips them, and so are files it will
    name itself (unreadable, or a name that is not valid UTF-8) and empty IDs (anonymised data)."""
    patients: dict[str, str] = {}
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(name for name in files if not name.startswith(".")):
            path = os.path.join(directory, name)
            if display_path(path) != path:
                continue
            try:
                if not _has_dicom_preamble(path):
                    continue
                reader = _header(path)
            except (OSError, ImageReadError):
                continue
            patient = reader.GetMetaData("0010|0020").strip(" \x00") if reader.HasMetaDataKey("0010|0020") else ""
            if patient:
                patients.setdefault(patient, directory)
            break
    return patients


def _distinct_names(paths: list[str]) -> list[str]:
    """The first folder of each relative path where those differ, else the paths themselves."""
    tops = [path.split(os.sep)[0] for path in paths]
    return tops if len(set(tops)) == len(tops) else paths


def dicom_series_files(folder: str) -> list[str]:
    """The slice files of the DICOM series with the most slices in `folder` (or, when the folder holds no files
    itself, in its subfolder with the most files, as TCIA downloads nest them: `PANCREAS_0001/<study>/<series>`, or
    a CT and an X-ray study of one LIDC patient), sorted by position along the slice normal: slice k of
    `read_dicom_series(folder)` is file k. A DICOM file that belongs to no readable series, slice positions with a
    gap (a missing slice), or subfolders holding more than one patient (a dataset's root given as one case) raise
    ImageReadError."""
    if display_path(folder) != folder:
        raise ImageReadError(display_path(folder), "folder name is not valid UTF-8; rename the folder")
    if not os.path.isdir(folder):
        raise ImageReadError(folder, "not a folder")
    entries = os.listdir(folder)
    if not entries:
        raise ImageReadError(folder, "empty folder, expected a DICOM series")
    has_files = any(os.path.isfile(os.path.join(folder, name)) and not name.startswith(".") for name in entries)
    if not has_files:
        patients = _patient_ids(folder)
        if len(patients) > 1:
            shown = ", ".join(_distinct_names([os.path.relpath(path, folder) for path in patients.values()][:2]))
            raise ImageReadError(folder, f"holds the DICOM series of {len(patients)} patients ({shown}"
                                         f"{', ...' if len(patients) > 2 else ''}): give one case's folder, or the "
                                         "folder that holds the case folders")
    location = folder if has_files else largest_file_folder(folder)
    series_ids = sitk.ImageSeriesReader.GetGDCMSeriesIDs(location)
    if not series_ids:
        raise ImageReadError(folder, "no DICOM series found in folder")
    series = {sid: sitk.ImageSeriesReader.GetGDCMSeriesFileNames(location, sid) for sid in series_ids}
    unreadable = _unreadable_slices(location, series)
    if unreadable:
        more = f" and {len(unreadable) - 1} more" if len(unreadable) > 1 else ""
        raise ImageReadError(os.path.join(location, unreadable[0]),
                             f"DICOM file cannot be read (truncated or damaged){more}")
    largest = max(series, key=lambda sid: len(series[sid]))
    files = list(series[largest])
    try:
        positions = _slice_positions(files)
    except RuntimeError as error:
        raise ImageReadError(folder, f"DICOM series cannot be read: {_first_line(error)}") from error
    if positions is not None:
        order = np.argsort(positions, kind="stable")
        files = [files[i] for i in order]
        check_slice_spacing(files, positions[order])
    return files


def read_dicom_series(folder: str) -> sitk.Image:
    """Reads the series `dicom_series_files(folder)` finds, slices sorted by position."""
    files = dicom_series_files(folder)
    try:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(files)
        return reader.Execute()
    except RuntimeError as error:
        raise ImageReadError(folder, f"DICOM series cannot be read: {_first_line(error)}") from error


def _read_opencv(path: str) -> sitk.Image:
    array = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ImageReadError(path, "cannot be decoded as an image (corrupt or not a PNG/JPEG)")
    if array.ndim == 3:
        code = cv2.COLOR_BGRA2GRAY if array.shape[2] == 4 else cv2.COLOR_BGR2GRAY
        array = cv2.cvtColor(array, code)
    return sitk.GetImageFromArray(array)


def display_path(path: str) -> str:
    """`path` printable and writable as UTF-8: bytes of a file name that are not valid UTF-8 as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def check_image_file(path: str) -> None:
    """Raises ImageReadError unless `path` names an existing, regular, readable, non-empty file whose name is
    valid UTF-8 (the native readers crash on other names, and block on FIFOs)."""
    if display_path(path) != path:
        raise ImageReadError(display_path(path), "file name is not valid UTF-8; rename the file")
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    if not stat.S_ISREG(status.st_mode):
        raise ImageReadError(path, "not a regular file (a FIFO, socket or device)")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    if status.st_size == 0:
        raise ImageReadError(path, "empty file (0 bytes)")


def read_sitk(path: str, components: bool = False) -> sitk.Image:
    """Reads `path` (file or DICOM series folder) as a scalar SimpleITK image (with `components`: as stored).

    2D colour images (RGB, RGBA; also a single-slice 3D one, as SimpleITK reads a colour DICOM file) are converted
    to grayscale (the mean of R, G and B); any other image with several components per voxel
    (a vector NIfTI / NRRD, a colour volume) is refused unless `components`. Raises `ImageReadError` for a missing,
    empty, corrupt or unsupported input.
    """
    if os.path.isdir(path):
        return read_dicom_series(path)
    check_image_file(path)
    suffix = full_suffix(path).lower()
    if suffix == ".nii.gz":
        # Decompressed once, with its CRC and length checked, then read raw: no second decompression to check it.
        with tempfile.TemporaryDirectory(prefix=TEMP_PREFIX) as folder:
            raw = os.path.join(folder, "image.nii")
            problem = gunzip_problem(path, raw)
            if problem:
                raise ImageReadError(path, problem)
            return _read_checked(raw, ".nii", path, components)
    return _read_checked(path, suffix, path, components)


def _read_checked(path: str, suffix: str, shown: str, components: bool = False) -> sitk.Image:
    """Reads the file `path` (its `suffix` lower-case) with the completeness check beside the reader; errors name
    `shown`."""
    with ThreadPoolExecutor(1) as pool:
        check = pool.submit(file_problem, path, suffix)
        try:
            image = _read_opencv(path) if suffix in OPENCV_SUFFIXES else sitk.ReadImage(path)
        except RuntimeError as error:
            image, read_error = None, error
        problem = check.result()
    if problem:
        raise ImageReadError(shown, problem)
    if image is None:
        raise ImageReadError(shown, f"cannot be read (corrupt or unsupported format): {_first_line(read_error)}") \
            from read_error
    count = image.GetNumberOfComponentsPerPixel()
    if count > 1 and not components:
        planar = image.GetDimension() == 2 or (image.GetDimension() == 3 and image.GetSize()[2] == 1)
        if not planar or count not in (3, 4):
            raise ImageReadError(shown, f"has {count} components per voxel (an RGB or vector image); one value per "
                                        "voxel expected")
        colour = sitk.GetArrayViewFromImage(image)[..., :3]  # RGBA: the colour without its alpha
        gray = sitk.GetImageFromArray(colour.mean(axis=-1).astype(np.float32))
        gray.CopyInformation(image)
        image = gray
    return image


def _drop_singleton_z(image: sitk.Image) -> sitk.Image:
    size = list(image.GetSize())
    return sitk.Extract(image, size[:2] + [0], [0, 0, 0])


def _check_dimension(path: str, image: sitk.Image, ndim: int | None) -> sitk.Image:
    size = image.GetSize()
    if ndim is None:
        return image
    if ndim == 2 and image.GetDimension() == 3 and size[2] == 1:
        return _drop_singleton_z(image)
    if ndim == 3 and image.GetDimension() == 3 and 1 in size:
        raise ImageReadError(path, f"is a 2D image (size {'x'.join(map(str, size))}), expected a 3D volume")
    if image.GetDimension() != ndim:
        kind = {2: "a 2D image", 3: "a 3D volume"}
        raise ImageReadError(
            path, f"is {kind.get(image.GetDimension(), f'{image.GetDimension()}D')} "
            f"(size {'x'.join(map(str, size))}), expected {kind.get(ndim, f'{ndim}D')}")
    return image


def _header(path: str) -> sitk.ImageFileReader:
    """A reader holding the image information (size, tags) of the file `path`, pixels not read."""
    reader = sitk.ImageFileReader()
    reader.SetFileName(path)
    try:
        reader.ReadImageInformation()
    except RuntimeError as error:
        raise ImageReadError(path, f"cannot be read (corrupt or unsupported format): {_first_line(error)}") from error
    return reader


def image_dimension(path: str) -> int:
    """2 or 3: the dimension of an image judged from its header only (PNG/JPEG: 2; DICOM series folder: 3;
    a 3D file with a single slice: 2). Raises `ImageReadError` if the header cannot be read."""
    if os.path.isdir(path):
        return 3
    check_image_file(path)
    if full_suffix(path).lower() in OPENCV_SUFFIXES:
        return 2
    size = _header(path).GetSize()
    return 2 if len(size) == 2 or (len(size) == 3 and size[2] == 1) else len(size)


def image_modality(path: str) -> str | None:
    """'XR' for PNG / JPEG files, a DICOM file's Modality (0008,0060), else None (not stated by the format)."""
    suffix = full_suffix(path).lower()
    if suffix in OPENCV_SUFFIXES:
        return "XR"
    if suffix != ".dcm" or os.path.isdir(path):
        return None
    reader = _header(path)
    return reader.GetMetaData("0008|0060").strip() or None if reader.HasMetaDataKey("0008|0060") else None


def read_image(path: str, ndim: int | None = None, components: bool = False) -> tuple[np.ndarray, ImageGeometry]:
    """Reads an image file or DICOM series folder.

    Args:
        path: image file (.nii, .nii.gz, .mha, .mhd, .nrrd, .dcm, .png, .jpg) or DICOM series folder.
        ndim: expected dimension (2 or 3), or None to accept either. A 3D image with a single
            slice is accepted as 2D and rejected as 3D.
        components: keep several components per voxel (a last array axis) instead of refusing them.

    Returns:
        (array, geometry): the array in (z, y, x) or (y, x) order with the file's pixel type, and
        its geometry in ITK's (x, y, z) order (spacing and origin in mm).

    Raises:
        ImageReadError: besides unreadable files, a spacing that is not positive and finite, and NaN or
            infinite voxels (refused rather than replaced: a value we would invent is not a measurement).
    """
    image = _check_dimension(path, read_sitk(path, components), ndim)
    array, geometry = sitk.GetArrayFromImage(image), ImageGeometry.of(image)
    problem = spacing_problem(geometry.spacing)
    if problem:
        raise ImageReadError(path, problem)
    if array.dtype.kind == "f":
        bad = array.size - np.count_nonzero(np.isfinite(array))
        if bad:
            raise ImageReadError(path, f"{bad} voxel(s) are NaN or infinite")
    return array, geometry


def to_sitk(array: np.ndarray, geometry: ImageGeometry) -> sitk.Image:
    """A SimpleITK image of `array` ((z, y, x) order) on `geometry`."""
    if tuple(array.shape) != geometry.shape:
        raise ValueError(f"array shape {array.shape} does not match geometry shape {geometry.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return geometry.apply_to(sitk.GetImageFromArray(array))


def write_image(array: np.ndarray, geometry: ImageGeometry, path: str) -> None:
    """Writes `array` with `geometry` to `path` atomically; the suffix chooses the format.

    NIfTI/MHA/NRRD keep spacing, origin and direction exactly; PNG/JPEG store pixels only (write
    uint8 or uint16 arrays there). The file appears complete or not at all.
    """
    with atomic_path(path) as temp:
        if full_suffix(path).lower() in OPENCV_SUFFIXES:
            if not cv2.imwrite(temp, array):
                raise OSError(f"{path}: OpenCV could not encode the image")
        else:
            sitk.WriteImage(to_sitk(array, geometry), temp, useCompression=True)
