"""RSTN from data to label maps: prepare -> train (three planes, tiny; `rstn_trained`) -> export
(`rstn_exported_set`) -> the single entrypoint on a DICOM series and on a NIfTI stored with another orientation;
outputs on the input grids (nibabel), the summary with the rounds; the diagnosis and the evaluation on the exported
set."""
import csv
import os

import numpy as np
import tensorflow as tf

from evaluation.metrics import dice
from preprocessing.cases import nih_pancreas_cases
from preprocessing.image_io import read_image, write_image
from preprocessing.orientation import to_canonical
from rstn.cache import read_case
from serving import load_member
from tests.conftest import assert_same_geometry_per_nibabel, run_module


def test_entrypoint_segments_dicom_and_reoriented_nifti_onto_their_grids(rstn_exported_set, nih_folder, tmp_path):
    case = nih_pancreas_cases(nih_folder)[0]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.symlink(case.image_path, inputs / "PANCREAS_0001")
    image, geometry = read_image(case.image_path, ndim=3)
    corner = np.array([geometry.size[0] - 1, geometry.size[1] - 1, 0])
    flipped = type(geometry)(geometry.size, geometry.spacing, tuple(geometry.index_to_physical(corner)),
                             (-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0))
    write_image(image[:, ::-1, ::-1].copy(), flipped, str(inputs / "ras_0000.nii.gz"))
    outputs = tmp_path / "outputs"
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", os.path.dirname(rstn_exported_set), "--model",
                        os.path.basename(rstn_exported_set))
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-2000:]
    assert all(figure in result.stdout for figure in ("fine_rounds", "coarse_voxels", "voxels"))
    ras = assert_same_geometry_per_nibabel(str(outputs / "ras.nii.gz"), str(inputs / "ras_0000.nii.gz"))
    dicom_labels, dicom_geometry = read_image(str(outputs / "PANCREAS_0001.nii.gz"), ndim=3)
    assert dicom_geometry.same_grid(geometry, 1e-4)
    canonical_ras = to_canonical(*read_image(str(outputs / "ras.nii.gz"), ndim=3))[0]
    np.testing.assert_array_equal(canonical_ras, to_canonical(dicom_labels, dicom_geometry)[0])
    assert set(np.unique(ras)) <= {0, 1}
    rows = list(csv.DictReader(open(outputs / "summary.csv")))
    assert {row["status"] for row in rows} == {"ok"} and all(float(row["fine_rounds"]) >= 0 for row in rows)
    assert {"fine_rounds", "coarse_voxels", "voxels"} <= set(rows[0])


def test_diagnose_reports_the_experiments_on_the_exported_set(rstn_exported_set, rstn_trained, tmp_path):
    output = tmp_path / "diagnosis"
    result = run_module("rstn.diagnose", "--model_set", rstn_exported_set, "--cache_folder", rstn_trained["cache"],
                        "--fold", "1", "--output_folder", str(output), "--plane_sets", "XYZ,XZ", "--max_rounds", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("fixed_point", "split_round1", "rounds_XYZ", "rounds_XZ"):
        assert (output / name / "summary.txt").is_file() and name in result.stdout
    rows = list(csv.DictReader(open(output / "rounds_XZ" / "results.csv")))
    assert {"X_recall", "Z_precision", "inter_dsc"} <= set(rows[0]) and "Y_recall" not in rows[0]
    assert [row["round"] for row in rows if row["case"] == rows[0]["case"]][:3] == ["0", "1", "2"]
    fixed = list(csv.DictReader(open(output / "fixed_point" / "results.csv")))
    assert all(0.0 <= float(row["recall"]) <= 1.0 for row in fixed)


def test_evaluate_scores_segment_on_every_nih_case(rstn_exported_set, nih_folder, tmp_path):
    """`rstn.evaluate`: one CSV row and one printed line per case, DSCs equal to those of `segment` scored here,
    the means and the gain; a folder without cases is refused in one line."""
    output = tmp_path / "evaluation"
    result = run_module("rstn.evaluate", "--dataset_folder", nih_folder, "--model_set", rstn_exported_set,
                        "--output_folder", str(output), "--slice_batch", "4")
    assert result.returncode == 0, result.stderr[-3000:]
    cases = nih_pancreas_cases(nih_folder)
    rows = list(csv.DictReader(open(output / "results.csv")))
    assert [row["case"] for row in rows] == [case.case_id for case in cases]
    assert list(rows[0]) == ["case", "coarse_dsc", "dsc", "rounds", "inter_dsc"]
    assert all(0 <= float(row["dsc"]) <= 1 and 0 <= int(row["rounds"]) <= 10 for row in rows)
    assert all(case.case_id in result.stdout for case in cases) and "coarse-to-fine gain" in result.stdout
    assert open(output / "summary.txt").read().strip() in result.stdout
    member = load_member(os.path.join(rstn_exported_set, "rstn"), "rstn", "segmentation")
    volume, labels, _ = read_case(cases[0])
    segmented = member.signatures["segment"](volume=tf.constant(volume, tf.float32), slice_batch=tf.constant(2))
    assert abs(float(rows[0]["coarse_dsc"]) - dice(segmented["coarse_labels"].numpy(), labels == 1)) < 1e-6
    assert abs(float(rows[0]["dsc"]) - dice(segmented["labels"].numpy(), labels == 1)) < 1e-6
    empty = tmp_path / "empty"
    for folder in ("Pancreas-CT", "TCIA_pancreas_labels-02-05-2017"):
        (empty / folder).mkdir(parents=True)
    refused = run_module("rstn.evaluate", "--dataset_folder", str(empty), "--model_set", rstn_exported_set)
    assert refused.returncode == 1 and refused.stderr.strip() == f"{empty}: no case (no PANCREAS_XXXX series folder)"
