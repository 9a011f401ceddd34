"""A tiny LIDC phantom set, its cache and a nodule model set trained on it through the real commands."""
import os

import pytest

from preprocessing.synthetic import lidc
from tests.conftest import run_module

PHANTOMS = lidc.LidcPhantomConfig(in_plane_size=128, field_of_view_mm=(180.0, 200.0), axial_extent_mm=(70.0, 80.0),
                                  nodule_diameter_mm=(5.0, 12.0), nodule_free_probability=0.0, max_nodules=3)
DETECTOR_FLAGS = ("--epochs", "1", "--batch_size", "2", "--crop_size", "48,48,48", "--filters_pre", "4",
                  "--filters_forward", "4,8,8,8", "--blocks_forward", "1,1,1,1", "--filters_backward", "8,8",
                  "--blocks_backward", "1,1", "--head_filters", "8", "--test_side", "64", "--test_margin", "16",
                  "--bound_size", "6")
CROP_FLAGS = ("--epochs", "1", "--batch_size", "2", "--kernel_sizes", "3,3,3", "--strides", "1x1x1,2x2x2,2x2x2",
              "--filters", "4,8,8")


@pytest.fixture(scope="session")
def lidc_folder(tmp_path_factory) -> str:
    folder = str(tmp_path_factory.mktemp("lidc"))
    lidc.write_dataset(folder, 4, seed=21, config=PHANTOMS, progress=False)
    return folder


@pytest.fixture(scope="session")
def nodule_model_set(lidc_folder, tmp_path_factory) -> str:
    """saved_models-style folder holding `lidc_nodules`, trained for one epoch of tiny networks."""
    work = tmp_path_factory.mktemp("nodule_models")
    cache = str(work / "cache")
    for module, args in (("nodules.prepare", ("--dataset_folder", lidc_folder, "--cache_folder", cache,
                                              "--num_folds", "2")),
                         ("nodules.train_detector", ("--cache_folder", cache, "--base_output_folder",
                                                     str(work / "detector"), "--fold", "1", *DETECTOR_FLAGS)),
                         ("nodules.train_crop_model", ("--cache_folder", cache, "--base_output_folder",
                                                       str(work / "crop"), "--fold", "1", *CROP_FLAGS)),
                         ("nodules.export", ("--load_detector", str(work / "detector"), "--load_crop_model",
                                             str(work / "crop"), "--model_set_folder",
                                             str(work / "sets" / "lidc_nodules"), "--trained_on", "test phantoms"))):
        result = run_module(module, *args)
        assert result.returncode == 0, f"{module}: {result.stderr[-3000:]}"
    return str(work / "sets")
