"""Chest CT phantoms with simulated LIDC readings, in the layout of the LIDC-IDRI collection as the Imaging Data
Commons serves it: the CT series plus, per reader and nodule >= 3 mm, a DICOM Segmentation object (one segment,
the reader's region without its cavity, frames on the slices it covers) and a DICOM SR (TID 1500) measurement report
referencing that segment, with the nodule's tracking identifier and UID (shared by the readings of one nodule), its
volume and diameter, and the reader's nine ratings as qualitative evaluations coded as the IDC conversion codes them
(`preprocessing.lidc_codes`). Written with highdicom. Layout (as `idc download` writes it)::

    lidc_idri/LIDC-IDRI-0001/<StudyInstanceUID>/CT_<SeriesInstanceUID>/<uuid>.dcm
    lidc_idri/LIDC-IDRI-0001/<StudyInstanceUID>/SEG_<SeriesInstanceUID>/<uuid>.dcm
    lidc_idri/LIDC-IDRI-0001/<StudyInstanceUID>/SR_<SeriesInstanceUID>/<uuid>.dcm
"""
from __future__ import annotations

import os
import uuid
import warnings

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from tqdm import tqdm

from preprocessing.atomic import atomic_path
from preprocessing.lidc_codes import CHARACTERISTIC_CONCEPTS, rating_code
from preprocessing.synthetic.dicom import series_uids, write_ct_series
from preprocessing.synthetic.lidc import LidcPhantom, LidcPhantomConfig, phantom, reading, sightings

COLLECTION = "lidc_idri"
SOFTWARE = "medseg-tf synthetic"


def _file_name(rng: np.random.Generator) -> str:
    return f"{uuid.UUID(bytes=rng.bytes(16), version=4)}.dcm"


def _uid(rng: np.random.Generator) -> str:
    """A UID drawn from `rng` (the phantoms are reproducible from their seed)."""
    return pydicom.uid.generate_uid(entropy_srcs=[rng.bytes(16).hex()])


def _derived_uid(uid: str, name: str) -> str:
    return pydicom.uid.generate_uid(entropy_srcs=[uid, name])


def _save(dataset: pydicom.Dataset, study_folder: str, rng: np.random.Generator) -> str:
    folder = os.path.join(study_folder, f"{dataset.Modality}_{dataset.SeriesInstanceUID}")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, _file_name(rng))
    with atomic_path(path) as temporary:
        dataset.save_as(temporary, enforce_file_format=True)
    return path


def segmentation(ct: list[pydicom.Dataset], region: np.ndarray, start: tuple[int, int, int], name: str,
                 tracking: tuple[str, str], series_number: int, uids: tuple[str, str]) -> hd.seg.Segmentation:
    """One reader's nodule as a one-segment SEG over the slices it covers (`region` bool [slices, rows, columns]
    at voxel `start` of the series volume `ct`), tracked as (identifier, UID) `tracking`, with (series, instance)
    UIDs `uids`."""
    slices = [k for k in range(len(region)) if region[k].any()]
    frames = np.zeros((len(slices), int(ct[0].Rows), int(ct[0].Columns)), np.uint8)
    rows, columns = region.shape[1:]
    for frame, k in enumerate(slices):
        frames[frame, start[1]:start[1] + rows, start[2]:start[2] + columns] = region[k]
    description = hd.seg.SegmentDescription(
        segment_number=1, segment_label=name, segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        tracking_id=tracking[0], tracking_uid=tracking[1], anatomic_regions=[codes.SCT.Lung])
    return hd.seg.Segmentation(
        source_images=[ct[start[0] + k] for k in slices], pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=[description],
        series_instance_uid=uids[0], series_number=series_number, sop_instance_uid=uids[1], instance_number=1,
        manufacturer=SOFTWARE, manufacturer_model_name=SOFTWARE, software_versions="1", device_serial_number="1",
        series_description=f"Segmentation of {name}")


def rating_evaluations(ratings: dict[str, int]) -> list[hd.sr.QualitativeEvaluation]:
    """A reader's ratings as the IDC conversion codes them."""
    evaluations = []
    for name, value in ratings.items():
        scheme, concept, meaning = CHARACTERISTIC_CONCEPTS[name]
        value_scheme, value_code = rating_code(name, value)
        evaluations.append(hd.sr.QualitativeEvaluation(name=hd.sr.CodedConcept(concept, scheme, meaning),
                                                       value=hd.sr.CodedConcept(value_code, value_scheme,
                                                                                f"{meaning} {value}")))
    return evaluations


def measurement_report(ct: list[pydicom.Dataset], seg: hd.seg.Segmentation,
                       evaluations: list[hd.sr.QualitativeEvaluation], volume_mm3: float, tracking: tuple[str, str],
                       series_number: int, name: str, uids: tuple[str, str]) -> hd.sr.Comprehensive3DSR:
    """The TID 1500 report of one reader's nodule: tracking (identifier, UID), the referenced segment, volume,
    diameter, the evaluations; (series, instance) UIDs `uids`."""
    referenced = [ds for ds in ct if ds.SOPInstanceUID in {u[2] for u in seg.get_source_image_uids()}]
    sources = [hd.sr.SourceImageForMeasurement.from_source_image(ds) for ds in referenced]
    diameter = (6.0 * volume_mm3 / np.pi) ** (1.0 / 3.0)
    group = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=tracking[1], identifier=tracking[0]),
        referenced_segment=hd.sr.ReferencedSegment(
            sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID, segment_number=1,
            source_series=hd.sr.SourceSeriesForSegmentation.from_source_image(ct[0])),
        finding_type=codes.SCT.Nodule, finding_sites=[hd.sr.FindingSite(anatomic_location=codes.SCT.Lung)],
        measurements=[
            hd.sr.Measurement(name=codes.SCT.Volume, value=volume_mm3, unit=codes.UCUM.CubicMillimeter,
                              tracking_identifier=hd.sr.TrackingIdentifier(uid=_derived_uid(uids[1], "volume")),
                              referenced_images=sources),
            hd.sr.Measurement(name=codes.SCT.Diameter, value=diameter, unit=codes.UCUM.Millimeter,
                              tracking_identifier=hd.sr.TrackingIdentifier(uid=_derived_uid(uids[1], "diameter")),
                              referenced_images=sources)],
        qualitative_evaluations=evaluations)
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name="anonymous^observer"))
    report = hd.sr.MeasurementReport(observation_context=hd.sr.ObservationContext(observer_person_context=observer),
                                     procedure_reported=codes.LN.CTUnspecifiedBodyRegion,
                                     imaging_measurements=[group])
    return hd.sr.Comprehensive3DSR(
        evidence=referenced + [seg], content=report[0], series_number=series_number, series_instance_uid=uids[0],
        sop_instance_uid=uids[1], instance_number=1, manufacturer=SOFTWARE, is_complete=True,
        series_description=f"{name} measurements")


def write_idc_scan(study_folder: str, scan: LidcPhantom, patient: str, uid_suffix: str,
                   rng: np.random.Generator) -> str:
    """Writes a phantom's CT series and its readings' SEG + SR into `study_folder`; returns the CT folder."""
    study_uid, series_uid, _ = series_uids(uid_suffix, scan.hu.shape[0])
    ct_folder = os.path.join(study_folder, f"CT_{series_uid}")
    names = [_file_name(rng) for _ in range(scan.hu.shape[0])]
    files = write_ct_series(ct_folder, scan.hu, scan.geometry, patient, uid_suffix, names)
    ct = [pydicom.dcmread(path, stop_before_pixels=True) for path in files]
    seen = sightings(scan, rng)
    tracking = [(f"Nodule {n + 1}", _uid(rng)) for n in range(len(scan.nodules))]
    voxel_mm3 = float(np.prod(scan.geometry.spacing))
    series_number = 100
    for reader in range(len(seen)):
        for number, nodule in enumerate(scan.nodules):
            if not seen[reader, number]:
                continue
            ratings, view = reading(nodule, rng)
            region = view & ~np.pad(nodule.cavity, ((0, 0), (2, 2), (2, 2)))
            start = (nodule.box[0].start, nodule.box[1].start - 2, nodule.box[2].start - 2)
            name = f"Nodule {number + 1} - Annotation {reader + 1}"
            seg = segmentation(ct, region, start, name, tracking[number], series_number, (_uid(rng), _uid(rng)))
            sr = measurement_report(ct, seg, rating_evaluations(ratings), float(region.sum()) * voxel_mm3,
                                    tracking[number], series_number + 1, name, (_uid(rng), _uid(rng)))
            _save(seg, study_folder, rng)
            _save(sr, study_folder, rng)
            series_number += 2
    return ct_folder


def write_idc_dataset(output_folder: str, num_cases: int, seed: int = 0, config: LidcPhantomConfig | None = None,
                      progress: bool = True) -> list[str]:
    """Writes phantoms LIDC-IDRI-0001.. in the IDC layout under `output_folder/lidc_idri`; returns the CT folders."""
    rng = np.random.default_rng(seed)
    config = config or LidcPhantomConfig()
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for number in tqdm(range(1, num_cases + 1), desc="LIDC phantoms (IDC)", disable=not progress):
            scan = phantom(rng, config)
            patient = f"LIDC-IDRI-{number:04d}"
            uid_suffix = f"6279.6001.{seed}.{number}"
            study_uid, _, _ = series_uids(uid_suffix, 1)
            written.append(write_idc_scan(os.path.join(output_folder, COLLECTION, patient, study_uid), scan,
                                          patient, uid_suffix, rng))
    return written
