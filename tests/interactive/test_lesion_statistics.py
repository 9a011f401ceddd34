"""Lesion statistics: 26-connected lesions with their volumes and SUVmax, the per-study and per-lesion summaries,
lesion-free studies counted apart; the command on an AutoPET folder."""
import json
import subprocess
import sys

import numpy as np
import pytest

from interactive.lesion_statistics import StudyLesions, study_lesions, summarize


def test_lesions_are_26_connected_components_with_volume_and_suv_max():
    label = np.zeros((6, 8, 8), np.uint8)
    label[1, 1, 1] = label[2, 2, 2] = 1          # touching by a corner: one lesion
    label[4:6, 5:8, 5:8] = 1                     # 18 voxels
    pet = np.ones(label.shape, np.float32)
    pet[2, 2, 2], pet[5, 7, 7] = 9.0, 4.0
    lesions = study_lesions("a", pet, label, (3.0, 2.0, 2.0))
    assert sorted(lesions.volumes_ml.tolist()) == pytest.approx([2 * 0.012, 18 * 0.012])
    assert sorted(lesions.suv_max.tolist()) == [4.0, 9.0]
    assert lesions.voxel_suv.size == 20


def test_summary_counts_lesion_free_studies_apart_and_gives_network_voxels():
    studies = [StudyLesions("a", np.array([1.0, 3.0]), np.array([5.0, 7.0]), np.array([5.0, 6.0, 7.0])),
               StudyLesions("b", np.array([2.0]), np.array([4.0]), np.array([4.0])),
               StudyLesions("c", np.zeros(0), np.zeros(0), np.zeros(0))]
    summary = summarize(studies, (2.0, 2.0, 2.5))
    assert summary["lesion_free"] == 1 and summary["lesion_free_fraction"] == pytest.approx(1 / 3)
    assert summary["lesions_per_positive_study"]["median"] == 1.5
    assert summary["mtv_ml_per_positive_study"]["max"] == 4.0
    assert summary["lesion_volume_ml"]["median"] == 2.0
    assert summary["lesion_network_voxels"]["median"] == pytest.approx(200.0)
    assert summary["lesion_voxel_suv"]["n"] == 4


def test_command_reports_an_autopet_folder(autopet_folder, tmp_path):
    out = tmp_path / "stats.json"
    result = subprocess.run([sys.executable, "-m", "interactive.lesion_statistics", "--dataset_folder",
                             autopet_folder, "--statistics_json", str(out)], capture_output=True, text=True, check=True)
    assert "4 studies" in result.stdout and "lesion_volume_ml" in result.stdout
    written = json.loads(out.read_text())
    assert written["summary"]["studies"] == 4 and len(written["studies"]) == 4
