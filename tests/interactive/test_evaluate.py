"""Dice versus clicks of an exported set: a CSV row per case with a value per click round and the mean, the JSON
with the shared metrics at 0 and N clicks, lesion-free cases listed apart with their false voxels per click round, the
PNG plot; with --click_effects what each click round changed, per case; with --lesion_fit how the predictions fit
each lesion; the mean curve's bootstrap interval; a folder of lesion-free cases only prints no Dice rows; the
training split's cases and its held-out ones; a missing data folder or set, or another system's set, fails with one
line before any compute."""
import csv
import json

import cv2
import pytest

from interactive.evaluation_report import report_lines
from interactive.model_set import interactive_member
from interactive.training import split_cases
from preprocessing.cases import autopet_cases
from tests.conftest import run_module


def test_dice_vs_clicks_files(autopet_folder, interactive_model_set, tmp_path):
    result = run_module("interactive.evaluate", "--model_set", f"{interactive_model_set}/autopet_interactive",
                        "--dataset_folder", autopet_folder, "--cases", "all", "--clicks", "2", "--output_folder",
                        str(tmp_path), "--click_rule", "edt_max", "--click_effects", "--lesion_fit")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / "dice_vs_clicks.csv")))
    summary = json.load(open(tmp_path / "dice_vs_clicks.json"))
    assert len(summary["per_case"]) + len(summary["lesion_free"]) == 4 and summary["click_rule"] == "edt_max"
    (free,) = summary["lesion_free"]
    voxels = "".join(f"{v:7d}" for v in free["false_lesion_voxels"])
    assert len(free["false_lesion_voxels"]) == 3 and result.stdout.count("no lesion: false lesion voxels") == 1
    assert f"{free['case']:<24}{voxels}  (no lesion" in result.stdout
    assert f"{'median, no lesion':<24}{voxels}  (false lesion voxels; lesion-free cases: 1)" in result.stdout
    assert [r["case"] for r in rows] == list(summary["per_case"]) + ["mean"]
    assert all(0 <= float(r[f"dice_{i}_clicks"]) <= 1 for r in rows for i in range(3))
    assert len(summary["mean"]) == 3 and len(summary["mean_interval"]) == 3
    assert all(low <= high for _, low, high in summary["mean_interval"])
    curves = list(summary["per_case"].values())
    assert all(min(c[i] for c in curves) <= low and high <= max(c[i] for c in curves)
               for i, (_, low, high) in enumerate(summary["mean_interval"]))
    assert "95% interval, lower" in result.stdout and "95% interval, upper" in result.stdout
    first = next(iter(summary["metrics"].values()))
    assert set(first) == {"0_clicks", "2_clicks"} and set(first["2_clicks"]) == {"dice", "nsd", "hd95"}
    assert cv2.imread(str(tmp_path / "dice_vs_clicks.png")).shape == (420, 640, 3)
    assert "mean" in result.stdout
    effects = summary["click_effects"]
    assert set(effects) == set(summary["per_case"]) | {c["case"] for c in summary["lesion_free"]}
    assert all(len(rounds) == 2 and set(rounds[0]) == {"added_voxels", "removed_voxels", "false_added_at_lesion_click",
                                                       "lesion_removed_at_background_click"}
               for rounds in effects.values())
    assert all(r["false_added_at_lesion_click"] <= r["added_voxels"] for rounds in effects.values() for r in rounds)
    assert result.stdout.count("largest flood") == len(summary["per_case"])
    fits = summary["lesion_fit"]
    assert set(fits) == set(summary["per_case"])
    assert all(set(fit) == {"0_clicks", "2_clicks", "threshold_ceiling"} and 0.0 <= fit["threshold_ceiling"] <= 1.0
               and 0 <= fit["2_clicks"]["lesions_found"] <= fit["2_clicks"]["lesions"] for fit in fits.values())
    assert result.stdout.count("threshold ceiling") == len(fits) + 1
    assert all(fits[name][f"{n}_clicks"]["dice_without_false_objects"] >= summary["per_case"][name][n] - 1e-6
               for name in fits for n in (0, 2))
    assert result.stdout.count("Dice without false objects") == 1


def test_report_of_lesion_free_cases_only():
    summary = {"per_case": {}, "mean": [], "lesion_free": [{"case": "PETCT_a", "false_lesion_voxels": [30, 10, 0]},
                                                           {"case": "PETCT_b", "false_lesion_voxels": [50, 20, 4]}]}
    lines = report_lines(summary, 2)
    assert lines == [f"{'case':<24}      0      1      2",
                     f"{'PETCT_a':<24}     30     10      0  (no lesion: false lesion voxels after N clicks)",
                     f"{'PETCT_b':<24}     50     20      4  (no lesion: false lesion voxels after N clicks)",
                     f"{'median, no lesion':<24}     40     15      2  (false lesion voxels; lesion-free cases: 2)"]
    with_lesion = report_lines({**summary, "per_case": {"PETCT_c": [0.5, 0.75, 0.9]}, "mean": [0.5, 0.75, 0.9]}, 2)
    assert with_lesion[:3] == [f"{'case':<24}      0      1      2  (Dice after N clicks)",
                               f"{'PETCT_c':<24}  0.500  0.750  0.900", f"{'mean':<24}  0.500  0.750  0.900"]


def test_training_and_validation_cases_are_the_sets_split(autopet_folder, interactive_model_set, tmp_path):
    model_set = f"{interactive_model_set}/autopet_interactive"
    config = interactive_member(model_set)[1]
    expected = [[c.case_id for c in part] for part in split_cases(autopet_cases(autopet_folder, 1), config)]
    evaluated = []
    for which in ("training", "validation"):
        result = run_module("interactive.evaluate", "--model_set", model_set, "--dataset_folder", autopet_folder,
                            "--cases", which, "--clicks", "1", "--bootstrap", "0", "--output_folder",
                            str(tmp_path / which))
        assert result.returncode == 0, result.stderr[-3000:]
        summary = json.load(open(tmp_path / which / "dice_vs_clicks.json"))
        assert summary["cases"] == which
        evaluated.append(sorted(list(summary["per_case"]) + [c["case"] for c in summary["lesion_free"]]))
    assert evaluated == [sorted(part) for part in expected]
    assert len(evaluated[0]) == 3 and len(evaluated[1]) == 1


def test_a_selection_without_cases_fails_with_one_line_before_any_compute(autopet_folder, tmp_path):
    """The shipped set trained on every case of its (linked) folder: its split holds none out."""
    result = run_module("interactive.evaluate", "--model_set", "saved_models/autopet_interactive", "--dataset_folder",
                        autopet_folder, "--cases", "validation", "--output_folder", str(tmp_path / "eval"))
    assert result.returncode != 0
    assert "--cases validation selects none of the cases" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "eval").exists()


@pytest.mark.parametrize("model_set, data, message", [
    ("saved_models/autopet_interactive", "{tmp}/missing", "{tmp}/missing"),
    ("{tmp}/no_set", "{data}", "{tmp}/no_set: no manifest.json"),
    ("saved_models/cxr_lungs", "{data}", "a 'cfcm' model set, not a click-guided one")])
def test_a_missing_data_folder_or_set_or_another_systems_set_fails_with_one_line(model_set, data, message,
                                                                                 autopet_folder, tmp_path):
    def fill(text: str) -> str:
        return text.format(tmp=tmp_path, data=autopet_folder)

    result = run_module("interactive.evaluate", "--model_set", fill(model_set), "--dataset_folder", fill(data),
                        "--output_folder", str(tmp_path / "eval"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert fill(message) in result.stderr and not (tmp_path / "eval").exists()
