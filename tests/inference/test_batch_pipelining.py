"""The batch as a pipeline: the next case is read while one computes, the previous one written meanwhile; a
failure at any step fails that case only; an interrupt lets a write under way finish and marks the rest."""
import threading

import pytest

from inference.batch import INTERRUPTED, CaseReport, CaseStages, run_batch
from inference.inputs import CaseInput


def recording_stages(events, fail=None, compute=None):
    """Stages that log (step, case, thread) and fail where `fail` = {(step, case name)} says."""
    def step(name, case):
        events.append((name, case.name, threading.current_thread().name))
        if (name, case.name) in (fail or set()):
            raise ValueError(f"{case.channels[0]}: {name} broke")

    def load(case):
        step("load", case)
        return case.name

    def run(case, loaded):
        assert loaded == case.name
        step("compute", case)
        if compute:
            compute(case)
        return loaded

    def save(case, computed, output_base):
        step("save", case)
        return CaseReport({"write": 0.0})

    return CaseStages(load, run, save)


def cases(count):
    return [CaseInput(f"c{i}", (f"/in/c{i}.nii.gz",)) for i in range(count)]


def test_pipelined_batch_reads_ahead_in_the_background_while_a_case_computes(tmp_path):
    next_read = {f"c{i}": threading.Event() for i in range(4)}
    events = []
    original = recording_stages(events)

    def load(case):
        next_read[case.name].set()
        return original.load(case)

    def compute(case):
        following = f"c{int(case.name[1:]) + 1}"
        if following in next_read:
            assert next_read[following].wait(10), "the next case was not read while this one computed"

    stages = recording_stages(events, compute=compute)
    results = run_batch(cases(4), str(tmp_path), lambda case: ".nii.gz",
                        CaseStages(load, stages.compute, stages.save))
    assert [r.status for r in results] == ["ok"] * 4
    assert {thread for step, _, thread in events if step == "compute"} == {threading.main_thread().name}
    assert all(thread.startswith("read-ahead") for step, _, thread in events if step == "load")
    assert all(thread.startswith("write-behind") for step, _, thread in events if step == "save")
    assert set(results[0].timings) == {"read", "write", "total"}


def test_sequential_batch_finishes_each_case_before_reading_the_next(tmp_path):
    events = []
    results = run_batch(cases(3), str(tmp_path), lambda case: ".nii.gz", recording_stages(events), pipelined=False)
    assert [r.status for r in results] == ["ok"] * 3
    assert [(step, name) for step, name, _ in events] == [(s, f"c{i}") for i in range(3)
                                                          for s in ("load", "compute", "save")]


@pytest.mark.parametrize("pipelined", [True, False])
def test_a_failure_at_any_step_fails_that_case_only_with_one_line(tmp_path, pipelined):
    fail = {("load", "c1"), ("compute", "c2"), ("save", "c3")}
    results = run_batch(cases(5), str(tmp_path), lambda case: ".nii.gz", recording_stages([], fail),
                        pipelined=pipelined)
    assert [r.status for r in results] == ["ok", "failed", "failed", "failed", "ok"]
    assert [r.error for r in results[1:4]] == ["/in/c1.nii.gz: load broke", "/in/c2.nii.gz: compute broke",
                                               "/in/c3.nii.gz: save broke"]


def test_an_interrupt_lets_the_write_under_way_finish_and_marks_the_rest(tmp_path):
    events = []

    def compute(case):
        if case.name == "c2":
            raise KeyboardInterrupt

    results = run_batch(cases(4), str(tmp_path), lambda case: ".nii.gz", recording_stages(events, compute=compute))
    assert [r.status for r in results] == ["ok", "ok", INTERRUPTED, INTERRUPTED]
    assert ("save", "c2") not in [(step, name) for step, name, _ in events]
