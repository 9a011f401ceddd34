"""X-ray path end to end: CFCM train (tiny) -> export -> entrypoint picks the 2D pipeline -> PNG masks at the
original size -> evaluate; bad inputs fail clearly without stopping the batch."""
import os
import shutil

import cv2
import numpy as np
import pytest
import tensorflow as tf

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import write_image
from tests.conftest import run_module


def check(result) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


@pytest.fixture(scope="module")
def cfcm_models(montgomery_folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("cfcm")
    check(run_module("cfcm.train", "--base_dataset_folder", montgomery_folder, "--base_output_folder",
                     str(work / "cfcm"), "--fold", "1", "--epochs", "2", "--batch_size", "2", "--resnet_depth", "18",
                     "--base_filters", "4", "--image_size", "64", "--cv_folder", str(work / "cv")))
    saved = work / "saved_models"
    check(run_module("cfcm.export", "--load_model_base", str(work / "cfcm"), "--model_set_folder",
                     str(saved / "montgomery_cfcm"), "--trained_on", "test phantoms"))
    return {"training": str(work / "cfcm"), "saved_models": str(saved), "cv": str(work / "cv")}


def test_training_writes_three_folds_and_per_epoch_validation(cfcm_models):
    assert sorted(os.listdir(cfcm_models["cv"])) == ["0", "1", "2", "3"]
    rows = open(os.path.join(cfcm_models["training"], "validation.csv")).read().splitlines()
    assert rows[0] == "iteration,epoch,dice_lungs" and len(rows) == 3


def test_exported_cfcm_segments_any_size_with_tensorflow_only(cfcm_models):
    model = tf.saved_model.load(os.path.join(cfcm_models["saved_models"], "montgomery_cfcm", "cfcm"))
    out = model.signatures["segment"](image=tf.random.uniform((123, 77)) * 255)
    assert out["labels"].shape == (123, 77) and out["labels"].dtype == tf.uint8
    assert out["probabilities"].shape == (123, 77, 1), "one sigmoid channel for the merged lungs"


def test_entrypoint_writes_png_masks_at_original_size_and_reports_bad_inputs(cfcm_models, montgomery_folder, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    names = sorted(os.listdir(os.path.join(montgomery_folder, "CXR_png")))[:2]
    for name in names:
        shutil.copy(os.path.join(montgomery_folder, "CXR_png", name), inputs / name)
    (inputs / "notes.png").write_text("this is not an image")
    outputs = tmp_path / "outputs"
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", cfcm_models["saved_models"])
    assert result.returncode == 1, result.stderr[-3000:]
    assert "2 ok, 0 skipped (already done), 1 failed" in result.stdout
    assert f"{inputs / 'notes.png'}: cannot be decoded" in result.stdout
    for name in names:
        mask = cv2.imread(str(outputs / name), cv2.IMREAD_UNCHANGED)
        image = cv2.imread(str(inputs / name), cv2.IMREAD_UNCHANGED)
        assert mask.shape == image.shape and mask.dtype == np.uint8
        assert set(np.unique(mask)) <= {0, 255}
    evaluation = run_module("inference.evaluate", "--prediction_path", str(outputs), "--reference_path",
                            os.path.join(montgomery_folder, "ManualMask"), "--spacing_mm", "0.0875")
    assert evaluation.returncode == 1, "references without a prediction make the evaluation incomplete"
    assert "2 cases evaluated, missing predictions: " in evaluation.stdout and "lungs" in evaluation.stdout
    assert os.path.exists(outputs / "metrics.csv") and os.path.exists(outputs / "metrics.json")
    one_by_one = tmp_path / "one_by_one"
    sequential = run_module("inference", "--input_path", str(inputs), "--output_path", str(one_by_one),
                            "--saved_models_folder", cfcm_models["saved_models"], "--nopipelined")
    assert sequential.returncode == 1 and "2 ok, 0 skipped (already done), 1 failed" in sequential.stdout
    for name in names:
        assert (one_by_one / name).read_bytes() == (outputs / name).read_bytes(), "the same masks one case at a time"


def test_volume_given_to_the_2d_model_fails_clearly(cfcm_models, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    write_image(np.zeros((4, 16, 16), np.int16), ImageGeometry((16, 16, 4), (1, 1, 1), (0, 0, 0),
                                                               (1, 0, 0, 0, 1, 0, 0, 0, 1)), str(inputs / "ct.nii.gz"))
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(tmp_path / "out"),
                        "--saved_models_folder", cfcm_models["saved_models"], "--model", "montgomery_cfcm")
    assert result.returncode == 1
    assert f"{inputs / 'ct.nii.gz'}: is a 3D volume (size 16x16x4), expected a 2D image" in result.stdout


def test_clinical_radiographs_get_masks_on_their_grid_a_dicom_seg_and_a_quality_estimate(cfcm_models, tmp_path):
    import csv
    import json

    import pydicom

    from preprocessing.synthetic.montgomery import MontgomeryPhantomConfig, phantom
    from preprocessing.synthetic.xray_dicom import write_xray_dicom

    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rng = np.random.default_rng(11)
    films = {}
    for name, photometric, voi in (("cr_mono1_lut", "MONOCHROME1", "lut"), ("dx_mono2_window", "MONOCHROME2",
                                                                          "window")):
        films[name], _, _ = phantom(rng, MontgomeryPhantomConfig(long_side=(150, 190)))
        write_xray_dicom(str(inputs / f"{name}.dcm"), films[name], str(len(films)), name[:2].upper(), photometric,
                         12, voi)
    films["png16"], _, _ = phantom(rng, MontgomeryPhantomConfig(long_side=(150, 190)))
    cv2.imwrite(str(inputs / "png16.png"), films["png16"].astype(np.uint16) * 257)
    outputs = tmp_path / "outputs"
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", cfcm_models["saved_models"], "--dicom_seg")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    for name, film in films.items():
        mask = cv2.imread(str(outputs / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        assert mask.shape == film.shape and mask.dtype == np.uint8
        finding = json.load(open(outputs / f"{name}.json"))["findings"][0]
        assert 0.0 <= finding["quality"] <= 1.0 and "lung_fraction_of_image" in finding
    rows = {row["case"]: row for row in csv.DictReader(open(outputs / "summary.csv"))}
    assert set(rows) == set(films) and all(row["quality"] for row in rows.values())
    assert "no DICOM SEG: the input is not DICOM" in rows["png16"]["note"]
    assert not (outputs / "png16.seg.dcm").exists()
    for name in ("cr_mono1_lut", "dx_mono2_window"):
        mask = cv2.imread(str(outputs / f"{name}.png"), cv2.IMREAD_UNCHANGED)
        if not mask.any():
            assert "no DICOM SEG: nothing segmented" in rows[name]["note"]
            continue
        seg = pydicom.dcmread(outputs / f"{name}.seg.dcm")
        source = pydicom.dcmread(inputs / f"{name}.dcm")
        assert seg.Modality == "SEG" and (seg.Rows, seg.Columns) == (source.Rows, source.Columns)
        assert seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == \
            source.SOPInstanceUID


def test_cfcm_evaluate_scores_labelled_films_and_the_quality_estimate(cfcm_models, montgomery_folder, tmp_path):
    import csv
    import json

    result = run_module("cfcm.evaluate", "--model_set", os.path.join(cfcm_models["saved_models"], "montgomery_cfcm"),
                        "--base_dataset_folder", montgomery_folder, "--layout", "montgomery", "--spacing_mm",
                        "0.5,0.6", "--tta", "--output_folder", str(tmp_path / "eval"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "eval" / "cases.csv")))
    assert len(rows) == 4 and set(rows[0]) == {"case", "lungs_dice", "lungs_nsd", "lungs_hd95", "lungs_dice_256",
                                               "lungs_hd95_256px", "quality", "tta_agreement"}
    summary = json.load(open(tmp_path / "eval" / "summary.json"))
    assert summary["all"]["films"] == summary["MCUCXR"]["films"] == 4
    assert {"spearman_with_lungs_dice", "flagged_of_those", "flagged_of_all"} <= set(summary["quality"])
    assert all(0.0 <= float(row["quality"]) <= 1.0 for row in rows)
