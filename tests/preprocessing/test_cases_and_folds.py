"""Dataset layouts (synthetic generators write them exactly; case lists read them) and CV folds."""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from preprocessing.cases import flare21_cases, generic_cases, montgomery_cases, read_label
from preprocessing.cross_validation import ensure_folds, load_fold, write_folds
from preprocessing.image_io import read_image, write_image
from preprocessing.image_geometry import ImageGeometry
from tests.conftest import run_module


def test_flare21_generator_writes_exact_layout(flare21_folder):
    assert sorted(os.listdir(flare21_folder)) == ["TrainingImg", "TrainingMask", "ValidationImg", "ValidationMask"]
    assert sorted(os.listdir(os.path.join(flare21_folder, "TrainingImg"))) == [
        f"train_{i:03d}_0000.nii.gz" for i in range(5)]
    masks = sorted(os.listdir(os.path.join(flare21_folder, "TrainingMask")))
    assert masks == [f"train_{i:03d}.nii.gz" for i in range(5)]
    assert os.listdir(os.path.join(flare21_folder, "ValidationImg")) == ["validation_000_0000.nii.gz"]


def test_flare21_phantoms_are_ct_like_with_all_organs(flare21_folder):
    cases = flare21_cases(flare21_folder)
    assert [c.case_id for c in cases] == [f"train_{i:03d}" for i in range(5)]
    image, geometry = read_image(cases[0].image_path, ndim=3)
    label, label_geometry = read_label(cases[0], ndim=3)
    assert image.dtype == np.int16 and label.dtype == np.uint8
    assert label_geometry == geometry
    assert set(np.unique(label)) == {0, 1, 2, 3, 4}
    assert geometry.spacing[2] > geometry.spacing[0], "slices thicker than in-plane spacing"
    assert image.min() <= -900 and 40 < image[label == 1].mean() < 100
    assert image[label == 2].mean() > image[label == 1].mean(), "contrast-enhanced kidneys are brightest"
    sizes = {read_image(c.image_path)[0].shape for c in cases}
    assert len(sizes) > 1, "field of view varies between cases"


def test_flare21_validation_cases(flare21_folder):
    cases = flare21_cases(flare21_folder, "validation")
    assert [c.case_id for c in cases] == ["validation_000"] and cases[0].label_paths


def test_montgomery_generator_writes_exact_layout_and_masks_merge(montgomery_folder):
    names = sorted(os.listdir(os.path.join(montgomery_folder, "CXR_png")))
    assert len(names) == 4 and all(n.startswith("MCUCXR_") and n[-6:] in ("_0.png", "_1.png") for n in names)
    for side in ("leftMask", "rightMask"):
        assert sorted(os.listdir(os.path.join(montgomery_folder, "ManualMask", side))) == names
    case = montgomery_cases(montgomery_folder)[0]
    image, _ = read_image(case.image_path, ndim=2)
    assert image.dtype == np.uint8
    separate, _ = read_label(case, ndim=2, separate_labels=True)
    merged, _ = read_label(case, ndim=2, separate_labels=False)
    assert set(np.unique(separate)) == {0, 1, 2} and set(np.unique(merged)) == {0, 1}
    left_columns = np.nonzero(separate == 1)[1].mean()
    right_columns = np.nonzero(separate == 2)[1].mean()
    assert left_columns > right_columns, "the patient's left lung is on the image's right (PA view)"
    assert image[merged == 1].mean() < image[merged == 0].mean(), "lungs are darker than the rest"


def test_generic_layout_pairs_images_and_labels(tmp_path):
    geometry = ImageGeometry((4, 4, 4), (1, 1, 1), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    for case in ("liver_7", "liver_2"):
        write_image(np.zeros((4, 4, 4), np.int16), geometry, str(tmp_path / f"{case}_0000.nii.gz"))
        write_image(np.ones((4, 4, 4), np.uint8), geometry, str(tmp_path / f"{case}.nii.gz"))
    cases = generic_cases(str(tmp_path))
    assert [c.case_id for c in cases] == ["liver_2", "liver_7"]
    assert cases[0].label_paths == (str(tmp_path / "liver_2.nii.gz"),)
    os.remove(tmp_path / "liver_7.nii.gz")
    with pytest.raises(FileNotFoundError, match="liver_7.nii.gz: label map missing"):
        generic_cases(str(tmp_path))


def test_folds_are_disjoint_cover_all_and_reproducible(tmp_path):
    ids = [f"train_{i:03d}" for i in range(11)]
    write_folds(ids, str(tmp_path / "a"), num_folds=4, seed=7)
    write_folds(ids, str(tmp_path / "b"), num_folds=4, seed=7)
    assert load_fold(str(tmp_path / "a"), 0) == (sorted(ids), [])
    tests = []
    for fold in range(1, 5):
        train, test = load_fold(str(tmp_path / "a"), fold)
        assert (train, test) == load_fold(str(tmp_path / "b"), fold)
        assert not set(train) & set(test) and sorted(train + test) == sorted(ids)
        tests += test
    assert sorted(tests) == sorted(ids)
    assert open(tmp_path / "a" / "1" / "test.txt").read().splitlines() == load_fold(str(tmp_path / "a"), 1)[1]


def test_ensure_folds_writes_once_and_rejects_unknown_ids(tmp_path):
    ids = [f"c{i}" for i in range(6)]
    cv = str(tmp_path / "setup" / "cv")
    train, test = ensure_folds(ids, cv, fold=2, num_folds=3)
    assert len(test) == 2 and len(train) == 4
    with pytest.raises(ValueError, match="not in the dataset"):
        ensure_folds(ids[:3], cv, fold=2)


def test_synthetic_cli_writes_layouts(tmp_path):
    for name, extra in (("flare21", ["--in_plane_size", "32", "--num_validation_cases", "1"]),
                        ("montgomery", ["--max_side", "160"])):
        result = run_module("preprocessing.synthetic", name, "--output_folder", str(tmp_path / name),
                            "--num_cases", "2", "--seed", "1", *extra)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "wrote" in result.stdout
    assert len(flare21_cases(str(tmp_path / "flare21"))) == 2
    assert len(montgomery_cases(str(tmp_path / "montgomery"))) == 2
    bad = run_module("preprocessing.synthetic", "kits19", "--output_folder", str(tmp_path))
    assert bad.returncode != 0 and "flare21, montgomery, nih_pancreas" in bad.stderr


def test_workers_writing_the_same_folds_at_once_all_read_complete_folds(tmp_path):
    ids = [f"case_{i:02d}" for i in range(12)]
    for attempt in range(10):
        folder = str(tmp_path / f"cv{attempt}")
        with ThreadPoolExecutor(4) as pool:
            splits = list(pool.map(lambda fold: ensure_folds(ids, folder, fold % 5), range(20)))
        assert all(splits[i] == splits[i % 5] for i in range(20))
        assert sorted(os.listdir(folder)) == ["0", "1", "2", "3", "4"], "no temporary folder left"
