"""An LIDC-IDRI scan as TCIA releases it: a DICOM series folder with its annotation XML beside the slices, read
into the CT, the readers' nodules >= 3 mm grouped per physical nodule, and each nodule's consensus mask, centre,
size and malignancy."""
from __future__ import annotations

import dataclasses
import os

import numpy as np
import pydicom

from nodules import lidc_annotations as la
from nodules.lidc_xml import AnnotationError, LidcReading, ReaderNodule, read_lidc_xml
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import ImageReadError, dicom_series_files, read_image


@dataclasses.dataclass(frozen=True)
class LidcNodule:
    """One physical nodule as 1-4 readers outlined it.

    Attributes:
        readings: the readers' nodules grouped into this one.
        consensus: voxels at least half of them marked ([slice, row, column] box of the series volume).
        centre_mm: centre of the consensus mask, world (x, y, z) in mm.
        diameter_mm: diameter of the sphere of the consensus mask's volume (mm).
        malignancy: 1 malignant, 0 benign, None indeterminate (`lidc_annotations.malignancy_label`).
    """
    readings: tuple[ReaderNodule, ...]
    consensus: la.BoxMask
    centre_mm: tuple[float, float, float]
    diameter_mm: float
    malignancy: int | None


def series_slices(files: list[str]) -> tuple[la.SeriesSlices, float | None]:
    """(SOP Instance UID and z position of each slice file, the series' Slice Thickness in mm or None)."""
    uids, zs, thickness = [], [], None
    for path in files:
        header = pydicom.dcmread(path, stop_before_pixels=True,
                                 specific_tags=["SOPInstanceUID", "ImagePositionPatient", "SliceThickness"])
        uids.append(str(header.SOPInstanceUID))
        zs.append(float(header.ImagePositionPatient[2]))
        if thickness is None and header.get("SliceThickness") not in (None, ""):
            thickness = float(header.SliceThickness)
    return la.SeriesSlices(tuple(uids), np.array(zs)), thickness


def annotation_file(folder: str, series_uid: str) -> tuple[str, LidcReading] | None:
    """The LIDC XML in the series `folder` that annotates `series_uid` (None when the folder has no XML); an XML
    there that annotates another series raises AnnotationError."""
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(".xml"))
    other = None
    for name in names:
        path = os.path.join(folder, name)
        reading = read_lidc_xml(path)
        if reading.series_uid == series_uid:
            return path, reading
        other = (path, reading.series_uid)
    if other is not None:
        raise AnnotationError(other[0], f"annotates series {other[1]}, not this folder's series {series_uid}")
    return None


def lidc_nodules(reading: LidcReading, slices: la.SeriesSlices, geometry: ImageGeometry, tolerance: float,
                 path: str = "") -> list[LidcNodule]:
    """Groups a reading's nodules per physical nodule (pylidc's rule with `tolerance`, its slice thickness) and
    derives each one's consensus mask, centre, diameter and malignancy label. `geometry` is the series volume's."""
    points = [la.outline_points_ijk(n, slices, path) for n in reading.nodules]
    nodules = []
    for group in la.cluster_readings(points, tolerance):
        readings = tuple(reading.nodules[i] for i in group)
        nodule = grouped_nodule(readings, [la.reader_mask(n, slices, geometry.shape, path) for n in readings],
                                geometry)
        if nodule is not None:
            nodules.append(nodule)
    return nodules


def grouped_nodule(readings: tuple[ReaderNodule, ...], masks: list[la.BoxMask],
                   geometry: ImageGeometry) -> LidcNodule | None:
    """The nodule of a group of readings and their masks (on the series volume of `geometry`): consensus,
    centre, equivalent diameter, malignancy label; None when the consensus is empty."""
    consensus = la.consensus_mask(masks)
    voxels = np.argwhere(consensus.mask)
    if len(voxels) == 0:
        return None
    centre_zyx = voxels.mean(axis=0) + np.asarray(consensus.start)
    centre = geometry.index_to_physical(centre_zyx[::-1])
    volume = len(voxels) * float(np.prod(geometry.spacing))
    diameter = float((6.0 * volume / np.pi) ** (1.0 / 3.0))
    ratings = [r.characteristics["malignancy"] for r in readings if "malignancy" in r.characteristics]
    return LidcNodule(readings, consensus, tuple(float(c) for c in centre), diameter, la.malignancy_label(ratings))


def read_lidc_scan(folder: str) -> tuple[np.ndarray, ImageGeometry, list[LidcNodule]]:
    """(HU [slice, row, column] in the series' slice order, its geometry, its nodules >= 3 mm) of an LIDC series
    folder (or a patient / study folder above it); a series without an annotation file has no nodules."""
    files = dicom_series_files(folder)
    series_folder = os.path.dirname(files[0])
    header = pydicom.dcmread(files[0], stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
    image, geometry = read_image(series_folder, ndim=3)
    found = annotation_file(series_folder, str(header.SeriesInstanceUID))
    if found is None:
        return image, geometry, []
    path, reading = found
    slices, thickness = series_slices(files)
    if len(slices.sop_uids) != image.shape[0]:
        raise ImageReadError(series_folder, f"{len(slices.sop_uids)} slice files but {image.shape[0]} slices read")
    return image, geometry, lidc_nodules(reading, slices, geometry, thickness or geometry.spacing[2], path)


@dataclasses.dataclass(frozen=True)
class LidcSeriesEntry:
    """A CT series of an LIDC-IDRI download: its case id (the patient's, `.2`, `.3` ... for further series of the
    same patient), the patient id and the series folder."""
    case_id: str
    patient_id: str
    folder: str

    def read(self) -> tuple[np.ndarray, ImageGeometry, list[LidcNodule]]:
        """The scan and its nodules (`read_lidc_scan`)."""
        return read_lidc_scan(self.folder)


def _is_ct_annotation(path: str) -> bool:
    with open(path, "rb") as handle:
        return b"LidcReadMessage" in handle.read(4096)


def lidc_series(dataset_folder: str) -> list[LidcSeriesEntry]:
    """The annotated CT series under `dataset_folder` (TCIA's LIDC-IDRI/<patient>/<study>/<series>/ with the
    annotation XML beside the slices; chest X-ray studies, whose XML is an IdriReadMessage, are left out), in
    path order."""
    folders = []
    for directory, _, files in sorted(os.walk(dataset_folder)):
        if any(n.lower().endswith(".xml") and _is_ct_annotation(os.path.join(directory, n)) for n in files):
            folders.append(directory)
    folders = sorted(folders)
    patients = []
    for folder in folders:
        parts = os.path.relpath(folder, dataset_folder).split(os.sep)
        patients.append(next((p for p in parts if p.startswith("LIDC-IDRI-")), parts[0]))
    return [LidcSeriesEntry(case, patient, folder)
            for case, patient, folder in zip(case_ids(patients), patients, folders)]


def case_ids(patients: list[str]) -> list[str]:
    """Case ids of series in order, given each one's patient: the patient id for the first series of a patient,
    `<patient>.2`, `<patient>.3` ... for further ones."""
    seen: dict[str, int] = {}
    ids = []
    for patient in patients:
        seen[patient] = seen.get(patient, 0) + 1
        ids.append(patient if seen[patient] == 1 else f"{patient}.{seen[patient]}")
    return ids
