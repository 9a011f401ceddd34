"""Writes a chest X-ray phantom as a single-frame DICOM radiograph the way CR / DX systems store one: 10-16 bit
stored values, MONOCHROME1 (lowest value white) or MONOCHROME2, a VOI LUT Sequence or a window, Rescale Slope /
Intercept (DX), Pixel Spacing and Imager Pixel Spacing, and the identity tags a DICOM SEG needs to reference it
(no Frame of Reference: projection radiographs have no patient coordinates)."""
from __future__ import annotations

import numpy as np
import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian

from preprocessing.atomic import atomic_path
from preprocessing.synthetic.dicom import UID_ROOT

SOP_CLASSES = {"CR": ComputedRadiographyImageStorage, "DX": DigitalXRayImageStorageForPresentation}
VOI_KINDS = ("window", "lut", "none")


def stored_values(display: np.ndarray, bits_stored: int, photometric: str, voi: str) -> np.ndarray:
    """uint16 stored values of a display image (grey 0..255, bright = dense): spread over 2^bits_stored levels,
    through the inverse of the VOI curve `write_xray_dicom` writes for 'lut' (a gamma of 2, so that the file's
    own VOI LUT is needed to see the film as it was), and reversed for MONOCHROME1."""
    levels = 2 ** bits_stored - 1
    fraction = display.astype(np.float64) / 255.0
    if voi == "lut":
        fraction = fraction ** 2.0
    stored = np.round(fraction * levels)
    return (levels - stored if photometric == "MONOCHROME1" else stored).astype(np.uint16)


def write_xray_dicom(path: str, display: np.ndarray, uid_suffix: str, modality: str = "DX",
                     photometric: str = "MONOCHROME2", bits_stored: int = 12, voi: str = "window",
                     spacing_mm: float = 0.143) -> None:
    """Writes `display` (uint8 [y, x], a phantom's grey values) as a DICOM radiograph at `path` (atomically).

    Args:
        uid_suffix: digits that make the study / series / SOP UIDs unique.
        modality: 'CR' or 'DX' (its SOP class: CR Image Storage or Digital X-Ray Image Storage - For Presentation).
        photometric: 'MONOCHROME1' or 'MONOCHROME2'.
        bits_stored: 10..16 stored bits in 16 allocated.
        voi: 'window' (Window Center / Width over the stored range), 'lut' (a VOI LUT Sequence undoing
            `stored_values`' curve) or 'none'.
        spacing_mm: Imager Pixel Spacing and Pixel Spacing, mm (row = column).
    """
    if voi not in VOI_KINDS:
        raise ValueError(f"voi must be one of {VOI_KINDS}, not {voi!r}")
    sop_class = SOP_CLASSES[modality]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = f"{UID_ROOT}.3.{uid_suffix}.1"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = f"{UID_ROOT}.1.{uid_suffix}", f"{UID_ROOT}.2.{uid_suffix}"
    ds.Modality, ds.PatientID, ds.PatientName = modality, f"PHANTOM{uid_suffix}", f"Phantom^{uid_suffix}"
    ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime = "", "O", "20260101", "120000"
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "", "", "1"
    ds.SeriesNumber, ds.InstanceNumber, ds.Manufacturer = 1, 1, "medseg-tf phantom"
    ds.ViewPosition, ds.BodyPartExamined = "PA", "CHEST"
    ds.PatientOrientation = ["L", "F"]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.Rows, ds.Columns = display.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits_stored, bits_stored - 1, 0
    ds.ImagerPixelSpacing = ds.PixelSpacing = [f"{spacing_mm:g}", f"{spacing_mm:g}"]
    ds.PresentationLUTShape = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
    if modality == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "US"
    levels = 2 ** bits_stored - 1
    if voi == "window":
        ds.WindowCenter, ds.WindowWidth = f"{levels / 2:g}", f"{levels + 1:g}"
    elif voi == "lut":
        curve = np.sqrt(np.linspace(0.0, 1.0, levels + 1))
        lut = pydicom.Dataset()
        lut.LUTDescriptor = [(levels + 1) % 65536, 0, 16]
        data = np.round((1.0 - curve[::-1] if photometric == "MONOCHROME1" else curve) * 65535).astype("<u2")
        lut.add_new(0x00283006, "OW", data.tobytes())
        lut.LUTExplanation = "gamma 0.5"
        ds.VOILUTSequence = [lut]
    ds.PixelData = stored_values(display, bits_stored, photometric, voi).tobytes()
    with atomic_path(path) as temp:
        ds.save_as(temp, enforce_file_format=True)
