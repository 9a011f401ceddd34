"""The testing stages on a tiny trained RSTN: each command writes its per-case results and the summary
(mean, std, min, max), the fusion variants and the coarse-to-fine rounds are consistent with the stored
probabilities."""
import csv
import os

import numpy as np

from evaluation.metrics import dice
from rstn.fusion import FUSION_SUM_THRESHOLDS
from rstn.testing import load_probabilities
from tests.conftest import run_module


def rows(path: str) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_stages_write_results_consistent_with_their_volumes(rstn_trained, tmp_path):
    common = ["--load_model_base", rstn_trained["train"], "--cache_folder", rstn_trained["cache"], "--fold", "1",
              "--results_folder", str(tmp_path)]
    for stage in ("coarse", "oracle", "coarse_fusion", "oracle_fusion", "coarse2fine"):
        result = run_module("rstn.test", "--stage", stage, *common)
        assert result.returncode == 0, f"{stage}: {result.stderr[-3000:]}"
        assert "mean" in result.stdout
    (case,) = [r["case"] for r in rows(str(tmp_path / "coarse_X" / "results.csv"))]
    assert case == "PANCREAS_0001", "fold 1 of three cases holds out the first"
    target = np.isin(np.load(os.path.join(rstn_trained["cache"], "labels", f"{case}.npy")), [1])
    planes = {p: load_probabilities(str(tmp_path / f"coarse_{p}" / f"{case}.npz")) for p in "XYZ"}
    fusion = rows(str(tmp_path / "coarse_fusion" / "results.csv"))[0]
    for name, threshold in FUSION_SUM_THRESHOLDS.items():
        assert abs(float(fusion[f"dsc_{name}"]) - dice(sum(planes.values()) >= threshold, target)) < 1e-5
    assert abs(float(fusion["dsc_Z"]) - float(rows(str(tmp_path / "coarse_Z" / "results.csv"))[0]["dsc"])) < 1e-5
    c2f = rows(str(tmp_path / "coarse2fine" / "results.csv"))[0]
    round0 = dice(sum(planes.values()) / 3 >= 0.5, target)
    assert abs(float(c2f["round_0"]) - round0) < 1e-5
    assert 0 <= float(c2f["stop_round"]) <= 10 and {"nsd", "hd95_mm", "dsc_at_0.99"} <= set(c2f)
    assert "std" in open(tmp_path / "coarse2fine" / "summary.txt").read()


def test_a_stage_without_its_prerequisite_is_one_line(rstn_trained, tmp_path):
    result = run_module("rstn.test", "--stage", "coarse_fusion", "--load_model_base", rstn_trained["train"],
                        "--cache_folder", rstn_trained["cache"], "--fold", "1", "--results_folder", str(tmp_path))
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(errors) == 1 and errors[0].endswith("coarse_X/PANCREAS_0001.npz: not found; run the stage that writes "
                                                  "it first")
