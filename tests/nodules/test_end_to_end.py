"""Prepare -> train both models -> export -> entrypoint on LIDC phantoms: label maps on the exact input grid
(nibabel against the DICOM tags read with pydicom, and a reoriented NIfTI), findings consistent with the labels,
DICOM SEG frames on the source slices, the set loads in a TensorFlow-only process."""
import glob
import json
import os
import shutil
import subprocess
import sys

import nibabel as nib
import numpy as np
import pydicom

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import dicom_series_files, read_image, write_image
from tests.conftest import run_module
from tests.dicom_grid import check_seg_against_series, dicom_affine

def test_entrypoint_writes_labels_on_the_dicom_grid_and_findings(lidc_folder, nodule_model_set, tmp_path):
    out = tmp_path / "out"
    result = run_module("inference", "--input_path", os.path.join(lidc_folder, "LIDC-IDRI"), "--output_path",
                        str(out), "--saved_models_folder", nodule_model_set, "--model", "lidc_nodules", "--dicom_seg")
    assert result.returncode == 0, result.stderr[-3000:]
    for patient in ("LIDC-IDRI-0001", "LIDC-IDRI-0004"):
        series = os.path.dirname(glob.glob(os.path.join(lidc_folder, "LIDC-IDRI", patient, "*", "*", "*.xml"))[0])
        affine, shape = dicom_affine(series)
        output = nib.load(str(out / f"{patient}.nii.gz"))
        assert output.shape == shape and np.allclose(output.affine, affine, atol=1e-3)
        labels = np.asarray(output.dataobj)
        findings = json.loads((out / f"{patient}.json").read_text())["findings"]
        assert [f["label"] for f in findings] == list(range(1, len(findings) + 1))
        for finding in findings:
            assert set(finding) >= {"centre_mm", "detection_probability", "malignancy_probability", "volume_ml"}
            assert 0.0 <= finding["malignancy_probability"] <= 1.0 and finding["detection_probability"] >= 0.5
            voxels = (labels == finding["label"]).sum()
            assert np.isclose(voxels * np.prod(output.header.get_zooms()) / 1000.0, finding["volume_ml"])
        present = [f["label"] for f in findings if f["volume_ml"] > 0]
        if present:
            check_seg_against_series(str(out / f"{patient}.seg.dcm"), dicom_series_files(series),
                                     np.transpose(labels, (2, 1, 0)), [f"nodule {n}" for n in present])
        else:
            assert not (out / f"{patient}.seg.dcm").exists() and "no DICOM SEG: nothing segmented" in result.stdout


def test_dicom_seg_for_a_series_without_frame_of_reference_fails_the_case_with_no_output(lidc_folder,
                                                                                         nodule_model_set, tmp_path):
    series = os.path.dirname(glob.glob(os.path.join(lidc_folder, "LIDC-IDRI", "LIDC-IDRI-0003", "*", "*",
                                                    "*.xml"))[0])
    broken = tmp_path / "in" / "chest"
    shutil.copytree(series, broken)
    for path in glob.glob(str(broken / "*.dcm")):
        dataset = pydicom.dcmread(path)
        del dataset.FrameOfReferenceUID
        dataset.save_as(path)
    result = run_module("inference", "--input_path", str(tmp_path / "in"), "--output_path", str(tmp_path / "out"),
                        "--saved_models_folder", nodule_model_set, "--model", "lidc_nodules", "--dicom_seg")
    assert result.returncode == 1
    assert f"{broken}: no DICOM SEG: the series has no Frame of Reference UID" in result.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["summary.csv"]


def test_reoriented_nifti_gets_labels_on_its_own_grid(lidc_folder, nodule_model_set, tmp_path):
    series = os.path.dirname(glob.glob(os.path.join(lidc_folder, "LIDC-IDRI", "LIDC-IDRI-0002", "*", "*",
                                                    "*.xml"))[0])
    hu, geometry = read_image(series)
    flipped = ImageGeometry(geometry.size, geometry.spacing, tuple(geometry.index_to_physical(
        np.array([geometry.size[0] - 1, 0, 0], float))), (-1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    (tmp_path / "in").mkdir()
    write_image(hu[:, :, ::-1], flipped, str(tmp_path / "in" / "chest_0000.nii.gz"))
    result = run_module("inference", "--input_path", str(tmp_path / "in"), "--output_path", str(tmp_path / "out"),
                        "--saved_models_folder", nodule_model_set, "--model", "lidc_nodules")
    assert result.returncode == 0, result.stderr[-3000:]
    output = nib.load(str(tmp_path / "out" / "chest.nii.gz"))
    reference = nib.load(str(tmp_path / "in" / "chest_0000.nii.gz"))
    assert output.shape == reference.shape and np.allclose(output.affine, reference.affine, atol=1e-4)


def test_model_set_runs_in_a_tensorflow_only_process(nodule_model_set):
    script = (
        "import json, sys, tensorflow as tf\n"
        "folder = sys.argv[1]\n"
        "detector = tf.saved_model.load(folder + '/detector')\n"
        "meta = json.loads(detector.metadata()['json'].numpy())\n"
        "out = detector.signatures['serving_default'](image=tf.zeros([1, 32, 32, 32, 1]),"
        " coord=tf.zeros([1, 8, 8, 8, 3]))['outputs']\n"
        "crop = tf.saved_model.load(folder + '/crop_model')\n"
        "res = crop.signatures['serving_default'](image=tf.zeros([1, 64, 64, 64, 1]))\n"
        "mods = sorted({m.split('.')[0] for m in sys.modules} & {'nodules', 'preprocessing', 'networks', "
        "'inference', 'serving', 'evaluation'})\n"
        "print(json.dumps([list(out.shape), out.dtype.name, meta['anchors_mm'], list(res['mask_probability'].shape),"
        " list(res['malignancy_probability'].shape), mods]))\n")
    done = subprocess.run([sys.executable, "-c", script, os.path.join(nodule_model_set, "lidc_nodules")],
                          capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    shape, dtype, anchors, mask_shape, malignancy_shape, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert shape == [1, 8, 8, 8, 3, 5] and dtype == "float32" and anchors == [5.0, 10.0, 20.0]
    assert mask_shape == [1, 64, 64, 64] and malignancy_shape == [1]
    assert modules == []


def test_evaluate_writes_froc_dice_and_auc(lidc_folder, nodule_model_set, tmp_path):
    result = run_module("nodules.evaluate", "--model_set", os.path.join(nodule_model_set, "lidc_nodules"),
                        "--dataset_folder", lidc_folder, "--output_folder", str(tmp_path), "--bootstrap", "50")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "nodules.json").read_text())
    assert summary["scans"] == 4 and summary["nodules"] == len(summary["rows"]) > 0
    assert 0.0 <= summary["cpm"] <= 1.0 and 0.0 <= summary["dice_mean"] <= 1.0
    low, high = summary["cpm_bootstrap"]["cpm"][1:]
    assert low <= high
    assert (tmp_path / "froc.png").stat().st_size > 0
    assert "CPM " in result.stdout and "segmentation Dice" in result.stdout
