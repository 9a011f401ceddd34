"""CT pipeline end to end on tiny configurations: train (+ resume) -> export -> TF-only reload ->
inference entrypoint (geometry kept, bad inputs reported) -> evaluate -> predict.sh."""
import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap

import nibabel as nib
import numpy as np
import pytest

from preprocessing.cases import flare21_cases
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import dicom_series_files, read_image, write_image
from tests.conftest import PROJECT_PACKAGES, REPO, assert_same_geometry_per_nibabel, run_module
from tests.dicom_grid import check_seg_against_series

LOCALIZATION = ["--num_filters", "4", "--num_levels", "3", "--valid_sizes", "16,32/16,32/16,32", "--spacing", "12",
                "--learning_rate", "1e-3"]
SCN = ["--local_filters", "4", "--local_levels", "3", "--spatial_filters", "4", "--spatial_levels", "2",
       "--valid_sizes", "16,32/16,32/16,32", "--spacing", "8", "--learning_rate", "1e-3"]


def check(result) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


@pytest.fixture(scope="module")
def trained(flare21_folder, tmp_path_factory):
    work = tmp_path_factory.mktemp("ct_training")
    data = str(work / "FLARE21")
    shutil.copytree(flare21_folder, data)
    outputs = {"localization": str(work / "localization"), "scn": str(work / "scn")}
    for module, extra in (("localization", LOCALIZATION), ("scn", SCN)):
        check(run_module(f"{module}.train", "--base_dataset_folder", data, "--base_output_folder", outputs[module],
                         "--cv", "1", "--max_iter", "4", "--test_iter", "2", "--cache", "", *extra))
    saved = str(work / "saved_models")
    check(run_module("localization.export", "--load_model_base", outputs["localization"],
                     "--model_set_folder", os.path.join(saved, "flare21")))
    check(run_module("scn.export", "--load_model_base", outputs["scn"], "--model_set_folder",
                     os.path.join(saved, "flare21"), "--trained_on", "test phantoms", "--default_set"))
    return {"data": data, "saved_models": saved, "set": os.path.join(saved, "flare21"), **outputs}


def test_training_writes_checkpoints_tensorboard_and_per_organ_validation_csv(trained):
    for name in ("localization", "scn"):
        folder = trained[name]
        assert sorted(n for n in os.listdir(os.path.join(folder, "checkpoints")) if n.endswith(".index")) == [
            "ckpt-2.index", "ckpt-4.index"]
        assert any(n.startswith("events") for n in os.listdir(os.path.join(folder, "train")))
        assert os.path.exists(os.path.join(folder, "config.json"))
    header = open(os.path.join(trained["scn"], "validation.csv")).readline().strip().split(",")
    assert header == ["iteration", "dice_liver", "dice_kidney", "dice_spleen", "dice_pancreas", "dice_mean"]
    with open(os.path.join(trained["scn"], "train.csv")) as handle:
        assert next(csv.reader(handle))[:4] == ["iteration", "loss", "loss_local", "loss_spatial"]


def test_export_marks_the_default_set_only_where_a_manifest_is_written(trained, tmp_path):
    from networks.export import mark_default

    with open(os.path.join(trained["set"], "manifest.json")) as handle:
        assert json.load(handle)["default"] is True
    with pytest.raises(FileNotFoundError, match="no manifest.json to mark as default"):
        mark_default(str(tmp_path))


def test_training_resumes_from_latest_checkpoint(trained, tmp_path):
    folder = str(tmp_path / "localization")
    shutil.copytree(trained["localization"], folder)
    os.remove(os.path.join(folder, "train.csv"))
    check(run_module("localization.train", "--base_dataset_folder", trained["data"], "--base_output_folder", folder,
                     "--cv", "1", "--max_iter", "6", "--test_iter", "2", "--log_iter", "1", *LOCALIZATION))
    iterations = [int(row[0]) for row in list(csv.reader(open(os.path.join(folder, "train.csv"))))[1:]]
    assert iterations == [5, 6], "a resumed run continues after the saved step"
    assert os.path.exists(os.path.join(folder, "checkpoints", "ckpt-6.index"))


def test_saved_models_load_and_run_with_tensorflow_only(trained):
    script = textwrap.dedent(f"""
        import json, sys
        PROJECT_PACKAGES = {PROJECT_PACKAGES!r}
        import tensorflow as tf
        folder = {trained['set']!r}
        for name, labels in (("localization", 2), ("segmentation", 5)):
            model = tf.saved_model.load(folder + "/" + name)
            meta = json.loads(model.signatures["metadata"]()["json"].numpy())
            assert meta["system"] == "efficient_scn" and meta["role"] == name, meta
            assert len(meta["labels"]) == labels, meta
            serve = model.signatures["serving_default"]
            spec = serve.structured_input_signature[1]["image"]
            assert spec.dtype == tf.float32 and spec.shape.as_list() == [None, None, None, None, 1], spec
            out = serve(image=tf.zeros([1, 16, 24, 32, 1]))["probabilities"]
            assert out.shape == (1, 16, 24, 32, labels) and out.dtype == tf.float32
        utils = tf.saved_model.load(folder + "/tf_utils_module")
        box = utils.signatures["whole_volume_box"](volume_shape=tf.constant([10, 20, 30]),
                                                   spacing=tf.constant([2.0, 1.0, 1.0]))
        assert box["end_mm"].numpy().tolist() == [19.0, 19.5, 29.5]  # voxel edges
        grid = utils.signatures["network_input"](
            volume=tf.zeros([10, 20, 30]), spacing=tf.constant([2.0, 1.0, 1.0]), start_mm=box["start_mm"],
            end_mm=box["end_mm"], base_spacing=tf.constant(2.0), sigma_mm=tf.constant(1.0),
            window_hu=tf.constant([-2048.0, 2048.0]), valid_sizes=tf.constant([[8, 16]] * 3),
            spacing_tolerance=tf.constant(0.05), size_multiple=tf.constant(8), fit=tf.constant(True))
        assert grid["image"].shape == (1, 16, 16, 16, 1) and float(grid["grid_spacing"]) == 2.0
        print("modules:", sorted(m for m in sys.modules if m.split(".")[0] in PROJECT_PACKAGES))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, encoding="utf-8",
                            errors="replace", timeout=300, cwd="/")
    check(result)
    assert "modules: []" in result.stdout, "none of this project's code may be needed to load the SavedModels"


def test_entrypoint_keeps_geometry_and_reports_bad_cases_without_stopping(trained, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    case = flare21_cases(trained["data"], "validation")[0]
    shutil.copy(case.image_path, inputs / "validation_000_0000.nii.gz")
    image, geometry = read_image(case.image_path)
    oblique = ImageGeometry(geometry.size, geometry.spacing, (12.5, -40.0, 300.0),
                            (0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0))
    write_image(image, oblique, str(inputs / "rotated_0000.mha"))
    (inputs / "corrupt_0000.nii.gz").write_bytes(b"\x1f\x8b\x08 this is not a gzip stream")
    write_image(np.zeros((1, 32, 32), np.int16), ImageGeometry((32, 32, 1), (1, 1, 1), (0, 0, 0),
                                                               (1, 0, 0, 0, 1, 0, 0, 0, 1)),
                str(inputs / "flat_0000.nii.gz"))
    outputs = tmp_path / "outputs"
    result = run_module("inference", "--input_path", str(inputs), "--output_path", str(outputs),
                        "--saved_models_folder", trained["saved_models"], "--model", "flare21")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "2 ok, 0 skipped (already done), 2 failed" in result.stdout
    assert f"{inputs / 'corrupt_0000.nii.gz'}: compressed data is corrupt" in result.stdout
    assert f"{inputs / 'flat_0000.nii.gz'}: is a 2D image" in result.stdout
    assert sorted(os.listdir(outputs)) == ["rotated.nii.gz", "summary.csv", "validation_000.nii.gz"]
    for name, source in (("validation_000", case.image_path), ("rotated", str(inputs / "rotated_0000.mha"))):
        labels = assert_same_geometry_per_nibabel(str(outputs / f"{name}.nii.gz"), source)
        assert set(np.unique(labels)) <= {0, 1, 2, 3, 4}
    again = run_module("inference", "--input_path", str(inputs / "validation_000_0000.nii.gz"), "--output_path",
                       str(outputs), "--saved_models_folder", trained["saved_models"])
    assert again.returncode == 0 and "0 ok, 1 skipped" in again.stdout


def test_entrypoint_on_real_dicom_series_writes_its_geometry(trained, shared_dicom_series, tmp_path):
    result = run_module("inference", "--input_path", shared_dicom_series, "--output_path", str(tmp_path),
                        "--saved_models_folder", trained["saved_models"], "--dicom_seg")
    check(result)
    output = nib.load(str(tmp_path / "ct_dicom_series.nii.gz"))
    _, geometry = read_image(shared_dicom_series)
    assert output.shape == (512, 512, 20)
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ output.affine
    np.testing.assert_allclose(affine[:3, 3], geometry.origin, atol=1e-3)
    np.testing.assert_allclose(np.linalg.norm(affine[:3, :3], axis=0), geometry.spacing, rtol=1e-5)
    labels = np.transpose(np.asarray(output.dataobj), (2, 1, 0))
    names = {1: "liver", 2: "kidney", 3: "spleen", 4: "pancreas"}
    if labels.any():
        check_seg_against_series(str(tmp_path / "ct_dicom_series.seg.dcm"), dicom_series_files(shared_dicom_series),
                                 labels, [names[v] for v in np.unique(labels) if v])
    else:
        assert "no DICOM SEG: nothing segmented" in result.stdout


def test_entrypoint_fails_clearly_on_missing_models_and_empty_folder(trained, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_module("inference", "--input_path", str(empty), "--output_path", str(tmp_path / "o"),
                        "--saved_models_folder", trained["saved_models"])
    assert result.returncode == 2 and f"{empty}: input folder is empty" in result.stderr
    result = run_module("inference", "--input_path", trained["data"] + "/ValidationImg", "--output_path",
                        str(tmp_path / "o"), "--saved_models_folder", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "nowhere: saved models folder not found" in result.stderr
    broken = tmp_path / "broken"
    shutil.copytree(trained["saved_models"], broken)
    shutil.rmtree(broken / "flare21" / "tf_utils_module")
    result = run_module("inference", "--input_path", trained["data"] + "/ValidationImg", "--output_path",
                        str(tmp_path / "o"), "--saved_models_folder", str(broken))
    assert result.returncode == 2 and "tf_utils_module: SavedModel not found" in result.stderr


def test_evaluate_and_predict_sh(trained, tmp_path):
    env = dict(os.environ, INPUT_DIR=trained["data"] + "/ValidationImg", OUTPUT_DIR=str(tmp_path / "out"),
               SAVED_MODELS=trained["saved_models"], PYTHON=sys.executable)
    result = subprocess.run([os.path.join(REPO, "predict.sh")], env=env, capture_output=True, text=True,
                            encoding="utf-8", errors="replace", timeout=600)
    check(result)
    assert os.path.exists(tmp_path / "out" / "validation_000.nii.gz")
    result = run_module("inference.evaluate", "--prediction_path", str(tmp_path / "out"), "--reference_path",
                        trained["data"] + "/ValidationMask")
    check(result)
    assert "1 cases evaluated" in result.stdout and "pancreas" in result.stdout
    metrics = json.load(open(tmp_path / "out" / "metrics.json"))
    assert set(metrics["cases"]["validation_000"]) == {"liver", "kidney", "spleen", "pancreas"}
    rows = list(csv.DictReader(open(tmp_path / "out" / "metrics.csv")))
    assert len(rows) == 4 and set(rows[0]) == {"case", "label", "dice", "nsd", "hd95_mm"}


def test_mixed_precision_training_exports_float32_graph_that_runs_on_cpu(trained, tmp_path):
    import tensorflow as tf

    folder = str(tmp_path / "localization_fp16")
    check(run_module("localization.train", "--base_dataset_folder", trained["data"], "--base_output_folder", folder,
                     "--cv", "0", "--max_iter", "2", "--test_iter", "2", "--mixed_precision", *LOCALIZATION))
    exported = str(tmp_path / "exported")
    check(run_module("localization.export", "--load_model_base", folder, "--model_set_folder", exported))
    model = tf.saved_model.load(os.path.join(exported, "localization"))
    serve = model.signatures["serving_default"]
    dtypes = {op.get_attr("T") for op in serve.graph.get_operations() if "T" in op.node_def.attr}
    for function in serve.graph._functions.values():
        dtypes |= {node.attr["T"].type for node in function.definition.node_def if "T" in node.attr}
    found = {getattr(d, "as_datatype_enum", d) for d in dtypes}
    assert tf.float32.as_datatype_enum in found
    assert not found & {tf.float16.as_datatype_enum, tf.bfloat16.as_datatype_enum}, "exports are float32 graphs"
    with tf.device("/CPU:0"):
        out = serve(image=tf.zeros([1, 16, 16, 16, 1]))["probabilities"]
    assert out.dtype == tf.float32 and out.shape == (1, 16, 16, 16, 2)


def test_exported_model_computes_what_the_restored_ema_model_computes(trained):
    import tensorflow as tf

    from networks.export import restore_model
    from scn.config import SCNConfig
    from scn.model import build_scn_model

    _, model = restore_model(SCNConfig, build_scn_model, trained["scn"], None)
    image = tf.random.stateless_normal([1, 16, 16, 24, 1], [3, 4])
    expected = model(image, training=False)["prediction"].numpy()
    exported = tf.saved_model.load(os.path.join(trained["set"], "segmentation"))
    actual = exported.signatures["serving_default"](image=image)["probabilities"].numpy()
    np.testing.assert_allclose(actual, expected, atol=1e-5)
