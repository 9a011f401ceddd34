"""The RSTN training cache: slice statistics per plane on a hand-made volume, the original's slice selection on
hand values, and `rstn.prepare` on the NIH layout (arrays in canonical orientation, lists, the original's folds,
a label on another grid reported in one line while the other cases are cached)."""
import json
import os
import shutil

import numpy as np
import pytest

from preprocessing.cases import nih_pancreas_cases, read_label
from preprocessing.cross_validation import load_fold
from preprocessing.image_io import read_image, write_image
from rstn.cache import active_slices, read_slices, slice_statistics
from tests.conftest import run_module


def test_slice_statistics_give_area_and_box_per_plane():
    target = np.zeros((4, 6, 8), bool)
    target[1:3, 2:5, 3:7] = True
    image = np.full((4, 6, 8), 500, np.int16)
    z = slice_statistics(image, target, "Z", (-100.0, 240.0))
    assert z[:, 1].tolist() == [0, 12, 12, 0]
    assert z[1, 2:6].tolist() == [2, 4, 3, 6] and z[0, 2:6].tolist() == [-1, -1, -1, -1]
    assert z[0, 6] == 240.0, "mean of the slice clipped to the window"
    x = slice_statistics(image, target, "X", (-100.0, 240.0))
    assert x.shape[0] == 6 and x[2, 1] == 8 and x[2, 2:6].tolist() == [3, 6, 1, 2], "X images are [x, z]"
    y = slice_statistics(image, target, "Y", (-100.0, 240.0))
    assert y.shape[0] == 8 and y[3, 1] == 6 and y[3, 2:6].tolist() == [2, 4, 1, 2], "Y images are [y, z]"


def test_active_slices_drop_the_smallest_two_percent_and_all_empty_ones():
    pixels = np.array([0, 5, 10, 3, 0, 8])
    # 4 non-empty slices: floor(4 x 0.98) = 3 largest kept, down to the area 5.
    assert active_slices(pixels, 0.98).tolist() == [False, True, True, False, False, True]
    assert active_slices(pixels, 6).tolist() == [False, False, True, False, False, True]
    assert not active_slices(np.zeros(3, int), 0.98).any()


@pytest.fixture(scope="module")
def broken_copy(nih_folder, tmp_path_factory):
    """The NIH phantoms with a truncated slice file in case 1 and case 2's label moved by 5 mm (another grid than
    its image)."""
    folder = tmp_path_factory.mktemp("nih_copy")
    shutil.copytree(os.path.join(nih_folder, "Pancreas-CT"), folder / "Pancreas-CT")
    series = nih_pancreas_cases(nih_folder)[0].image_path
    damaged = os.path.join(str(folder), os.path.relpath(series, nih_folder), sorted(os.listdir(series))[3])
    os.truncate(damaged, os.path.getsize(damaged) // 2)
    labels = folder / "TCIA_pancreas_labels-02-05-2017"
    shutil.copytree(os.path.join(nih_folder, "TCIA_pancreas_labels-02-05-2017"), labels)
    label, geometry = read_image(str(labels / "label0002.nii.gz"))
    moved = type(geometry)(geometry.size, geometry.spacing, tuple(o + 5.0 for o in geometry.origin),
                           geometry.direction)
    write_image(label, moved, str(labels / "label0002.nii.gz"))
    return str(folder)


def test_prepare_caches_the_cases_and_reports_a_damaged_slice_and_a_label_on_another_grid(broken_copy, tmp_path):
    cache = str(tmp_path / "cache")
    result = run_module("rstn.prepare", "--dataset_folder", broken_copy, "--cache_folder", cache, "--num_folds", "3")
    assert result.returncode != 0 and "2 case(s) failed: PANCREAS_0001, PANCREAS_0002" in result.stderr
    errors = [line for line in result.stderr.splitlines() if "label0002.nii.gz" in line]
    assert len(errors) == 1 and "differs from its image" in errors[0]
    errors = [line for line in result.stderr.splitlines() if "PANCREAS_0001" in line and ".dcm" in line]
    assert len(errors) == 1 and "DICOM file cannot be read (truncated or damaged)" in errors[0]
    assert os.listdir(os.path.join(cache, "images")) == ["PANCREAS_0003.npy"]
    case = nih_pancreas_cases(broken_copy)[2]
    image, _ = read_image(case.image_path, ndim=3)
    label, _ = read_label(case, ndim=3)
    np.testing.assert_array_equal(np.load(os.path.join(cache, "images", "PANCREAS_0003.npy")), image)
    slices = read_slices(cache, "Z")
    rows = slices["case_id"] == "PANCREAS_0003"
    np.testing.assert_array_equal(slices["pixels"][rows], label.sum(axis=(1, 2)))
    assert json.load(open(os.path.join(cache, "cases.json")))["cases"]["PANCREAS_0003"]["shape"] == list(image.shape)
    cv = os.path.join(broken_copy, "setup", "cv")
    assert [load_fold(cv, fold)[1] for fold in (1, 2, 3)] == [["PANCREAS_0001"], ["PANCREAS_0002"], ["PANCREAS_0003"]]
    assert not [name for name in os.listdir(cache) if name.startswith(".")], "no temporary files left"
