"""Detector volumes and the training cache from LIDC phantoms: lungs found with their pleural nodules, nodules
boxed where they are, a broken series reported in one line."""
import json
import os

import numpy as np
import pytest

from nodules.cache import read_index, read_scan
from nodules.config import DetectorConfig
from nodules.lung_mask import dilated, lung_mask
from nodules.preprocess import detector_volume, windowed
from preprocessing.geometry import resample_to_spacing
from preprocessing.synthetic import lidc
from tests.conftest import run_module

CONFIG = lidc.LidcPhantomConfig(in_plane_size=160, field_of_view_mm=(200.0, 220.0), axial_extent_mm=(90.0, 110.0),
                                nodule_diameter_mm=(5.0, 12.0), nodule_free_probability=0.0,
                                ground_glass_probability=0.0, juxtapleural_probability=0.5, max_nodules=4)


@pytest.mark.parametrize("seed", [11, 12])
def test_detector_region_holds_every_nodule_and_the_mask_no_outside_air(seed):
    scan = lidc.phantom(np.random.default_rng(seed), CONFIG)
    hu, grid = resample_to_spacing(scan.hu.astype(np.float32), scan.geometry, (1.0, 1.0, 1.0), default_value=-1024)
    mask = lung_mask(hu, (1.0, 1.0, 1.0))
    region = dilated(mask)
    for nodule in scan.nodules:
        centre = tuple(np.round(grid.physical_to_index(nodule.centre_mm)).astype(int)[::-1])
        assert region[centre], f"nodule of {nodule.diameter_mm:.1f} mm (pleural: {nodule.juxtapleural}) outside"
    assert not mask[:, 0, :].any() and not mask[:, :, 0].any()  # air outside the body is not lung
    assert (hu[mask] < -300).mean() > 0.8


def test_dilation_is_a_six_neighbourhood_diamond():
    mask = np.zeros((21, 21, 21), bool)
    mask[10, 10, 10] = True
    grown = dilated(mask, 3)
    z, y, x = np.argwhere(grown).T
    assert grown.sum() == 63 and (np.abs(z - 10) + np.abs(y - 10) + np.abs(x - 10)).max() == 3  # |L1| <= 3: 63


def test_window_maps_the_detector_range_onto_bytes():
    np.testing.assert_array_equal(windowed(np.array([-2000.0, -1200.0, -300.0, 600.0, 900.0]), (-1200.0, 600.0)),
                                  [0, 0, 127, 255, 255])


def test_detector_volume_pads_outside_the_lungs_and_keeps_nodules():
    scan = lidc.phantom(np.random.default_rng(13), CONFIG)
    volume = detector_volume(scan.hu, scan.geometry, DetectorConfig())
    assert volume.lungs_found and volume.image.dtype == np.uint8 and volume.geometry.spacing == (1.0, 1.0, 1.0)
    assert volume.image[0, 0, 0] == 170 and volume.image.shape[2] < scan.hu.shape[2] * scan.geometry.spacing[0]
    for nodule in scan.nodules:
        centre = tuple(np.round(volume.geometry.physical_to_index(nodule.centre_mm)).astype(int)[::-1])
        assert volume.image[centre] > 150  # solid nodule (0-80 HU -> 170-181), not lung (about 50)


def test_prepare_caches_boxes_and_patient_folds_and_reports_a_broken_series(tmp_path):
    folders = lidc.write_dataset(str(tmp_path / "LIDC"), 4, seed=14, config=CONFIG, progress=False)
    os.remove(os.path.join(folders[3], "1-010.dcm"))
    result = run_module("nodules.prepare", "--dataset_folder", str(tmp_path / "LIDC"), "--cache_folder",
                        str(tmp_path / "cache"), "--num_folds", "3")
    assert result.returncode == 1, result.stderr
    assert "LIDC-IDRI-0004: " in result.stderr and "a slice is missing" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == "1 series failed: LIDC-IDRI-0004"
    index, cv_folder = read_index(str(tmp_path / "cache"))
    assert cv_folder == str(tmp_path / "LIDC" / "setup" / "cv")
    assert sorted(index) == ["LIDC-IDRI-0001", "LIDC-IDRI-0002", "LIDC-IDRI-0003"]
    for case_id, entry in index.items():
        cached = read_scan(str(tmp_path / "cache"), case_id)
        assert len(cached.boxes) == entry["nodules"] == len(cached.malignancy)
        assert np.all(cached.boxes[:, :3] >= 0) and np.all(cached.boxes[:, :3] < cached.image.shape)
        assert np.all(cached.boxes[:, 3] >= 3.0)
        assert cached.crops.shape == cached.masks.shape == (len(cached.boxes), 80, 80, 80)
        centre = cached.masks[:, 39:41, 39:41, 39:41].reshape(len(cached.boxes), -1).mean(axis=1)
        assert np.all(centre > 0.5)  # each consensus mask lies at the centre of its crop
        assert np.all(cached.crops[:, 40, 40, 40] > -300)  # solid nodule there, not lung
    cv = tmp_path / "LIDC" / "setup" / "cv"
    tests = [open(cv / str(f) / "test.txt").read().split() for f in (1, 2, 3)]
    assert sorted(sum(tests, [])) == [f"LIDC-IDRI-000{i}" for i in range(1, 5)]
    assert json.loads(json.dumps(index))  # plain JSON


def test_prepare_luna16_caches_annotation_boxes_and_subset_folds(tmp_path):
    lidc.write_luna16_dataset(str(tmp_path / "LUNA16"), 3, seed=15, config=CONFIG, progress=False)
    result = run_module("nodules.prepare", "--dataset_folder", str(tmp_path / "LUNA16"), "--layout", "luna16",
                        "--cache_folder", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split(",") for line in (tmp_path / "LUNA16" / "annotations.csv").read_text().split()[1:]]
    index, _ = read_index(str(tmp_path / "cache"))
    assert len(index) == 3 and sum(e["nodules"] for e in index.values()) == len(rows) > 0
    for uid, entry in index.items():
        cached = read_scan(str(tmp_path / "cache"), uid)
        expected = np.array([[float(v) for v in row[1:]] for row in rows if row[0] == uid]).reshape(-1, 4)
        centres = cached.geometry.index_to_physical(cached.boxes[:, 2::-1].astype(np.float64)).reshape(-1, 3)
        np.testing.assert_allclose(centres, expected[:, :3], atol=1e-3)
        np.testing.assert_allclose(cached.boxes[:, 3], expected[:, 3], rtol=1e-5)  # 1 mm voxels
        assert len(cached.crops) == 0 and np.all(cached.malignancy == -1)
    cv = tmp_path / "LUNA16" / "setup" / "cv"
    for fold in (1, 2, 3):
        subset = sorted(p.name[:-4] for p in (tmp_path / "LUNA16" / f"subset{fold - 1}").glob("*.mhd"))
        assert (cv / str(fold) / "test.txt").read_text().split() == subset
