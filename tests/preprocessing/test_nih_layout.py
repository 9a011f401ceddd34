"""The NIH Pancreas-CT layout: the generator writes it as TCIA ships it (DICOM series with rescaled stored
values and position tags, TCIA label files), the case list reads it unchanged, and the original RSTN folds."""
import dataclasses
import os

import numpy as np
import pytest
import SimpleITK as sitk

from preprocessing.cases import nih_pancreas_cases, read_label
from preprocessing.cross_validation import contiguous_blocks, load_fold, write_folds
from preprocessing.image_io import read_image
from preprocessing.synthetic import flare21, nih_pancreas
from tests.conftest import NIH_TEST_CONFIG_KWARGS


def test_generator_writes_the_tcia_layout(nih_folder):
    assert sorted(os.listdir(nih_folder)) == ["Pancreas-CT", "TCIA_pancreas_labels-02-05-2017"]
    assert sorted(os.listdir(os.path.join(nih_folder, "Pancreas-CT"))) == [f"PANCREAS_{i:04d}" for i in (1, 2, 3)]
    assert sorted(os.listdir(os.path.join(nih_folder, "TCIA_pancreas_labels-02-05-2017"))) == [
        f"label{i:04d}.nii.gz" for i in (1, 2, 3)]
    case = os.path.join(nih_folder, "Pancreas-CT", "PANCREAS_0002")
    (study,) = os.listdir(case)
    (series,) = os.listdir(os.path.join(case, study))
    assert study.startswith("11-24-2015-PANCREAS0002-Pancreas-") and series.startswith("Pancreas-")
    files = sorted(os.listdir(os.path.join(case, study, series)))
    assert files[0] == "1-001.dcm"
    reader = sitk.ImageFileReader()
    reader.SetFileName(os.path.join(case, study, series, files[0]))
    reader.ReadImageInformation()
    assert reader.GetMetaData("0028|1052").strip() == "-1024" and reader.GetMetaData("0020|0013").strip() == "1"
    assert reader.GetMetaData("0010|0020").strip() == "PANCREAS_0002"


def test_cases_read_back_the_phantom_in_hu_with_the_label_on_its_grid(nih_folder, tmp_path):
    cases = nih_pancreas_cases(nih_folder)
    assert [c.case_id for c in cases] == ["PANCREAS_0001", "PANCREAS_0002", "PANCREAS_0003"]
    config = dataclasses.replace(nih_pancreas.nih_config(), **NIH_TEST_CONFIG_KWARGS)
    expected, expected_label, expected_geometry = flare21.phantom(np.random.default_rng(11), config)
    image, geometry = read_image(cases[0].image_path, ndim=3)
    label, label_geometry = read_label(cases[0], ndim=3)
    np.testing.assert_array_equal(image, expected)
    np.testing.assert_allclose(geometry.spacing, expected_geometry.spacing, atol=1e-5)
    np.testing.assert_allclose(geometry.origin, expected_geometry.origin, atol=1e-4)
    np.testing.assert_allclose(label_geometry.origin, geometry.origin, atol=1e-4)
    np.testing.assert_array_equal(label, expected_label == flare21.PANCREAS)
    assert set(np.unique(label)) == {0, 1} and 0 < label.mean() < 0.02, "a small organ"


def test_shuffled_slice_file_names_read_in_position_order(nih_folder, tmp_path):
    case = nih_pancreas_cases(nih_folder)[1]
    series = tmp_path / "shuffled"
    series.mkdir()
    names = sorted(os.listdir(case.image_path))
    for name, new in zip(names, np.random.default_rng(0).permutation(len(names))):
        os.symlink(os.path.join(case.image_path, name), series / f"IM{new:05d}")
    np.testing.assert_array_equal(read_image(str(series), ndim=3)[0], read_image(case.image_path, ndim=3)[0])


def test_missing_label_or_layout_is_named(nih_folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="Pancreas-CT or DOI"):
        nih_pancreas_cases(str(tmp_path))
    (tmp_path / "DOI" / "PANCREAS_0007").mkdir(parents=True)
    (tmp_path / "TCIA_pancreas_labels-02-05-2017").mkdir()
    with pytest.raises(FileNotFoundError, match="label0007.nii.gz"):
        nih_pancreas_cases(str(tmp_path))


def test_the_original_four_folds_of_the_82_nih_cases():
    blocks = contiguous_blocks(82, 4)
    assert [(b.start + 1, b.stop) for b in blocks] == [(1, 20), (21, 40), (41, 61), (62, 82)]
    assert [len(b) for b in contiguous_blocks(80, 4)] == [20] * 4


def test_contiguous_folds_are_written_in_case_order(tmp_path):
    ids = [f"PANCREAS_{i:04d}" for i in range(1, 83)]
    write_folds(ids, str(tmp_path), num_folds=4, contiguous=True)
    train, test = load_fold(str(tmp_path), 3)
    assert test == ids[40:61] and len(train) == 61 and not set(train) & set(test)
    assert load_fold(str(tmp_path), 0) == (ids, [])


def test_nih_phantoms_have_an_enhanced_pancreas_in_fat_and_flare21_keeps_its_plain_one():
    rng = np.random.default_rng(3)
    image, label, _ = flare21.phantom(rng, dataclasses.replace(nih_pancreas.nih_config(), in_plane_size=128))
    pancreas = label == flare21.PANCREAS
    assert 80 < image[pancreas].mean() < 140
    grown = sitk.GetArrayFromImage(sitk.BinaryDilate(sitk.GetImageFromArray(pancreas.astype(np.uint8)), [1, 1, 1]))
    rim = (grown > 0) & (label == 0)
    assert image[rim].mean() < -20, "fat around the pancreas (smoothed, with noise)"
    image, label, _ = flare21.phantom(np.random.default_rng(3), flare21.Flare21PhantomConfig(in_plane_size=128))
    assert 15 < image[label == flare21.PANCREAS].mean() < 60, "FLARE21 phantoms unchanged: plain soft tissue"
