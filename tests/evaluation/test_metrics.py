"""Metrics against hand-computed values on cubes and spheres with known overlap and surface distance."""
import numpy as np
import pytest

from evaluation.metrics import dice, hausdorff_95, label_metrics, normalized_surface_dice
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import write_image


def sphere(radius: float, shape=(64, 64, 64), center=(32, 32, 32)) -> np.ndarray:
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"))
    return np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, center))) <= radius


def test_dice_of_shifted_cubes():
    a = np.zeros((30, 30, 30), bool)
    a[10:20, 10:20, 10:20] = True
    b = np.roll(a, 2, axis=2)
    assert dice(a, b) == pytest.approx(2 * 800 / 2000)
    assert dice(a, a) == 1.0 and dice(a, np.zeros_like(a)) == 0.0 and dice(a & False, a & False) == 1.0


def test_hd95_of_shifted_cube_is_shift_in_mm():
    a = np.zeros((30, 30, 30), bool)
    a[10:20, 10:20, 10:20] = True
    b = np.roll(a, 2, axis=2)
    assert hausdorff_95(a, b, (1.0, 1.0, 1.0)) == pytest.approx(2.0)
    assert hausdorff_95(a, b, (3.0, 2.0, 0.5)) == pytest.approx(1.0)


def test_concentric_spheres_surface_metrics_scale_with_spacing():
    outer, inner = sphere(15), sphere(10)
    assert hausdorff_95(outer, inner, (1, 1, 1)) == pytest.approx(5.0, abs=0.6)
    assert hausdorff_95(outer, inner, (2, 2, 2)) == pytest.approx(10.0, abs=1.2)
    assert normalized_surface_dice(outer, inner, (1, 1, 1), tolerance_mm=1.0) == 0.0
    assert normalized_surface_dice(outer, inner, (1, 1, 1), tolerance_mm=6.0) == 1.0
    assert dice(outer, inner) == pytest.approx(2 * inner.sum() / (outer.sum() + inner.sum()))


def test_nsd_of_one_voxel_shift_depends_on_tolerance():
    a = sphere(12)
    b = np.roll(a, 1, axis=0)
    assert normalized_surface_dice(a, b, (1, 1, 1), 1.0) == 1.0
    assert normalized_surface_dice(a, b, (3, 1, 1), 1.0) < 0.9


def test_label_metrics_and_empty_conventions():
    prediction = np.zeros((20, 20, 20), np.uint8)
    reference = np.zeros_like(prediction)
    reference[5:10, 5:10, 5:10] = 1
    prediction[5:10, 5:10, 5:10] = 1
    prediction[12:15, 12:15, 12:15] = 2
    metrics = label_metrics(prediction, reference, [1, 2, 3], (1, 1, 1))
    assert metrics[1] == {"dice": 1.0, "nsd": 1.0, "hd95": 0.0}
    assert metrics[2]["dice"] == 0.0 and metrics[2]["nsd"] == 0.0 and np.isnan(metrics[2]["hd95"])
    assert metrics[3] == {"dice": 1.0, "nsd": 1.0, "hd95": 0.0}


def test_a_mask_cut_by_the_image_border_has_a_surface_there():
    full = np.ones((4, 5, 6), bool)
    assert normalized_surface_dice(full, full, (1.0, 1.0, 1.0)) == 1.0
    assert hausdorff_95(full, full, (1.0, 1.0, 1.0)) == 0.0
    half = np.zeros((4, 5, 6), bool)
    half[:, :, :3] = True
    assert hausdorff_95(full, half, (1.0, 1.0, 1.0)) == 3.0, "the far border is 3 voxels from the cut face"


def test_evaluate_pairs_nih_label_files_with_their_case_predictions(tmp_path):
    from inference.evaluate import default_labels, evaluate_folders

    geometry = ImageGeometry((6, 5, 4), (0.8, 0.8, 2.0), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    reference = np.zeros((4, 5, 6), np.uint8)
    reference[1:3, 1:4, 1:5] = 1
    prediction = reference.copy()
    prediction[1] = 0
    (tmp_path / "labels").mkdir()
    (tmp_path / "out").mkdir()
    write_image(reference, geometry, str(tmp_path / "labels" / "label0002.nii.gz"))
    write_image(prediction, geometry, str(tmp_path / "out" / "PANCREAS_0002.nii.gz"))
    labels = default_labels(str(tmp_path / "labels"), str(tmp_path / "out"))
    assert labels == {1: "pancreas"}
    results = evaluate_folders(str(tmp_path / "out"), str(tmp_path / "labels"), labels)
    assert list(results["cases"]) == ["PANCREAS_0002"] and results["missing"] == []
    assert results["cases"]["PANCREAS_0002"]["pancreas"]["dice"] == pytest.approx(2 * 12 / (24 + 12))


def test_montgomery_masks_evaluate_each_lung_by_the_patients_side_or_both_lungs(tmp_path):
    from inference.evaluate import default_labels, evaluate_folders

    geometry = ImageGeometry((20, 10), (1.0, 1.0), (0, 0), (1, 0, 0, 1))
    image_left, image_right = np.zeros((10, 20), np.uint8), np.zeros((10, 20), np.uint8)
    image_left[2:8, 2:8] = 255
    image_right[2:8, 12:18] = 255
    for side, mask in (("leftMask", image_right), ("rightMask", image_left)):
        write_image(mask, geometry, str(tmp_path / "ManualMask" / side / "MCUCXR_0001_0.png"))
    sided = np.where(image_left > 0, 1, np.where(image_right > 0, 2, 0)).astype(np.uint8)
    sided[2, 12:18] = 1  # a row of the left lung called right
    write_image(sided, geometry, str(tmp_path / "sided" / "MCUCXR_0001_0.png"))
    labels = default_labels(str(tmp_path / "ManualMask"), str(tmp_path / "sided"))
    assert labels == {1: "right_lung", 2: "left_lung"}
    scores = evaluate_folders(str(tmp_path / "sided"), str(tmp_path / "ManualMask"), labels)["cases"]["MCUCXR_0001_0"]
    assert scores["right_lung"]["dice"] == pytest.approx(2 * 36 / (42 + 36))
    assert scores["left_lung"]["dice"] == pytest.approx(2 * 30 / (30 + 36))
    write_image(((sided > 0) * 255).astype(np.uint8), geometry, str(tmp_path / "binary" / "MCUCXR_0001_0.png"))
    labels = default_labels(str(tmp_path / "ManualMask"), str(tmp_path / "binary"))
    assert labels == {1: "lungs"}
    assert evaluate_folders(str(tmp_path / "binary"), str(tmp_path / "ManualMask"), labels)["cases"][
        "MCUCXR_0001_0"]["lungs"]["dice"] == 1.0
