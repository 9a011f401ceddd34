"""AutoPET phantoms in both layouts: read back by the case reader unchanged, PET in SUV with hot lesions where the
label says, CT on the same grid, realistic spacing, lesion-free cases; missing labels and CTs named."""
import dataclasses
import os

import numpy as np
import pytest

from preprocessing.cases import autopet_cases, read_label
from preprocessing.image_io import read_image
from preprocessing.synthetic import autopet
from tests.conftest import AUTOPET_TEST_CONFIG_KWARGS

CONFIG = autopet.AutoPETPhantomConfig(**AUTOPET_TEST_CONFIG_KWARGS)


def test_nnunet_layout_reads_with_one_or_two_channels(autopet_folder):
    cases = autopet_cases(autopet_folder)
    assert len(cases) == 4 and all(not c.more_channels and len(c.label_paths) == 1 for c in cases)
    assert all(os.path.basename(c.image_path) == f"{c.case_id}_0000.nii.gz" for c in cases)
    two = autopet_cases(autopet_folder, channels=2)
    assert [os.path.basename(c.more_channels[0]) for c in two] == [f"{c.case_id}_0001.nii.gz" for c in cases]
    lesions = 0
    for case in two:
        pet, geometry = read_image(case.image_path)
        ct, ct_geometry = read_image(case.more_channels[0])
        label, _ = read_label(case)
        assert pet.dtype == np.float32 and pet.min() >= 0 and ct.dtype == np.int16 and ct_geometry == geometry
        assert 2.0 <= geometry.spacing[0] <= 2.1 and geometry.spacing[2] == 3.0
        if label.any():
            lesions += 1
            assert np.median(pet[label > 0]) > 2 * np.median(pet[(pet > 0.05) & (label == 0)])
    assert lesions >= 1


def test_studies_layout_and_lesion_free_cases(tmp_path):
    config = dataclasses.replace(CONFIG, lesion_free_probability=1.0)
    autopet.write_dataset(str(tmp_path), 2, 3, config, layout="studies", progress=False)
    cases = autopet_cases(str(tmp_path), channels=2)
    assert len(cases) == 2 and all(c.case_id.startswith("PETCT_") for c in cases)
    assert [os.path.basename(p) for p in (cases[0].image_path, cases[0].more_channels[0], cases[0].label_paths[0])] \
        == ["SUV.nii.gz", "CTres.nii.gz", "SEG.nii.gz"]
    assert all(not read_label(c)[0].any() for c in cases)
    assert len(autopet_cases(os.path.join(str(tmp_path), autopet.STUDIES_FOLDER))) == 2


def test_missing_label_or_ct_is_named(tmp_path):
    autopet.write_dataset(str(tmp_path), 1, 0, CONFIG, progress=False)
    case = autopet_cases(str(tmp_path))[0]
    os.remove(case.image_path.replace("_0000.", "_0001."))
    with pytest.raises(FileNotFoundError, match=f"{case.case_id}_0001.nii.gz: CT missing"):
        autopet_cases(str(tmp_path), channels=2)
    os.remove(case.label_paths[0])
    with pytest.raises(FileNotFoundError, match="label map missing"):
        autopet_cases(str(tmp_path))
    assert autopet_cases(str(tmp_path), require_labels=False)[0].label_paths == ()


def test_lesion_counts_follow_the_configured_log_normal_with_lesion_free_cases():
    rng = np.random.default_rng(0)
    config = autopet.AutoPETPhantomConfig()
    counts = np.array([autopet.lesion_count(rng, config) for _ in range(4000)])
    assert abs((counts == 0).mean() - config.lesion_free_probability) < 0.03
    positive = counts[counts > 0]
    assert positive.min() >= 1 and positive.max() <= config.max_lesions
    assert abs(np.median(positive) - config.lesions_median) <= 1


def test_lesion_volumes_follow_the_configured_log_normal_and_the_cap_scales_with_the_body():
    rng = np.random.default_rng(1)
    config = autopet.AutoPETPhantomConfig(max_lesion_radius_mm=1000.0)
    volumes_ml = np.array([4 / 3 * np.pi * np.prod(autopet.lesion_radii(rng, config)) / 1000 for _ in range(4000)])
    assert abs(np.median(volumes_ml) / config.lesion_volume_median_ml - 1) < 0.1
    assert abs(np.std(np.log(volumes_ml)) - config.lesion_volume_log_sd) < 0.1
    small_body = autopet.AutoPETPhantomConfig(body_scale=0.5)
    radii = np.array([autopet.lesion_radii(rng, small_body) for _ in range(4000)])
    assert radii.max() == pytest.approx(small_body.max_lesion_radius_mm * 0.5)
