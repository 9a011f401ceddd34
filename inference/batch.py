"""Batch processing: every input of a folder, one output each, errors collected, a summary at the end."""
from __future__ import annotations

import csv
import dataclasses
import os
import resource
import time
from collections.abc import Callable

from tqdm import tqdm

from preprocessing.atomic import atomic_path
from preprocessing.cases import CHANNEL_SUFFIX
from preprocessing.image_io import IMAGE_SUFFIXES, case_name


@dataclasses.dataclass
class CaseResult:
    """Outcome of one input: status 'ok', 'skipped' or 'failed' (with `error`), seconds per stage."""

    name: str
    input_path: str
    status: str
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    peak_rss_mb: float = 0.0
    error: str = ""


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def list_inputs(input_path: str) -> list[str]:
    """Input images: a single file; a DICOM series folder; or a folder's image files and series subfolders."""
    if os.path.isfile(input_path):
        return [input_path]
    if not os.path.isdir(input_path):
        raise FileNotFoundError(f"{input_path}: input path not found")
    entries = sorted(e for e in os.listdir(input_path) if not e.startswith("."))
    images = [os.path.join(input_path, e) for e in entries
              if os.path.isdir(os.path.join(input_path, e)) or e.lower().endswith(IMAGE_SUFFIXES)]
    if images:
        return images
    if entries:
        return [input_path]
    raise FileNotFoundError(f"{input_path}: input folder is empty")


def output_name(input_path: str) -> str:
    """Output case name, following the FLARE convention: 'validation_000_0000.nii.gz' -> 'validation_000'."""
    name = case_name(input_path)
    return name[: -len(CHANNEL_SUFFIX)] if name.endswith(CHANNEL_SUFFIX) else name


def run_batch(inputs: list[str], output_folder: str, suffix: Callable[[str], str],
              process: Callable[[str, str], dict[str, float]], overwrite: bool = False) -> list[CaseResult]:
    """Runs `process(input_path, output_path) -> timings` for each input; one failure does not stop the rest.

    Outputs are `<output_folder>/<output_name><suffix(input_path)>`; existing outputs are skipped unless
    `overwrite`.
    A failure is recorded as one line '<input>: <problem>' and printed when it happens.
    """
    os.makedirs(output_folder, exist_ok=True)
    results = []
    for path in tqdm(inputs, desc="cases", unit="case"):
        name = output_name(path)
        output_path = os.path.join(output_folder, name + suffix(path))
        if os.path.exists(output_path) and not overwrite:
            results.append(CaseResult(name, path, "skipped"))
            continue
        start = time.perf_counter()
        try:
            timings = process(path, output_path)
            timings["total"] = time.perf_counter() - start
            results.append(CaseResult(name, path, "ok", timings, peak_rss_mb()))
        except Exception as error:  # noqa: BLE001 - a bad case must not stop the batch
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            if not message.startswith(path):
                message = f"{path}: {message}"
            tqdm.write(f"FAILED {message}")
            results.append(CaseResult(name, path, "failed", peak_rss_mb=peak_rss_mb(), error=message))
    return results


def summary_lines(results: list[CaseResult]) -> list[str]:
    """A per-case table (seconds per stage, peak RSS) and the list of failures."""
    stages = sorted({stage for r in results for stage in r.timings}, key=lambda s: (s == "total", s))
    lines = [f"{'case':<28} {'status':<8} " + " ".join(f"{s:>11}" for s in stages) + f" {'peak MB':>9}"]
    for r in results:
        cells = " ".join(f"{r.timings[s]:>11.2f}" if s in r.timings else f"{'':>11}" for s in stages)
        lines.append(f"{r.name:<28} {r.status:<8} {cells} {r.peak_rss_mb:>9.0f}")
    failed = [r for r in results if r.status == "failed"]
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
    lines.append(f"{counts['ok']} ok, {counts['skipped']} skipped (already done), {counts['failed']} failed")
    lines += [f"  {r.error}" for r in failed]
    return lines


def write_summary_csv(results: list[CaseResult], path: str) -> None:
    """Writes the per-case results as CSV, atomically."""
    stages = sorted({stage for r in results for stage in r.timings})
    with atomic_path(path) as temp, open(temp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "input", "status"] + [f"{s}_s" for s in stages] + ["peak_rss_mb", "error"])
        for r in results:
            writer.writerow([r.name, r.input_path, r.status] + [f"{r.timings.get(s, float('nan')):.3f}" for s in stages]
                            + [f"{r.peak_rss_mb:.0f}", r.error])
