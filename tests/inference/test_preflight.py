"""What stops a run before any compute (options, the output folder) and an output that would overwrite its
input: one line each, exit 2 for the run-wide problems, the case failed and the batch going on otherwise."""
import os

import pytest

from inference.batch import CaseReport, CaseStages, run_batch
from inference.inputs import CaseInput
from inference.pipeline import RunOptions
from inference.preflight import option_problems, prepare_output_folder
from tests.conftest import REPO, run_module


def test_options_out_of_range_are_named():
    assert option_problems(RunOptions()) == []
    assert option_problems(RunOptions(batch_size=0, overlap=1.0)) == [
        "--batch_size must be at least 1 (got 0)", "--overlap must be in [0, 1) (got 1)"]
    assert option_problems(RunOptions(batch_size=-1, overlap=-0.1)) == [
        "--batch_size must be at least 1 (got -1)", "--overlap must be in [0, 1) (got -0.1)"]


def test_output_folder_problems(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    assert prepare_output_folder("", str(inputs)) == "--output_path is empty"
    for inside in (inputs, inputs / "out"):
        assert "is inside the input folder" in prepare_output_folder(str(inside), str(inputs))
    (tmp_path / "file").write_text("x")
    file = str(tmp_path / "file")
    assert prepare_output_folder(file, str(inputs)) == f"{file}: exists and is not a folder"
    assert prepare_output_folder(os.path.join(file, "sub"), str(inputs)).endswith("cannot be written: Not a directory")
    assert prepare_output_folder(str(tmp_path / "new" / "out"), str(inputs)) is None
    assert os.listdir(tmp_path / "new" / "out") == [], "the write check leaves nothing behind"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    assert "cannot be written: Permission denied" in prepare_output_folder(str(folder), str(tmp_path / "in"))


def test_an_output_that_would_be_its_input_or_a_grouping_problem_fails_that_case_only(tmp_path):
    for name in ("x.png", "y.jpg"):
        (tmp_path / name).write_bytes(b"image")
    cases = [CaseInput("x", (str(tmp_path / "x.png"),)), CaseInput("y", (str(tmp_path / "y.jpg"),)),
             CaseInput("z", ("/in/z.png",), problem="/in/z.png: clash")]
    done = []

    def save(case, computed, output_base):
        done.append(case.name)
        return CaseReport({})

    stages = CaseStages(load=lambda case: None, compute=lambda case, loaded: None, save=save)
    results = run_batch(cases, str(tmp_path), lambda case: ".png", stages, overwrite=True)
    assert [r.status for r in results] == ["failed", "ok", "failed"] and done == ["y"]
    assert results[2].error == "/in/z.png: clash"
    image = tmp_path / "x.png"
    assert results[0].error == f"{image}: its output {image} would overwrite it; choose another output folder"
    assert (tmp_path / "x.png").read_bytes() == b"image"


def test_entrypoint_refuses_bad_flags_and_outputs_before_loading_models(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "x.png").write_bytes(b"not read")
    models = os.path.join(REPO, "saved_models")
    for extra, message in ((["--output_path", str(tmp_path / "o"), "--batch_size", "0"],
                            "error: --batch_size must be at least 1"),
                           (["--output_path", str(inputs)], "is inside the input folder"),
                           (["--output_path", str(inputs / "x.png")], "is inside the input folder")):
        result = run_module("inference", "--input_path", str(inputs), "--saved_models_folder", models, *extra)
        assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
    assert os.listdir(inputs) == ["x.png"]


def test_runs_are_quiet_unless_verbose(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "inference", "--list_models", "--saved_models_folder",
               os.path.join(REPO, "saved_models")]
    quiet = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace", env=env,
                           cwd=REPO, timeout=300)
    assert quiet.returncode == 0 and quiet.stderr == "" and "cxr_lungs" in quiet.stdout
    verbose = subprocess.run(command + ["--verbose"], capture_output=True, text=True, encoding="utf-8",
                             errors="replace", env=env, cwd=REPO, timeout=300)
    assert verbose.returncode == 0 and "oneDNN" in verbose.stderr
