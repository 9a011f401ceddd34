"""How far one click's change reaches (`interactive.first_click`, run by `interactive.click_reach`): the voxels it
added and removed, lesion or not, in bands of distance (mm on an anisotropic grid, band edges counted in the upper
band), the clicked lesion's found share and the click's depth; the tool's run on a trained set: every case with
lesions, each first-round click alone against the prediction without clicks that `interactive.evaluate` starts
from."""
import json

import pytest

from interactive.clicks import corrective_clicks
from interactive.first_click import ClickReach, click_groups, click_reach, reach_lines
from interactive.model_set import interactive_member
from interactive.training import click_curve, load_case
from interactive.window_logits import window_logits
from preprocessing.cases import autopet_cases
from tests.conftest import run_module
from tests.interactive.masks import cube

SHAPE, SPACING = (10, 10, 10), (2.0, 1.0, 1.0)


def test_changes_are_counted_by_distance_band_and_by_lesion():
    label = cube(SHAPE, (0, 0, 0), (4, 4, 4))
    before = cube(SHAPE, (0, 0, 0), (4, 4, 3))
    near_false, far_false = cube(SHAPE, (0, 0, 8), (1, 1, 9)), cube(SHAPE, (9, 0, 3), (10, 1, 4))
    shell = cube(SHAPE, (4, 3, 0), (5, 4, 1))
    after = (label | near_false | far_false | shell) & ~cube(SHAPE, (3, 3, 0), (4, 4, 1))
    reach = click_reach(before, after, label, (0, 0, 3), label & ~before, SPACING)
    # the missed face x = 3 at sqrt((2 z)^2 + y^2) mm: 12 voxels under 6 mm, the 4 of z = 3 at 6-6.7 mm; the shell
    # voxel 9.1 mm from the click and 2 mm from the lesion, the far one 18 mm from the click and 12 mm from the lesion
    assert reach == ClickReach(click=[0, 0, 3], dice_before=96 / 112, dice_after=126 / 130, clicked_lesion_found=0.75,
                               depth_mm=1.0,
                               added_lesion=[12, 4, 0, 0, 0], added_other=[1, 1, 1, 0, 0],
                               added_other_from_lesion=[2, 0, 1, 0, 0], removed_lesion=[0, 1, 0, 0, 0],
                               removed_other=[0, 0, 0, 0, 0])


def test_a_background_click_outside_the_lesions_has_no_clicked_lesion_and_its_depth_in_mm():
    label = cube(SHAPE, (0, 0, 0), (2, 2, 2))
    before = label | cube(SHAPE, (4, 4, 4), (9, 9, 9))
    after = label | cube(SHAPE, (5, 5, 5), (8, 8, 8))
    reach = click_reach(before, after, label, (6, 6, 6), before & ~label, SPACING)
    assert reach.clicked_lesion_found is None and reach.added_other_from_lesion is None
    assert reach.depth_mm == pytest.approx(3.0)
    assert reach.removed_other == [98, 0, 0, 0, 0] and reach.added_lesion == reach.removed_lesion == [0] * 5


def test_report_groups_the_clicks_by_type_and_by_how_much_of_the_clicked_lesion_was_found():
    found = {"click": [1, 2, 3], "dice_before": 0.8, "dice_after": 0.6, "clicked_lesion_found": 0.9, "depth_mm": 2.0,
             "added_lesion": [1, 0, 0, 0, 0], "added_other": [0, 5, 7, 0, 0],
             "added_other_from_lesion": [12, 0, 0, 0, 0], "removed_lesion": [0] * 5, "removed_other": [0] * 5}
    missed = {**found, "clicked_lesion_found": 0.5, "dice_after": 0.81}
    background = {**found, "clicked_lesion_found": None, "added_other_from_lesion": None, "dice_after": 0.7,
                  "removed_lesion": [3, 1, 0, 0, 0]}
    lines = reach_lines({"PETCT_a": {"lesion": found, "background": background}, "PETCT_b": {"lesion": found},
                         "PETCT_c": {"lesion": missed}})
    assert lines[0] == "bands (mm): 0-6 / 6-12 / 12-20 / 20-40 / >40"
    assert lines[1].startswith("PETCT_a                  lesion     at [1, 2, 3]: Dice 0.800 -> 0.600, depth 2.0 mm, "
                               "clicked lesion found 0.90; added lesion [1, 0, 0, 0, 0]")
    assert "(from that lesion [12, 0, 0, 0, 0])" in lines[1] and "from that lesion" not in lines[2]
    assert lines[5:] == [
        "lesion clicks, lesion found: 2; Dice change -0.200 (standard error 0.000); worse by 0.02: 2, better by 0.02: "
        "0",
        "  added other: 0 / 10 / 14 / 0 / 0 (sum 24)", "  added other from lesion: 24 / 0 / 0 / 0 / 0 (sum 24)",
        "  added lesion: 2 / 0 / 0 / 0 / 0 (sum 2)",
        "lesion clicks, lesion found less: 1; Dice change +0.010; worse by 0.02: 0, better by 0.02: 0",
        "  added other: 0 / 5 / 7 / 0 / 0 (sum 12)", "  added other from lesion: 12 / 0 / 0 / 0 / 0 (sum 12)",
        "  added lesion: 1 / 0 / 0 / 0 / 0 (sum 1)",
        "background clicks: 1; Dice change -0.100; worse by 0.02: 1, better by 0.02: 0",
        "  removed lesion: 3 / 1 / 0 / 0 / 0 (sum 4)", "  removed other: 0 / 0 / 0 / 0 / 0 (sum 0)"]


def test_each_first_round_click_alone_from_the_evaluations_start(autopet_folder, interactive_model_set, tmp_path):
    model_set = f"{interactive_model_set}/autopet_interactive"
    result = run_module("interactive.click_reach", "--model_set", model_set, "--dataset_folder", autopet_folder,
                        "--output_folder", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.load(open(tmp_path / "click_reach.json"))
    member, config = interactive_member(model_set)
    predict = window_logits(member.signatures["serving_default"])
    cases = {case.case_id: load_case(case, config) for case in autopet_cases(autopet_folder, 1)}
    with_lesions = [name for name, case in cases.items() if case.label.any()]
    assert list(summary["cases"]) == with_lesions and len(with_lesions) == 3
    for name, kinds in summary["cases"].items():
        curve = click_curve(predict, cases[name], config, 0, 0)
        target = cases[name].label > 0
        lesion, lesion_found, background, background_found = (
            t.numpy() for t in corrective_clicks(target, curve.first, config.click_rule, config.spacing_mm, [0, 0]))
        expected = {"lesion": lesion.tolist()} if lesion_found else {}
        expected.update({"background": background.tolist()} if background_found else {})
        assert {kind: reach["click"] for kind, reach in kinds.items()} == expected and expected
        for kind, reach in kinds.items():
            assert reach["dice_before"] == pytest.approx(curve.dice[0])
            assert target[tuple(reach["click"])] == (kind == "lesion")
            assert (reach["clicked_lesion_found"] is None) == (kind == "background")
    groups = click_groups(summary["cases"])
    assert sum(map(len, groups.values())) == sum(map(len, summary["cases"].values()))
    assert all(f"{name}: {len(group)};" in result.stdout for name, group in groups.items() if group)


def test_a_missing_data_folder_fails_with_one_line(tmp_path):
    result = run_module("interactive.click_reach", "--dataset_folder", str(tmp_path / "missing"), "--output_folder",
                        str(tmp_path / "reach"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert str(tmp_path / "missing") in result.stderr and not (tmp_path / "reach").exists()
