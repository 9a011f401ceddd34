"""Batch processing: every case of a folder, its outputs, errors collected, a summary at the end."""
from __future__ import annotations

import csv
import dataclasses
import os
import resource
import sys
import time
from collections.abc import Callable

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


def run_batch(cases: list[CaseInput], output_folder: str, suffix: Callable[[CaseInput], str],
              process: Callable[[CaseInput, str], CaseReport], overwrite: bool = False) -> list[CaseResult]:
    """Runs `process(case, output_base) -> CaseReport` for each case; one failure does not stop the rest.

    Outputs are `<output_folder>/<case name><suffix(case)>`; existing outputs are skipped unless `overwrite`.
    A failure (a case's own `problem` included) is recorded as one line '<input>: <problem>' and printed when it
    happens. An interrupt (SIGINT, or SIGTERM where the runtime maps it) abandons the current case, whose
    atomic write leaves nothing, and marks it and the rest INTERRUPTED.
    """
    os.makedirs(output_folder, exist_ok=True)
    results = []
    try:
        for case in tqdm(cases, desc="cases", unit="case"):
            results.append(_run_case(case, output_folder, suffix, process, overwrite))
    except KeyboardInterrupt:
        tqdm.write("interrupted: the case being written was abandoned (no partial output); the rest not run",
                   file=sys.stderr)
        results += [CaseResult(display_path(case.name), display_path(case.channels[0]), INTERRUPTED)
                    for case in cases[len(results):]]
    return results


def _run_case(case: CaseInput, output_folder: str, suffix: Callable[[CaseInput], str],
              process: Callable[[CaseInput, str], CaseReport], overwrite: bool) -> CaseResult:
    path = display_path(case.channels[0])
    if case.problem:
        return _failed(case, case.problem)
    output_base = os.path.join(output_folder, case.name)
    output = output_base + suffix(case)
    if os.path.realpath(output) in {os.path.realpath(channel) for channel in case.channels}:
        return _failed(case, f"{path}: its output {output} would overwrite it; choose another output folder")
    if os.path.exists(output) and not overwrite:
        return CaseResult(display_path(case.name), path, "skipped")
    start = time.perf_counter()
    try:
        report = process(case, output_base)
    except Exception as error:  # noqa: BLE001 - a bad case must not stop the batch
        message = display_path(str(error).splitlines()[0]) if str(error) else type(error).__name__
        return _failed(case, message if message.startswith(path) else f"{path}: {message}")
    timings = {**report.timings, "total": time.perf_counter() - start}
    return CaseResult(display_path(case.name), path, "ok", timings, peak_rss_mb(), figures=report.figures,
                      note=report.note)


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
