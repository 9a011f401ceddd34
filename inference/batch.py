"""Batch processing: every case of a folder, its outputs, errors collected, a summary at the end."""
from __future__ import annotations

import csv
import dataclasses
import os
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tqdm import tqdm

from inference.inputs import CaseInput
from preprocessing.image_io import display_path
from preprocessing.atomic import atomic_path


INTERRUPTED = "interrupted"


@dataclasses.dataclass(frozen=True)
class CaseReport:
    """What processing a case reports: seconds per stage, other per-case figures (e.g. RSTN's rounds) and a
    note for the summary (e.g. 'empty: no region found')."""

    timings: dict[str, float]
    figures: dict[str, float] = dataclasses.field(default_factory=dict)
    note: str = ""


@dataclasses.dataclass
class CaseResult:
    """Outcome of one input: status 'ok', 'skipped', 'failed' (with `error`) or INTERRUPTED, seconds per stage,
    figures."""

    name: str
    input_path: str
    status: str
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    peak_rss_mb: float = 0.0
    error: str = ""
    figures: dict[str, float] = dataclasses.field(default_factory=dict)
    note: str = ""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclasses.dataclass(frozen=True)
class CaseStages:
    """How a batch runs one case, in three steps.

    load(case) -> loaded: reads the inputs (I/O only: it may run in a background thread).
    compute(case, loaded) -> computed: everything else up to the outputs (always in the calling thread).
    save(case, computed, output_base) -> CaseReport: writes the outputs atomically (I/O only: it may run in a
        background thread); its timings are the case's stages, to which the batch adds 'read' and 'total'.
    """

    load: Callable[[CaseInput], Any]
    compute: Callable[[CaseInput, Any], Any]
    save: Callable[[CaseInput, Any, str], CaseReport]


@dataclasses.dataclass(frozen=True)
class _Planned:
    case: CaseInput
    index: int
    output_base: str


def _timed(function: Callable, *args) -> tuple[Any, float]:
    start = time.perf_counter()
    return function(*args), time.perf_counter() - start


def run_batch(cases: list[CaseInput], output_folder: str, suffix: Callable[[CaseInput], str], stages: CaseStages,
              overwrite: bool = False, pipelined: bool = True) -> list[CaseResult]:
    """Runs each case through `stages`; one failure does not stop the rest.

    Outputs are `<output_folder>/<case name><suffix(case)>`; existing outputs are skipped unless `overwrite`.
    A failure (a case's own `problem` included) is recorded as one line '<input>: <problem>' and printed when it
    is known. With `pipelined`, the next case is loaded in a background thread while the current one computes, and
    the current one is saved in another while the next computes (at most three cases in memory); otherwise each
    case is loaded, computed and saved before the next starts. A case's 'total' is the sum of its own steps.
    An interrupt (SIGINT, or SIGTERM where the runtime maps it) abandons the case being computed, whose atomic
    write leaves nothing, lets a save already under way finish, and marks the rest INTERRUPTED.
    """
    os.makedirs(output_folder, exist_ok=True)
    results: list[CaseResult | None] = [None] * len(cases)
    planned = []
    for index, case in enumerate(cases):
        decided = _decided_before_running(case, output_folder, suffix, overwrite)
        if decided is None:
            planned.append(_Planned(case, index, os.path.join(output_folder, case.name)))
        results[index] = decided
    progress = tqdm(total=len(cases), desc="cases", unit="case")
    progress.update(len(cases) - len(planned))
    reader = ThreadPoolExecutor(1, thread_name_prefix="read-ahead")
    writer = ThreadPoolExecutor(1, thread_name_prefix="write-behind")
    loads: dict[int, Future] = {}
    previous_save: Future | None = None

    def save(item: _Planned, computed: Any, seconds: dict[str, float]) -> None:
        """Saves a case and records its result, in the writer thread (so a save under way when an interrupt
        comes still records itself)."""
        try:
            report, save_seconds = _timed(stages.save, item.case, computed, item.output_base)
        except Exception as error:  # noqa: BLE001 - a bad case must not stop the batch
            results[item.index] = _failed(item.case, failure_message(item.case, error))
        else:
            timings = {"read": seconds["read"], **report.timings,
                       "total": seconds["read"] + seconds["compute"] + save_seconds}
            results[item.index] = CaseResult(display_path(item.case.name), display_path(item.case.channels[0]),
                                             "ok", timings, peak_rss_mb(), figures=report.figures, note=report.note)
        progress.update()

    try:
        for number, item in enumerate(planned):
            for ahead in range(number, min(number + (2 if pipelined else 1), len(planned))):
                if ahead not in loads:
                    loads[ahead] = reader.submit(_timed, stages.load, planned[ahead].case)
            try:
                loaded, read_seconds = loads.pop(number).result()
                computed, compute_seconds = _timed(stages.compute, item.case, loaded)
                del loaded
            except Exception as error:  # noqa: BLE001 - a bad case must not stop the batch
                results[item.index] = _failed(item.case, failure_message(item.case, error))
                progress.update()
                continue
            if previous_save is not None:
                previous_save.result()
            previous_save = writer.submit(save, item, computed, {"read": read_seconds, "compute": compute_seconds})
            del computed
            if not pipelined:
                previous_save.result()
    except KeyboardInterrupt:
        tqdm.write("interrupted: the case being computed was abandoned (no partial output); the rest not run",
                   file=sys.stderr)
    finally:
        reader.shutdown(wait=True, cancel_futures=True)
        writer.shutdown(wait=True)
        progress.close()
    return [result or CaseResult(display_path(case.name), display_path(case.channels[0]), INTERRUPTED)
            for case, result in zip(cases, results)]


def _decided_before_running(case: CaseInput, output_folder: str, suffix: Callable[[CaseInput], str],
                            overwrite: bool) -> CaseResult | None:
    """The result of a case that does not run (a problem of its own, an output that would overwrite its input,
    an output already there), or None."""
    path = display_path(case.channels[0])
    if case.problem:
        return _failed(case, case.problem)
    output = os.path.join(output_folder, case.name) + suffix(case)
    if os.path.realpath(output) in {os.path.realpath(channel) for channel in case.channels}:
        return _failed(case, f"{path}: its output {output} would overwrite it; choose another output folder")
    if os.path.exists(output) and not overwrite:
        return CaseResult(display_path(case.name), path, "skipped")
    return None


def failure_message(case: CaseInput, error: Exception) -> str:
    """The one line of a case's failure, starting with its input's path."""
    path = display_path(case.channels[0])
    message = display_path(str(error).splitlines()[0]) if str(error) else type(error).__name__
    return message if message.startswith(path) else f"{path}: {message}"


def _failed(case: CaseInput, message: str) -> CaseResult:
    """A failed case's result; its one line is printed to stderr at once."""
    tqdm.write(f"FAILED {message}", file=sys.stderr)
    return CaseResult(display_path(case.name), display_path(case.channels[0]), "failed", peak_rss_mb=peak_rss_mb(),
                      error=message)


def summary_lines(results: list[CaseResult]) -> list[str]:
    """A per-case table (seconds per stage, peak RSS, then the other figures) and the list of failures."""
    stages = sorted({stage for r in results for stage in r.timings}, key=lambda s: (s == "total", s))
    figures = sorted({name for r in results for name in r.figures})
    lines = [f"{'case':<28} {'status':<8} " + " ".join(f"{s + ' s':>11}" for s in stages) + f" {'peak MB':>9}"
             + "".join(f" {f:>11}" for f in figures)]
    for r in results:
        cells = " ".join(f"{r.timings[s]:>11.2f}" if s in r.timings else f"{'':>11}" for s in stages)
        extra = "".join(f" {r.figures[f]:>11.4g}" if f in r.figures else f" {'':>11}" for f in figures)
        lines.append(f"{r.name:<28} {r.status:<8} {cells} {r.peak_rss_mb:>9.0f}{extra}"
                     + (f"  {r.note}" if r.note else ""))
    failed = [r for r in results if r.status == "failed"]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed", INTERRUPTED)}
    lines.append(f"{counts['ok']} ok, {counts['skipped']} skipped (already done), {counts['failed']} failed"
                 + (f", {counts[INTERRUPTED]} interrupted" if counts[INTERRUPTED] else ""))
    lines += [f"  {r.error}" for r in failed]
    return lines


def write_summary_csv(results: list[CaseResult], path: str) -> None:
    """Writes the per-case results as CSV, atomically."""
    stages = sorted({stage for r in results for stage in r.timings})
    figures = sorted({name for r in results for name in r.figures})
    with atomic_path(path) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "input", "status"] + [f"{s}_s" for s in stages] + figures
                        + ["peak_rss_mb", "error", "note"])
        for r in results:
            writer.writerow([r.name, r.input_path, r.status] + [f"{r.timings.get(s, float('nan')):.3f}" for s in stages]
                            + [f"{r.figures.get(f, float('nan')):.6g}" for f in figures]
                            + [f"{r.peak_rss_mb:.0f}", r.error, r.note])
