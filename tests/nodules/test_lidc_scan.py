"""LIDC scans read from the synthetic TCIA layout: nodules found where the phantom put them, annotation files
matched to their series, bad folders refused with one line."""
import glob
import os

import numpy as np
import pydicom
import pytest

from evaluation.metrics import dice
from nodules.lidc_scan import read_lidc_scan
from nodules.lidc_xml import AnnotationError, read_lidc_xml
from preprocessing.image_io import ImageReadError
from preprocessing.synthetic import lidc

SMALL = lidc.LidcPhantomConfig(in_plane_size=128, field_of_view_mm=(150.0, 170.0), axial_extent_mm=(60.0, 80.0),
                               nodule_diameter_mm=(3.5, 14.0), nodule_free_probability=0.0, max_nodules=3)


def _write(tmp_path, seed: int, config: lidc.LidcPhantomConfig = SMALL) -> tuple[str, lidc.LidcPhantom]:
    rng = np.random.default_rng(seed)
    scan = lidc.phantom(rng, config)
    folder = str(tmp_path / f"scan{seed}")
    lidc.write_scan(folder, scan, "LIDC-IDRI-0001", f"7.{seed}", rng)
    return folder, scan


def _full(image_shape, box) -> np.ndarray:
    full = np.zeros(image_shape, bool)
    full[tuple(slice(a, b) for a, b in zip(box.start, box.stop))] = box.mask
    return full


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_phantom_nodule_is_read_back_at_its_place(tmp_path, seed):
    folder, scan = _write(tmp_path, seed)
    image, geometry, nodules = read_lidc_scan(folder)
    assert image.shape == scan.hu.shape and np.array_equal(image, scan.hu)
    for truth in scan.nodules:
        distances = [np.linalg.norm(np.subtract(n.centre_mm, truth.centre_mm)) for n in nodules]
        found = nodules[int(np.argmin(distances))]
        assert min(distances) < 2.0
        assert 1 <= len(found.readings) <= 4
        if truth.diameter_mm >= 6.0:
            assert dice(_full(image.shape, found.consensus)[truth.box], truth.mask) > 0.5
            assert found.diameter_mm == pytest.approx(truth.diameter_mm, rel=0.4)


def test_layout_and_outline_slices_match_the_dicom_files(tmp_path):
    folders = lidc.write_dataset(str(tmp_path), 1, seed=4, config=SMALL, progress=False)
    parts = os.path.relpath(folders[0], tmp_path).split(os.sep)
    assert parts[:2] == ["LIDC-IDRI", "LIDC-IDRI-0001"] and parts[2].startswith("01-01-2000-NA-NA-")
    assert ".000000-NA-" in parts[3]
    files = sorted(glob.glob(os.path.join(folders[0], "*.dcm")))
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    z_of = {str(h.SOPInstanceUID): float(h.ImagePositionPatient[2]) for h in headers}
    reading = read_lidc_xml(glob.glob(os.path.join(folders[0], "*.xml"))[0])
    assert reading.series_uid == str(headers[0].SeriesInstanceUID)
    outlines = [o for n in reading.nodules for o in n.outlines]
    assert outlines and all(o.z_mm == pytest.approx(z_of[o.sop_uid], abs=1e-4) for o in outlines)
    # the study reads the same whether given the patient folder or the series folder
    assert len(read_lidc_scan(os.path.join(tmp_path, "LIDC-IDRI", "LIDC-IDRI-0001"))[2]) == \
        len(read_lidc_scan(folders[0])[2])


def test_cavity_is_a_hole_in_the_consensus(tmp_path):
    config = lidc.LidcPhantomConfig(**{**SMALL.__dict__, "nodule_diameter_mm": (11.0, 14.0),
                                       "cavity_probability": 1.0, "ground_glass_probability": 0.0,
                                       "max_nodules": 1})
    folder, scan = _write(tmp_path, 5, config)
    truth = scan.nodules[0]
    assert truth.cavity.any()
    _, geometry, nodules = read_lidc_scan(folder)
    assert any(not o.inclusion for n in nodules for r in n.readings for o in r.outlines)
    consensus = _full(geometry.shape, nodules[0].consensus)[truth.box]
    assert consensus[truth.cavity].mean() < 0.2 and consensus[truth.mask & ~truth.cavity].mean() > 0.6


def test_scan_without_nodules_reads_empty(tmp_path):
    config = lidc.LidcPhantomConfig(**{**SMALL.__dict__, "nodule_free_probability": 1.0})
    folder, scan = _write(tmp_path, 6, config)
    assert scan.nodules == () and read_lidc_scan(folder)[2] == []


def test_annotation_of_another_series_is_one_line_error(tmp_path):
    folder, _ = _write(tmp_path, 7)
    other, _ = _write(tmp_path, 8)
    for path in glob.glob(os.path.join(folder, "*.xml")):
        os.remove(path)
    xml = glob.glob(os.path.join(other, "*.xml"))[0]
    moved = os.path.join(folder, os.path.basename(xml))
    os.replace(xml, moved)
    with pytest.raises(AnnotationError, match=rf"^{moved}: annotates series \S+, not this folder's series \S+$"):
        read_lidc_scan(folder)


def test_series_with_a_missing_slice_is_one_line_error(tmp_path):
    folder, _ = _write(tmp_path, 9)
    os.remove(os.path.join(folder, "1-010.dcm"))
    with pytest.raises(ImageReadError, match="a slice is missing"):
        read_lidc_scan(folder)
