"""The grid of a DICOM series from its tags alone (pydicom), as an independent reader to compare outputs with."""
from __future__ import annotations

import glob
import os

import numpy as np
import pydicom

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def dicom_affine(series_folder: str) -> tuple[np.ndarray, tuple[int, int, int]]:
    """(RAS affine as nibabel reports it, (columns, rows, slices)) of the DICOM series in `series_folder`."""
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in glob.glob(os.path.join(series_folder, "*.dcm"))]
    cosines = np.array(headers[0].ImageOrientationPatient, float)
    normal = np.cross(cosines[:3], cosines[3:])
    headers.sort(key=lambda h: float(np.dot(np.array(h.ImagePositionPatient, float), normal)))
    first, last = (np.array(h.ImagePositionPatient, float) for h in (headers[0], headers[-1]))
    rows, columns = (float(v) for v in headers[0].PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = cosines[:3] * columns
    affine[:3, 1] = cosines[3:] * rows
    affine[:3, 2] = (last - first) / (len(headers) - 1)
    affine[:3, 3] = first
    return LPS_TO_RAS @ affine, (int(headers[0].Columns), int(headers[0].Rows), len(headers))
