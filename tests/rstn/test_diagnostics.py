"""The coarse-to-fine experiments on hand-made fine passes whose answers are known: an under-segmenting fine
network shows at the fixed point as precision 1 with recall < 1, the split of round 1 feeds each half its
true input, and the rounds report every round fused and per plane."""
import numpy as np
import pytest

from rstn.diagnostics import fixed_point, overlap, round_rows, split_round_one


def organ() -> np.ndarray:
    target = np.zeros((10, 12, 12), np.uint8)
    target[3:7, 3:9, 3:9] = 1
    return target


def test_overlap_counts_hits_against_prediction_and_truth():
    target = organ()
    mask = np.zeros_like(target)
    mask[3:7, 3:9, 3:6] = 1
    mask[0, 0, 0] = 1
    row = overlap(mask, target, "X_")
    assert row["X_precision"] == pytest.approx(72 / 73) and row["X_recall"] == pytest.approx(0.5)
    assert row["X_dsc"] == pytest.approx(2 * 72 / (73 + 144))
    assert overlap(np.zeros_like(target), target)["precision"] == 1.0


def test_fixed_point_shows_an_under_segmenting_fine_network():
    target = organ()

    def eroding(plane, score, mask):
        shrunk = np.zeros_like(score)
        shrunk[4:6, 4:8, 4:8] = score[4:6, 4:8, 4:8]
        return shrunk

    row = fixed_point(eroding, ("X", "Z"), target, 0.5)
    assert row["precision"] == 1.0 and row["recall"] == pytest.approx(32 / 144)
    assert row["X_recall"] == row["Z_recall"] == row["recall"] and "Y_dsc" not in row


def test_split_round_one_feeds_the_true_box_or_the_true_saliency():
    target = organ()
    coarse = np.zeros(target.shape, np.float32)
    coarse[3:7, 3:9, 6:12] = 0.9  # half the organ and as much outside it

    def gated(plane, score, mask):
        return score * mask

    row = split_round_one(gated, ("X", "Y", "Z"), coarse, target, 0.5)
    assert row["round0_recall"] == pytest.approx(0.5) and row["round0_precision"] == pytest.approx(0.5)
    assert row["round1_dsc"] == pytest.approx(row["round0_dsc"])
    assert row["true_box_precision"] == 1.0 and row["true_box_recall"] == pytest.approx(0.5)
    assert row["true_saliency_precision"] == 1.0 and row["true_saliency_recall"] == pytest.approx(0.5)


def test_rounds_report_each_round_fused_and_per_plane():
    target = organ()
    coarse = {p: np.where(target > 0, 0.8, 0.1).astype(np.float32) for p in "XYZ"}
    coarse["Y"][0] = 0.9  # a plane that fires on a whole slice outside the organ

    def growing(plane, score, mask):
        return np.maximum(mask.astype(np.float32), (target > 0) * 0.9)

    rows = round_rows(coarse, growing, ("X", "Y", "Z"), target, 0.5, 0.5, 3, 0.99)
    assert [row["round"] for row in rows] == [0, 1, 2, 3]
    assert rows[0]["Y_precision"] < 1.0 and rows[0]["X_dsc"] == 1.0 and np.isnan(rows[0]["inter_dsc"])
    assert all(row["dsc"] == 1.0 and row["inter_dsc"] == 1.0 for row in rows[1:])
    rows = round_rows(coarse, growing, ("X", "Z"), target, 0.5, 0.5, 2, 0.99)
    assert len(rows) == 3 and rows[0]["dsc"] == 1.0 and "Y_dsc" not in rows[0]
