"""Cohort inference on Apache Beam: the DirectRunner with two worker processes on CT and X-ray phantoms writes the
entrypoint's outputs byte for byte and sends a hostile case to the dead letter; a rerun writes nothing new; a case
whose publishing dies once is retried by the runner and ends with exactly one output and one summary row."""
import csv
import dataclasses
import logging
import os
import shutil

import apache_beam as beam
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

from inference.beam.cases import cohort_cases
from inference.beam.cohort import build, pending_cases
from inference.beam.segment import SegmentCase
from inference.pipeline import RunOptions
from inference.runtime import RunRequest
from tests.conftest import REPO, run_module

MODELS = os.path.join(REPO, "saved_models")


def outputs(folder: str) -> dict[str, float]:
    """{file name: modification time} of the case outputs in `folder`."""
    return {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in sorted(os.listdir(folder))
            if name not in ("summary.csv", "dead_letter.csv")}


def test_two_workers_write_the_entrypoints_outputs_and_a_rerun_writes_nothing(flare21_folder, montgomery_folder,
                                                                              tmp_path):
    studies = tmp_path / "studies"
    studies.mkdir()
    for name in sorted(os.listdir(os.path.join(flare21_folder, "ValidationImg"))):
        shutil.copy(os.path.join(flare21_folder, "ValidationImg", name), studies)
    for name in sorted(os.listdir(os.path.join(montgomery_folder, "CXR_png")))[:2]:
        shutil.copy(os.path.join(montgomery_folder, "CXR_png", name), studies)
    (studies / "hostile.png").write_bytes(b"not a film")
    reference, cohort = tmp_path / "reference", tmp_path / "cohort"
    entrypoint = run_module("inference", "--input_path", str(studies), "--output_path", str(reference),
                            "--saved_models_folder", MODELS)
    assert entrypoint.returncode == 1, entrypoint.stderr[-2000:]
    command = ("inference.beam", "--input_pattern", f"{studies}/*", "--output_path", str(cohort),
               "--saved_models_folder", MODELS, "--direct_num_workers", "2",
               "--direct_running_mode", "multi_processing")
    first = run_module(*command)
    assert first.returncode == 1, first.stderr[-3000:]
    expected = outputs(str(reference))
    assert sorted(outputs(str(cohort))) == sorted(expected) and len(expected) >= 4
    for name in expected:
        assert (cohort / name).read_bytes() == (reference / name).read_bytes(), name
    dead = list(csv.DictReader(open(cohort / "dead_letter.csv")))
    assert [(r["case"], "cannot be decoded" in r["error"]) for r in dead] == [("hostile", True)]
    rows = list(csv.DictReader(open(cohort / "summary.csv")))
    assert sorted(r["case"] for r in rows) == sorted(r["case"] for r in csv.DictReader(open(reference / "summary.csv")))
    assert {r["status"] for r in rows if r["case"] != "hostile"} == {"ok"}
    assert all(float(r["peak_rss_mb"]) > 100 for r in rows), "each row has its worker's peak RSS"

    before = outputs(str(cohort))
    again = run_module(*command)
    assert again.returncode == 1 and outputs(str(cohort)) == before, "nothing new, nothing rewritten"
    assert {r["status"] for r in csv.DictReader(open(cohort / "summary.csv")) if r["case"] != "hostile"} == \
        {"skipped"}


class DiesOnce(SegmentCase):
    """Dies after writing a case's first output under its temporary name, the first time only (a marker file)."""

    marker = ""

    def _rename(self, temporary, final):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            raise RuntimeError(f"worker died while publishing {os.path.basename(final)}")
        super()._rename(temporary, final)


def test_a_case_that_dies_once_is_retried_with_one_output_and_one_row(montgomery_folder, tmp_path, caplog):
    studies = tmp_path / "films"
    studies.mkdir()
    for name in sorted(os.listdir(os.path.join(montgomery_folder, "CXR_png")))[:2]:
        shutil.copy(os.path.join(montgomery_folder, "CXR_png", name), studies)
    out = tmp_path / "out"
    out.mkdir()
    request = RunRequest(f"{studies}/*.png", str(out), MODELS, "cxr_lungs", options=RunOptions())
    cases, skipped = pending_cases(cohort_cases(request.input_path), str(out), {".png"}, False)
    DiesOnce.marker = str(tmp_path / "died")
    with caplog.at_level(logging.WARNING), beam.Pipeline(runner=BundleBasedDirectRunner()) as root:
        build(root, cases, skipped, request, DiesOnce)
    retries = [r.getMessage() for r in caplog.records if "worker died while publishing" in r.getMessage()]
    assert os.path.exists(DiesOnce.marker) and retries, "the first attempt died and the runner logged it"
    names = sorted(os.listdir(out))
    assert not [n for n in names if n.startswith(".tmp-")], "the dead attempt's temporary was removed"
    assert names == sorted([f"{c.case.name}{s}" for c in cases for s in (".json", ".png")]
                           + ["dead_letter.csv", "summary.csv"])
    rows = list(csv.DictReader(open(out / "summary.csv")))
    assert sorted(r["case"] for r in rows) == sorted(c.case.name for c in cases)
    assert {r["status"] for r in rows} == {"ok"}
    print("\n".join(retries[:2]))


def test_cases_are_grouped_as_the_entrypoint_groups_them(tmp_path):
    for name in ("a_0000.nii.gz", "a_0001.nii.gz", "b.nii.gz", "film.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    series = tmp_path / "SERIES_1"
    series.mkdir()
    for index in range(3):
        (series / f"IM{index:04d}").write_bytes(b"x")
    for patient in ("p1", "p2"):  # two series folders of one name: neither output may overwrite the other
        (tmp_path / patient / "CT").mkdir(parents=True)
        for index in range(2):
            (tmp_path / patient / "CT" / f"IM{index}.dcm").write_bytes(b"x")
    (tmp_path / "lone").mkdir()
    (tmp_path / "lone" / "radiograph.dcm").write_bytes(b"x")
    cases = cohort_cases(f"{tmp_path}/**")
    found = {c.case.name: (len(c.case.channels), [len(f) for f in c.channel_files]) for c in cases}
    assert found == {"a": (2, [1, 1]), "b": (1, [1]), "film": (1, [1]), "SERIES_1": (1, [3]), "radiograph": (1, [1]),
                     "CT": (1, [2])}
    problems = [c.case.problem for c in cases if c.case.name == "CT"]
    assert len(problems) == 2 and all("gives the output name 'CT'" in p for p in problems)
    listed = {c.case.name: [len(f) for f in c.channel_files] for c in cohort_cases(str(tmp_path))}
    assert listed["SERIES_1"] == [3] and listed["a"] == [1, 1]
    assert dataclasses.asdict(cohort_cases(f"{tmp_path}/b.nii.gz")[0].case)["channels"] == (f"{tmp_path}/b.nii.gz",)
