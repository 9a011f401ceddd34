"""LIDC-IDRI as the Imaging Data Commons serves it: the CT series with, per reader and nodule >= 3 mm, a DICOM
Segmentation object and a DICOM SR (TID 1500) measurement report (the DICOM re-encoding of the LIDC XML, Fedorov
et al., Med. Phys. 2020), read with highdicom into the same nodules as the XML reader gives.

- Series: any folder layout (`idc download` writes `<collection>/<PatientID>/<StudyInstanceUID>/
  <Modality>_<SeriesInstanceUID>/<uuid>.dcm`); a folder's first file tells its modality. Every CT series is a
  case; SEGs attach to the series they reference, SRs to their study.
- A reading: one segment (its frames placed on the CT slices by referenced SOP Instance UID), its ratings from the
  SR measurement group that references the segment (`preprocessing.lidc_codes`); a segment without a report has
  none.
- Nodules: the readings sharing a tracking UID (the conversion grouped them with pylidc's rule), ordered by their
  first slice; consensus, centre, diameter and malignancy label as for the XML (`lidc_scan.grouped_nodule`).
"""
from __future__ import annotations

import dataclasses
import os
from collections import defaultdict

import highdicom as hd
import numpy as np
import pydicom

from nodules import lidc_annotations as la
from nodules.lidc_scan import LidcNodule, LidcSeriesEntry, case_ids, grouped_nodule, lidc_series, series_slices
from nodules.lidc_xml import AnnotationError, ReaderNodule
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import dicom_series_files, read_image
from preprocessing.lidc_codes import characteristic, rating

HEADER_TAGS = ["Modality", "SeriesInstanceUID", "StudyInstanceUID", "PatientID", "ReferencedSeriesSequence"]


@dataclasses.dataclass(frozen=True)
class IdcSeriesEntry(LidcSeriesEntry):
    """A CT series of an IDC download with the SEG files that reference it and the SR files of its study."""
    segmentations: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()

    def read(self) -> tuple[np.ndarray, ImageGeometry, list[LidcNodule]]:
        """The scan and its nodules (`read_idc_scan`)."""
        return read_idc_scan(self)


def _header(path: str) -> pydicom.Dataset | None:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=HEADER_TAGS)
    except (pydicom.errors.InvalidDicomError, OSError, EOFError):
        return None


def _files(directory: str, names: list[str]) -> list[str]:
    return [os.path.join(directory, n) for n in sorted(names) if not n.startswith(".")]


def idc_series(dataset_folder: str) -> list[IdcSeriesEntry]:
    """The CT series under `dataset_folder`, in path order, each with its SEGs and its study's SRs."""
    cts, segmentations, reports = [], defaultdict(list), defaultdict(list)
    for directory, _, names in sorted(os.walk(dataset_folder)):
        files = _files(directory, names)
        first = _header(files[0]) if files else None
        if first is None:
            continue
        modality = first.get("Modality")
        if modality == "CT":
            cts.append((directory, str(first.PatientID), str(first.SeriesInstanceUID), str(first.StudyInstanceUID)))
        elif modality == "SR":
            reports[str(first.StudyInstanceUID)].extend(files)
        elif modality == "SEG":
            for path in files:
                header = _header(path)
                for reference in (header.get("ReferencedSeriesSequence") or []) if header else []:
                    segmentations[str(reference.SeriesInstanceUID)].append(path)
    ids = case_ids([patient for _, patient, _, _ in cts])
    return [IdcSeriesEntry(case, patient, folder, tuple(segmentations[series]), tuple(reports[study]))
            for case, (folder, patient, series, study) in zip(ids, cts)]


def annotated_series(dataset_folder: str, layout: str) -> list[LidcSeriesEntry]:
    """The CT series of an LIDC-IDRI download, `layout` 'lidc' (TCIA, annotation XML beside the slices) or 'idc'
    (DICOM SEG + SR); each entry's `read()` gives the scan and its nodules."""
    return idc_series(dataset_folder) if layout == "idc" else lidc_series(dataset_folder)


def segment_ratings(report_paths: tuple[str, ...]) -> dict[tuple[str, int], dict[str, int]]:
    """{(SEG SOP Instance UID, segment number): the nine ratings by name} from the SR measurement groups."""
    ratings = {}
    for path in report_paths:
        try:
            groups = hd.sr.srread(path).content.get_volumetric_roi_measurement_groups()
        except (ValueError, AttributeError, KeyError, TypeError) as error:
            raise AnnotationError(path, f"not a readable TID 1500 measurement report: {error}") from error
        for group in groups:
            segment = group.referenced_segment
            if segment is None:
                continue
            values = {}
            for evaluation in group.get_qualitative_evaluations():
                name = characteristic(evaluation.name.scheme_designator, evaluation.name.value)
                value = rating(name, evaluation.value.value) if name else None
                if value is not None:
                    values[name] = value
            for number in segment.referenced_segment_numbers or [1]:
                ratings[(segment.referenced_sop_instance_uid, int(number))] = values
    return ratings


def segment_masks(path: str, slice_of: dict[str, int]
                  ) -> tuple[str, list[tuple[hd.seg.SegmentDescription, la.BoxMask]]]:
    """(the SEG's SOP Instance UID, each of its segments as (its description, its mask on the series volume, in the
    box of its frames)); `slice_of` maps the series' SOP Instance UIDs to slice indices."""
    try:
        seg = hd.seg.segread(path)
        sources = [uids[2] for uids in seg.get_source_image_uids()]
    except (ValueError, AttributeError, KeyError, TypeError) as error:
        raise AnnotationError(path, f"not a readable DICOM SEG: {error}") from error
    missing = [uid for uid in sources if uid not in slice_of]
    if missing:
        raise AnnotationError(path, f"references slice {missing[0]}, which the series does not have")
    slices = np.array([slice_of[uid] for uid in sources])
    low, high = int(slices.min()), int(slices.max())
    masks = []
    for number in seg.get_segment_numbers():
        pixels = seg.get_pixels_by_source_instance(sources, segment_numbers=[number])[..., 0] > 0
        if not pixels.any():
            continue
        rows, columns = np.flatnonzero(pixels.any(axis=(0, 2))), np.flatnonzero(pixels.any(axis=(0, 1)))
        mask = np.zeros((high - low + 1, rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1), bool)
        for k, frame in zip(slices, pixels):
            mask[k - low] |= frame[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
        masks.append((seg.get_segment_description(number), la.BoxMask((low, int(rows[0]), int(columns[0])), mask)))
    return str(seg.SOPInstanceUID), masks


def read_idc_scan(entry: IdcSeriesEntry) -> tuple[np.ndarray, ImageGeometry, list[LidcNodule]]:
    """(HU [slice, row, column] in the series' slice order, its geometry, its nodules >= 3 mm) of an IDC series."""
    files = dicom_series_files(entry.folder)
    image, geometry = read_image(entry.folder, ndim=3)
    slices, _ = series_slices(files)
    slice_of = {uid: k for k, uid in enumerate(slices.sop_uids)}
    ratings = segment_ratings(entry.reports)
    groups: dict[str, list[tuple[ReaderNodule, la.BoxMask]]] = defaultdict(list)
    for path in entry.segmentations:
        sop_uid, masks = segment_masks(path, slice_of)
        for description, mask in masks:
            number = int(description.SegmentNumber)
            key = str(description.tracking_uid or f"{sop_uid}/{number}")
            reading = ReaderNodule(len(groups[key]), str(description.SegmentLabel),
                                   ratings.get((sop_uid, number), {}), ())
            groups[key].append((reading, mask))
    nodules = [grouped_nodule(tuple(r for r, _ in group), [m for _, m in group], geometry)
               for group in sorted(groups.values(), key=lambda g: min(m.start[0] for _, m in g))]
    return image, geometry, [n for n in nodules if n is not None]
