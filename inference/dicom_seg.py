"""DICOM Segmentation objects (highdicom) of label maps computed from a DICOM series or a single-frame DICOM
radiograph, for PACS viewers.

A label map on the grid of a DICOM series (array order (z, y, x), slice k = the series' k-th file sorted along the
slice normal, as `preprocessing.image_io.dicom_series_files` sorts them) becomes one binary SEG instance with a
segment per label value present, each frame referencing its source slice by SOP Instance UID. Segments are coded
with SNOMED CT as the Imaging Data Commons collections code them: organs as 'Anatomical Structure', nodules and
lesions as 'Morphologically Abnormal Structure'; other names as 'Tissue'.
"""
from __future__ import annotations

import importlib.metadata
import re
import warnings

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes

from preprocessing.atomic import atomic_path
from preprocessing.image_io import dicom_series_files

SEG_SUFFIX = ".seg.dcm"
SERIES_NUMBER = 1000
PACKAGE = "medseg-tf"

_ANATOMY = codes.SCT.AnatomicalStructure
_ABNORMAL = codes.SCT.MorphologicallyAbnormalStructure
SEGMENT_CODES = {
    "liver": (_ANATOMY, codes.SCT.Liver), "kidney": (_ANATOMY, codes.SCT.Kidney),
    "spleen": (_ANATOMY, codes.SCT.Spleen), "pancreas": (_ANATOMY, codes.SCT.Pancreas),
    "lung": (_ANATOMY, codes.SCT.Lung), "nodule": (_ABNORMAL, codes.SCT.Nodule),
    "lesion": (_ABNORMAL, codes.SCT.Lesion),
    "rightlung": (_ANATOMY, hd.sr.CodedConcept("3341006", "SCT", "Right lung")),
    "leftlung": (_ANATOMY, hd.sr.CodedConcept("44029006", "SCT", "Left lung")),
}


def segment_codes(name: str) -> tuple[hd.sr.CodedConcept, hd.sr.CodedConcept]:
    """(category, type) of a segment from its label name: its first word without a plural 's' or a number
    ('kidneys', 'nodule 3' -> kidney, nodule); Tissue / Tissue for names without a code here."""
    word = re.sub(r"[^a-z]", "", name.lower().split()[0]) if name.strip() else ""
    return SEGMENT_CODES.get(word, SEGMENT_CODES.get(word.rstrip("s"), (codes.SCT.Tissue, codes.SCT.Tissue)))


def segmentation(labels: np.ndarray, sources: list[pydicom.Dataset], label_names: dict[int, str],
                 algorithm: str) -> hd.seg.Segmentation:
    """The SEG of `labels` (uint8 (z, y, x), slice k on `sources[k]`), one segment per value present, named
    `label_names[value]`, made by the model set `algorithm`."""
    if labels.shape != (len(sources), int(sources[0].Rows), int(sources[0].Columns)):
        raise ValueError(f"label map of shape {labels.shape} is not on the grid of the {len(sources)} slices of "
                         f"{sources[0].Rows} x {sources[0].Columns} pixels")
    version = importlib.metadata.version(PACKAGE)
    identification = hd.AlgorithmIdentificationSequence(name=algorithm, version=version,
                                                        family=codes.cid7162.ArtificialIntelligence)
    present = [int(v) for v in np.unique(labels) if v]
    descriptions = [hd.seg.SegmentDescription(
        segment_number=number, segment_label=label_names.get(value, f"label {value}"),
        segmented_property_category=segment_codes(label_names.get(value, ""))[0],
        segmented_property_type=segment_codes(label_names.get(value, ""))[1],
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=identification)
        for number, value in enumerate(present, start=1)]
    numbered = np.zeros_like(labels)
    for number, value in enumerate(present, start=1):
        numbered[labels == value] = number
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return hd.seg.Segmentation(
            source_images=sources, pixel_array=numbered, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=SERIES_NUMBER,
            sop_instance_uid=hd.UID(), instance_number=1, manufacturer=PACKAGE, manufacturer_model_name=algorithm,
            software_versions=version, device_serial_number="none", series_description=f"{algorithm} segmentation")


def source_headers(files: list[str]) -> list[pydicom.Dataset]:
    """The headers of a series' slices; an empty SOP Class / Instance UID (some anonymisers blank them) is taken
    from the file meta information, which by the standard holds the same UIDs."""
    headers = []
    for path in files:
        header = pydicom.dcmread(path, stop_before_pixels=True)
        meta = getattr(header, "file_meta", pydicom.Dataset())
        for key, meta_key in (("SOPClassUID", "MediaStorageSOPClassUID"),
                              ("SOPInstanceUID", "MediaStorageSOPInstanceUID")):
            if not header.get(key) and meta.get(meta_key):
                setattr(header, key, meta.get(meta_key))
        if not header.get("SOPInstanceUID"):
            raise ValueError(f"{path}: no SOP Instance UID, so a DICOM SEG cannot reference the slice")
        headers.append(header)
    return headers


def series_segmentation(labels: np.ndarray, series_folder: str, label_names: dict[int, str],
                        algorithm: str) -> hd.seg.Segmentation | None:
    """The SEG of `labels` (on the grid of the DICOM series in `series_folder`); None when the map has no label,
    as a SEG needs at least one segment. Raises ValueError with one line when the series cannot be referenced
    (e.g. it lacks a Frame of Reference UID), whether or not anything was segmented."""
    sources = source_headers(dicom_series_files(series_folder))
    if not sources[0].get("FrameOfReferenceUID"):
        raise ValueError(f"{series_folder}: no DICOM SEG: the series has no Frame of Reference UID to place it in")
    if not labels.any():
        return None
    try:
        return segmentation(labels, sources, label_names, algorithm)
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{series_folder}: no DICOM SEG: {str(error).splitlines()[0]}") from error


def radiograph_segmentation(labels: np.ndarray, path: str, label_names: dict[int, str],
                            algorithm: str) -> hd.seg.Segmentation | None:
    """The SEG of `labels` (uint8 [y, x]) on the single-frame DICOM radiograph `path`; None when the map has no
    label. Raises ValueError with one line when the image cannot be referenced."""
    if not labels.any():
        return None
    try:
        return segmentation(labels[None], source_headers([path]), label_names, algorithm)
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{path}: no DICOM SEG: {str(error).splitlines()[0]}") from error


def save_dicom(dataset: pydicom.Dataset, path: str) -> None:
    """Writes a DICOM file atomically (complete or absent)."""
    with atomic_path(path) as temp:
        dataset.save_as(temp, enforce_file_format=True)
