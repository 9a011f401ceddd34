"""LIDC-IDRI as IDC serves it (DICOM SEG + SR per reading): hand-built readings with literal codes, a SEG that
references a slice the series lacks, and nodules.prepare on IDC phantoms."""
import glob
import json
import os

import highdicom as hd
import numpy as np
import pydicom
import pytest

from nodules.idc import idc_series
from nodules.lidc_xml import AnnotationError
from preprocessing.image_geometry import ImageGeometry
from preprocessing.synthetic import lidc, lidc_idc
from preprocessing.synthetic.dicom import write_ct_series
from tests.conftest import run_module

pytestmark = pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent:UserWarning")
MALIGNANCY = ("RID36042", "RadLex", "Malignancy")
CALCIFICATION = ("C3672", "NCIt", "Calcification")
# values of the IDC conversion's table (values_dict.json): malignancy 4 = 904, 5 = 905, 2 = 902; calcification
# 6 'Absent' = RadLex RID28473
RATINGS = {"a": [(MALIGNANCY, ("904", "99LIDCQIICR")), (CALCIFICATION, ("RID28473", "RadLex"))],
           "b": [(MALIGNANCY, ("905", "99LIDCQIICR"))], "c": [(MALIGNANCY, ("902", "99LIDCQIICR"))]}


def write_case(study: str, slices: int = 10) -> list[pydicom.Dataset]:
    """A 24 x 20 x `slices` CT series (1 x 1 x 2 mm) in IDC's layout; its headers in slice order."""
    geometry = ImageGeometry((24, 20, slices), (1.0, 1.0, 2.0), (-12.0, -10.0, 50.0),
                             (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    files = write_ct_series(os.path.join(study, "CT_1"), np.full((slices, 20, 24), -800, np.int16), geometry,
                            "LIDC-IDRI-0007", "555", [f"{k:03d}.dcm" for k in range(slices)])
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in files]


def write_reading(study: str, ct: list[pydicom.Dataset], name: str, region: np.ndarray, start: tuple[int, int, int],
                  tracking: tuple[str, str], number: int) -> None:
    uids = tuple(pydicom.uid.generate_uid(entropy_srcs=[name, str(i)]) for i in range(4))
    seg = lidc_idc.segmentation(ct, region, start, name, tracking, 100 + number, uids[:2])
    evaluations = [hd.sr.QualitativeEvaluation(hd.sr.CodedConcept(*concept), hd.sr.CodedConcept(*value, "rating"))
                   for concept, value in RATINGS[name]]
    sr = lidc_idc.measurement_report(ct, seg, evaluations, float(region.sum()) * 2.0, tracking, 200 + number, name,
                                     uids[2:])
    for dataset in (seg, sr):
        folder = os.path.join(study, f"{dataset.Modality}_{dataset.SeriesInstanceUID}")
        os.makedirs(folder)
        dataset.save_as(os.path.join(folder, "1.dcm"), enforce_file_format=True)


def test_readings_grouped_by_tracking_uid_with_their_ratings(tmp_path):
    study = str(tmp_path / "lidc_idri" / "LIDC-IDRI-0007" / "study")
    ct = write_case(study)
    a = np.zeros((3, 4, 4), bool)
    a[:, 1:3, 1:3] = True
    b = np.zeros((3, 4, 4), bool)
    b[1:, :3, 1:3] = True
    c = np.ones((1, 2, 2), bool)
    write_reading(study, ct, "a", a, (2, 5, 6), ("Nodule 1", "1.2.3.1"), 1)
    write_reading(study, ct, "b", b, (2, 5, 6), ("Nodule 1", "1.2.3.1"), 2)
    write_reading(study, ct, "c", c, (7, 15, 18), ("Nodule 2", "1.2.3.2"), 3)
    (entry,) = idc_series(str(tmp_path))
    assert entry.case_id == "LIDC-IDRI-0007" and len(entry.segmentations) == 3 and len(entry.reports) == 3
    _, geometry, (first, second) = entry.read()
    union = np.zeros((10, 20, 24), bool)
    union[2:5, 5:9, 6:10] |= a
    union[2:5, 5:9, 6:10] |= b
    consensus = np.zeros_like(union)
    consensus[tuple(slice(s, e) for s, e in zip(first.consensus.start, first.consensus.stop))] = first.consensus.mask
    np.testing.assert_array_equal(consensus, union)
    centre = np.argwhere(union).mean(axis=0)
    np.testing.assert_allclose(first.centre_mm, (-12.0 + centre[2], -10.0 + centre[1], 50.0 + 2.0 * centre[0]))
    assert np.isclose(first.diameter_mm, (6.0 * union.sum() * 2.0 / np.pi) ** (1 / 3))
    assert sorted(r.characteristics["malignancy"] for r in first.readings) == [4, 5] and first.malignancy == 1
    assert {"malignancy": 4, "calcification": 6} in [r.characteristics for r in first.readings]
    assert second.malignancy == 0 and second.consensus.start == (7, 15, 18) and second.consensus.mask.sum() == 4


def test_seg_referencing_a_slice_the_series_lacks(tmp_path):
    study = str(tmp_path / "LIDC-IDRI-0007" / "study")
    ct = write_case(study, slices=11)
    write_reading(study, ct, "a", np.ones((2, 2, 2), bool), (9, 3, 3), ("Nodule 1", "1.2.3.1"), 1)
    os.remove(os.path.join(study, "CT_1", "010.dcm"))
    (entry,) = idc_series(str(tmp_path))
    with pytest.raises(AnnotationError, match=r"SEG_.*1\.dcm: references slice .* which the series does not have"):
        entry.read()


def test_prepare_reads_idc_phantoms(tmp_path):
    config = lidc.LidcPhantomConfig(in_plane_size=96, field_of_view_mm=(180.0, 200.0), axial_extent_mm=(50.0, 60.0),
                                    nodule_diameter_mm=(5.0, 10.0), nodule_free_probability=0.0, max_nodules=2)
    lidc_idc.write_idc_dataset(str(tmp_path / "idc"), 2, seed=4, config=config, progress=False)
    result = run_module("nodules.prepare", "--dataset_folder", str(tmp_path / "idc"), "--layout", "idc",
                        "--cache_folder", str(tmp_path / "cache"), "--num_folds", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    cases = json.loads((tmp_path / "cache" / "cases.json").read_text())["cases"]
    for patient in ("LIDC-IDRI-0001", "LIDC-IDRI-0002"):
        segs = glob.glob(str(tmp_path / "idc" / "lidc_idri" / patient / "*" / "SEG_*" / "*.dcm"))
        tracked = {pydicom.dcmread(p).SegmentSequence[0].TrackingUID for p in segs}
        assert cases[patient]["nodules"] == len(tracked) > 0
