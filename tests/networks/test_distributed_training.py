"""Training as users scale it out: two MultiWorkerMirroredStrategy workers on 127.0.0.1 (TF_CONFIG) train, the
chief alone writes one checkpoint series and the exported set runs through the entrypoint; a run killed with
SIGKILL and rerun continues with exactly the batches of an uninterrupted run."""
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, run_module

LOCALIZATION = ["--num_filters", "4", "--num_levels", "3", "--valid_sizes", "16,32/16,32/16,32", "--spacing", "12",
                "--learning_rate", "1e-3", "--dropout", "0", "--cv", "0", "--cache", ""]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def losses(folder: str) -> dict[int, str]:
    """{iteration: loss} from train.csv (the last row of an iteration wins, as a rerun appends)."""
    with open(os.path.join(folder, "train.csv")) as handle:
        return {int(row["iteration"]): row["loss"] for row in csv.DictReader(handle)}


def train_command(data: str, output: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "localization.train", "--base_dataset_folder", data, "--base_output_folder", output,
            *LOCALIZATION, *extra]


@pytest.fixture(scope="module")
def data(flare21_folder, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("dist") / "FLARE21")
    shutil.copytree(flare21_folder, folder)
    return folder


def test_two_workers_train_and_the_chief_exports_a_set_the_entrypoint_runs(data, tmp_path):
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    output = str(tmp_path / "localization")
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen(
            train_command(data, output, "--distribution", "multi_worker", "--batch_size", "2", "--max_iter", "4",
                          "--test_iter", "2", "--log_iter", "1"),
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
            errors="replace"))
    logs = [worker.communicate(timeout=600)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    assert sorted(n for n in os.listdir(os.path.join(output, "checkpoints")) if n.endswith(".index")) == [
        "ckpt-2.index", "ckpt-4.index"]
    assert list(losses(output)) == [1, 2, 3, 4], "the chief alone writes train.csv"
    saved = tmp_path / "saved_models"
    scn_output = str(tmp_path / "scn")
    assert run_module("scn.train", "--base_dataset_folder", data, "--base_output_folder", scn_output, "--cv", "0",
                      "--max_iter", "1", "--test_iter", "1", "--local_filters", "4", "--local_levels", "3",
                      "--spatial_filters", "4", "--spatial_levels", "2", "--valid_sizes", "16,32/16,32/16,32",
                      "--spacing", "8").returncode == 0
    for module, folder in (("localization.export", output), ("scn.export", scn_output)):
        result = run_module(module, "--load_model_base", folder, "--model_set_folder", str(saved / "flare21"))
        assert result.returncode == 0, result.stderr[-2000:]
    result = run_module("inference", "--input_path", os.path.join(data, "ValidationImg"), "--output_path",
                        str(tmp_path / "out"), "--saved_models_folder", str(saved))
    assert result.returncode == 0 and "1 ok" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]


def test_killed_run_resumes_with_the_batches_of_an_uninterrupted_run(data, tmp_path):
    arguments = ["--max_iter", "8", "--test_iter", "2", "--log_iter", "1", "--batch_size", "2"]
    whole = str(tmp_path / "whole")
    assert subprocess.run(train_command(data, whole, *arguments), cwd=REPO, capture_output=True).returncode == 0
    killed = str(tmp_path / "killed")
    process = subprocess.Popen(train_command(data, killed, *arguments), cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not os.path.exists(os.path.join(killed, "checkpoints", "ckpt-4.index")) and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not os.path.exists(os.path.join(killed, "checkpoints", "ckpt-8.index")), "killed before the end"
    result = subprocess.run(train_command(data, killed, *arguments), cwd=REPO, capture_output=True, text=True,
                            encoding="utf-8", errors="replace")
    assert result.returncode == 0, result.stderr[-3000:]
    expected, resumed = losses(whole), losses(killed)
    assert list(resumed) == list(range(1, 9))
    assert [resumed[i] for i in range(5, 9)] == [expected[i] for i in range(5, 9)]
