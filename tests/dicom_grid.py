"""The grid of a DICOM series from its tags alone (pydicom), and a DICOM SEG checked frame by frame against its
source series, as independent readers to compare outputs with."""
from __future__ import annotations

import glob
import os

import highdicom as hd
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


def check_seg_against_series(path: str, files: list[str], labels: np.ndarray, names: list[str]) -> None:
    """Every frame of the SEG at `path` references slice k of `files`, lies at its position and equals
    `labels[k] == value` of its segment; empty slices have no frame; segment labels are `names`."""
    seg = pydicom.dcmread(path)
    sources = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    slice_of = {s.get("SOPInstanceUID") or s.file_meta.MediaStorageSOPInstanceUID: k for k, s in enumerate(sources)}
    assert seg.Modality == "SEG" and seg.SegmentationType == "BINARY"
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == sources[0].SeriesInstanceUID
    assert seg.FrameOfReferenceUID == sources[0].FrameOfReferenceUID
    assert [s.SegmentLabel for s in seg.SegmentSequence] == names
    values = [v for v in np.unique(labels) if v]
    frames = seg.pixel_array.reshape(-1, labels.shape[1], labels.shape[2])
    seen = set()
    for frame, group in zip(frames, seg.PerFrameFunctionalGroupsSequence):
        k = slice_of[group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID]
        segment = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        np.testing.assert_allclose([float(v) for v in group.PlanePositionSequence[0].ImagePositionPatient],
                                   [float(v) for v in sources[k].ImagePositionPatient], atol=1e-4)
        np.testing.assert_array_equal(frame, labels[k] == values[segment - 1])
        seen.add((k, segment))
    expected = {(k, n) for n, v in enumerate(values, start=1) for k in range(len(files)) if (labels[k] == v).any()}
    assert seen == expected
    assert hd.seg.segread(path).number_of_segments == len(values)
