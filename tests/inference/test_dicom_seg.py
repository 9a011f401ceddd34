"""DICOM SEG of a label map, read back with pydicom (frames, positions, references) and highdicom."""
import os

import highdicom as hd
import numpy as np
import pydicom
import pytest

from inference.dicom_seg import save_dicom, segment_codes, series_segmentation
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import dicom_series_files
from preprocessing.synthetic.dicom import write_ct_series
from tests.dicom_grid import check_seg_against_series


def test_segment_codes_follow_the_label_name():
    assert segment_codes("kidneys")[1].meaning == "Kidney"
    assert segment_codes("nodule 3") == (hd.sr.CodedConcept("49755003", "SCT", "Morphologically Abnormal Structure"),
                                         hd.sr.CodedConcept("27925004", "SCT", "Nodule"))
    assert segment_codes("Liver")[0].value == "91723000"
    assert segment_codes("lesion")[1].value == "52988006"
    assert segment_codes("left ventricle")[1].meaning == "Tissue"


def test_seg_of_a_synthetic_series_with_reversed_slices(tmp_path):
    geometry = ImageGeometry((40, 32, 12), (0.7, 0.8, 1.25), (10.0, -20.0, 30.0),
                             (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, -1.0))
    write_ct_series(str(tmp_path / "series"), np.full((12, 32, 40), -700, np.int16), geometry, "P^1", "4242")
    labels = np.zeros((12, 32, 40), np.uint8)
    labels[2:5, 4:10, 5:12] = 1
    labels[7:9, 20:25, 30:36] = 3
    path = str(tmp_path / "out" / "case.seg.dcm")
    os.makedirs(os.path.dirname(path))
    save_dicom(series_segmentation(labels, str(tmp_path / "series"), {1: "nodule 1", 3: "nodule 3"}, "lidc_nodules"),
               path)
    check_seg_against_series(path, dicom_series_files(str(tmp_path / "series")), labels, ["nodule 1", "nodule 3"])
    assert os.listdir(tmp_path / "out") == ["case.seg.dcm"]


def test_seg_of_the_real_series_with_blank_sop_uids_takes_them_from_the_file_meta(shared_dicom_series, tmp_path):
    files = dicom_series_files(shared_dicom_series)
    labels = np.zeros((len(files), 512, 512), np.uint8)
    labels[3:9, 200:260, 150:230] = 1
    labels[10:12, 300:320, 300:330] = 4
    path = str(tmp_path / "real.seg.dcm")
    save_dicom(series_segmentation(labels, shared_dicom_series, {1: "liver", 4: "pancreas"}, "flare21"), path)
    check_seg_against_series(path, files, labels, ["liver", "pancreas"])


def test_no_seg_for_an_empty_map_and_one_line_for_a_series_without_frame_of_reference(tmp_path):
    geometry = ImageGeometry((16, 16, 4), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0), (1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    files = write_ct_series(str(tmp_path / "series"), np.zeros((4, 16, 16), np.int16), geometry, "P^2", "77")
    assert series_segmentation(np.zeros((4, 16, 16), np.uint8), str(tmp_path / "series"), {}, "x") is None
    for path in files:
        dataset = pydicom.dcmread(path)
        del dataset.FrameOfReferenceUID
        dataset.save_as(path)
    with pytest.raises(ValueError, match=r"series: no DICOM SEG: the series has no Frame of Reference UID"):
        series_segmentation(np.zeros((4, 16, 16), np.uint8), str(tmp_path / "series"), {}, "x")
    with pytest.raises(ValueError, match=r"series: no DICOM SEG: .*Frame [Oo]f Reference") as error:
        series_segmentation(np.ones((4, 16, 16), np.uint8), str(tmp_path / "series"), {1: "liver"}, "x")
    assert "\n" not in str(error.value)
    assert sorted(os.listdir(tmp_path)) == ["series"]


@pytest.mark.parametrize("modality", ["CR", "DX"])
def test_seg_of_a_radiograph_codes_each_lung_and_references_the_film(tmp_path, modality):
    from inference.dicom_seg import radiograph_segmentation
    from preprocessing.synthetic.xray_dicom import write_xray_dicom

    film = np.full((40, 50), 180, np.uint8)
    write_xray_dicom(str(tmp_path / "film.dcm"), film, "9", modality, "MONOCHROME1", 14, "lut")
    labels = np.zeros((40, 50), np.uint8)
    labels[5:30, 4:20] = 1
    labels[6:28, 30:46] = 2
    path = str(tmp_path / "film.seg.dcm")
    save_dicom(radiograph_segmentation(labels, str(tmp_path / "film.dcm"), {1: "right_lung", 2: "left_lung"},
                                       "cxr_lungs"), path)
    seg = pydicom.dcmread(path)
    source = pydicom.dcmread(tmp_path / "film.dcm")
    assert [s.SegmentedPropertyTypeCodeSequence[0].CodeMeaning for s in seg.SegmentSequence] == ["Right lung",
                                                                                                  "Left lung"]
    segments = [frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber
                for frame in seg.PerFrameFunctionalGroupsSequence]
    frames = seg.pixel_array.reshape(-1, 40, 50)
    for frame, segment in zip(frames, segments):
        assert np.array_equal(frame.astype(bool), labels == segment)
    assert sorted(segments) == [1, 2]
    assert seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == \
        source.SOPInstanceUID
    assert radiograph_segmentation(np.zeros((40, 50), np.uint8), str(tmp_path / "film.dcm"), {}, "x") is None
