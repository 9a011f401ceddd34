"""Chest radiographs as the X-ray networks see them, whatever the file: DICOM CR / DX, 8- or 16-bit PNG, JPEG.

The grey-value convention (`read_xray`): float32 [y, x] in 0..255, the film as a radiologist views it (dense
tissue bright, lungs dark: MONOCHROME2 after the file's own grey-scale transforms). 8-bit PNG / JPEG values are
kept as they are (the NLM sets' PNGs, the original's input). Other inputs are brought there:
- 16-bit PNG: scaled by 255 / (2^b - 1), b the bits the values use (12-bit data in a 16-bit PNG: 4095 -> 255).
- DICOM: the Modality LUT or Rescale Slope / Intercept, then the first VOI LUT or else the first window
  (pydicom's `apply_modality_lut`, `apply_voi_lut`), the result scaled linearly from its own minimum and maximum
  to 0..255, and inverted for MONOCHROME1 (lowest value white) or a Presentation LUT Shape of INVERSE.
Geometry: DICOM Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164) (row\\column, mm); 1 mm per
pixel for PNG / JPEG, which store none.
"""
from __future__ import annotations

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from preprocessing.atomic import full_suffix
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import ImageReadError, check_image_file, read_image

GREY_MAX = 255.0
DICOM_SPACING_TAGS = ("PixelSpacing", "ImagerPixelSpacing")


def bits_used(array: np.ndarray) -> int:
    """Bits needed for the largest value of an unsigned integer array (at least 8)."""
    return max(8, int(array.max(initial=0)).bit_length())


def display_grey(values: np.ndarray, invert: bool) -> np.ndarray:
    """float32 values scaled linearly from their minimum and maximum to 0..255, inverted when `invert`."""
    values = values.astype(np.float32)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) * (GREY_MAX / (high - low)) if high > low else np.zeros_like(values)
    return GREY_MAX - scaled if invert else scaled


def dicom_spacing(dataset: pydicom.Dataset) -> tuple[float, float]:
    """(x, y) pixel spacing in mm: Pixel Spacing, else Imager Pixel Spacing (both row\\column), else (1, 1)."""
    for keyword in DICOM_SPACING_TAGS:
        value = dataset.get(keyword)
        if value is not None and len(value) == 2 and all(float(v) > 0 for v in value):
            return float(value[1]), float(value[0])
    return 1.0, 1.0


def read_xray_dicom(path: str) -> tuple[np.ndarray, ImageGeometry]:
    """A single-frame DICOM radiograph in the display convention (module docstring) and its 2D geometry."""
    try:
        dataset = pydicom.dcmread(path)
        pixels = dataset.pixel_array
    except Exception as error:  # pydicom raises many types for damaged or unsupported files
        raise ImageReadError(path, f"DICOM image cannot be read: {str(error).splitlines()[0][:200]}") from error
    if pixels.ndim != 2:
        raise ImageReadError(path, f"is not a single-frame grey-scale radiograph (pixel array {pixels.shape})")
    values = apply_modality_lut(pixels, dataset)
    if "VOILUTSequence" in dataset and values.dtype.kind == "f" and np.array_equal(values, np.round(values)):
        values = values.astype(np.int64)  # a unit Rescale Slope gives floats; a VOI LUT is indexed by integers
    values = apply_voi_lut(values, dataset, prefer_lut=True)
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    shape = str(dataset.get("PresentationLUTShape", "")).upper()
    invert = photometric == "MONOCHROME1" or (photometric == "MONOCHROME2" and shape == "INVERSE")
    height, width = pixels.shape
    geometry = ImageGeometry((width, height), dicom_spacing(dataset), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0))
    return display_grey(values, invert), geometry


def read_xray(path: str) -> tuple[np.ndarray, ImageGeometry]:
    """A radiograph file as float32 [y, x] in the display convention (module docstring) and its geometry."""
    if full_suffix(path).lower() == ".dcm":
        check_image_file(path)
        return read_xray_dicom(path)
    array, geometry = read_image(path, ndim=2)
    if array.dtype.kind == "u" and array.dtype.itemsize > 1:
        array = array.astype(np.float32) * (GREY_MAX / (2 ** bits_used(array) - 1))
    return array.astype(np.float32), geometry
