"""The LUNA16 layout: phantoms written in it, its CSV files read unchanged, a CAD result evaluated as the official
script does (hand-built results), bad files refused in one line."""
import csv
import os

import numpy as np
import pytest

from nodules import luna16
from preprocessing.image_io import read_image
from preprocessing.synthetic import lidc
from tests.conftest import run_module
from tests.nodules.conftest import PHANTOMS


@pytest.fixture(scope="module")
def luna_folder(tmp_path_factory) -> str:
    folder = str(tmp_path_factory.mktemp("luna16"))
    lidc.write_luna16_dataset(folder, 3, seed=31, config=PHANTOMS, progress=False)
    return folder


def _results(folder: str, path: str, tp_probability: float, fp_probability: float) -> int:
    """A CAD result: a hit at each annotated nodule, two false positives per scan, a hit on each irrelevant
    finding (probability 0.99, must not count); returns the number of scans."""
    annotations = luna16.read_annotations(os.path.join(folder, "annotations.csv"))
    excluded = luna16.read_annotations(os.path.join(folder, "annotations_excluded.csv"))
    uids = luna16.read_seriesuids(os.path.join(folder, "seriesuids.csv"))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(luna16.RESULT_COLUMNS)
        for uid in uids:
            for centre in annotations.get(uid, (np.zeros((0, 3)),))[0]:
                writer.writerow([uid, *(centre + 0.5), tp_probability])
            for centre in excluded.get(uid, (np.zeros((0, 3)),))[0]:
                writer.writerow([uid, *centre, 0.99])
            for k in range(2):
                writer.writerow([uid, 500.0 + k, 500.0, 500.0, fp_probability])
    return len(uids)


def test_layout_reads_unchanged(luna_folder):
    scans = luna16.luna16_scans(luna_folder)
    uids = luna16.read_seriesuids(os.path.join(luna_folder, "seriesuids.csv"))
    assert sorted(scans) == sorted(uids) and len(uids) == 3
    assert all(os.path.basename(os.path.dirname(p)).startswith("subset") for p in scans.values())
    assert all(os.path.isfile(p[:-4] + ".raw") for p in scans.values())
    hu, geometry = read_image(scans[uids[0]], ndim=3)
    annotations = luna16.read_annotations(os.path.join(luna_folder, "annotations.csv"))
    for centre, diameter in zip(*annotations.get(uids[0], (np.zeros((0, 3)), np.zeros(0)))):
        z, y, x = np.round(geometry.physical_to_index(centre)).astype(int)[::-1]
        assert hu[z - 1:z + 2, y - 2:y + 3, x - 2:x + 3].max() > -400 and diameter >= 3.0  # a nodule (cavitary too)
    assert not [f for f in os.listdir(os.path.join(luna_folder, "subset0")) if f.startswith(".")]


@pytest.mark.parametrize("tp,fp,expected", [(0.9, 0.5, 1.0), (0.3, 0.5, 3 / 7)])
def test_results_evaluated_as_the_official_script(luna_folder, tmp_path, tp, fp, expected):
    _results(luna_folder, str(tmp_path / "cad.csv"), tp, fp)
    annotated = sum(len(v[0]) for v in luna16.read_annotations(
        os.path.join(luna_folder, "annotations.csv")).values())
    if annotated == 0:
        pytest.skip("phantoms without an annotated nodule")
    result = run_module("nodules.evaluate", "--layout", "luna16", "--dataset_folder", luna_folder, "--results",
                        str(tmp_path / "cad.csv"), "--output_folder", str(tmp_path / "eval"), "--bootstrap", "0")
    assert result.returncode == 0, result.stderr[-2000:]
    # TPs above the FPs: sensitivity 1 at every rate. TPs below two FPs per scan: nothing found up to 2 FP/scan,
    # everything from there (the curve read just above 2): 3 of the 7 rates.
    assert f"CPM {expected:.3f}" in result.stdout


def test_bad_csv_is_one_line(luna_folder, tmp_path):
    (tmp_path / "cad.csv").write_text("seriesuid,coordX,coordY\n1,2,3\n")
    result = run_module("nodules.evaluate", "--layout", "luna16", "--dataset_folder", luna_folder, "--results",
                        str(tmp_path / "cad.csv"), "--output_folder", str(tmp_path / "eval"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path / 'cad.csv'}: missing column(s) coordZ, probability (expected seriesuid, coordX, coordY, "
        "coordZ, probability)")


def test_model_set_on_luna16_writes_a_challenge_result(luna_folder, nodule_model_set, tmp_path):
    result = run_module("nodules.evaluate", "--layout", "luna16", "--dataset_folder", luna_folder, "--model_set",
                        os.path.join(nodule_model_set, "lidc_nodules"), "--output_folder", str(tmp_path),
                        "--bootstrap", "20")
    assert result.returncode == 0, result.stderr[-2000:]
    header = (tmp_path / "results.csv").read_text().splitlines()[0]
    assert header == ",".join(luna16.RESULT_COLUMNS) and "CPM " in result.stdout
