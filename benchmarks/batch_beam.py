"""Cohort benchmark: cases per hour and peak RSS per worker for phantom CTs through the CT model set on Apache Beam's
DirectRunner with 1 and 2 worker processes, next to the pipelined entrypoint on the same cases, in the same run.

Usage: python benchmarks/batch_beam.py [--saved_models_folder saved_models] [--model flare21] [--cases 8]
       [--slices 120]

Each configuration is one command as a user runs it (`python -m inference`, `python -m inference.beam ...`), timed
from start to exit, so process start-up and model loading count for both; outputs are rewritten each time
(--overwrite). Peak RSS: the entrypoint's process, and the largest worker of the Beam run (from summary.csv).
"""
from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

from benchmarks.common import write_ct_phantom  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("model", "flare21", "The CT model set to run.")
flags.DEFINE_integer("cases", 8, "Cases in the cohort.")
flags.DEFINE_integer("slices", 120, "Slices of each 512 x 512 case.")
FLAGS = flags.FLAGS


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def peak_worker_mb(output: str) -> float:
    return max(float(row["peak_rss_mb"]) for row in csv.DictReader(open(os.path.join(output, "summary.csv"))))


def main(argv: list[str]) -> None:
    del argv
    common = ["--saved_models_folder", FLAGS.saved_models_folder, "--model", FLAGS.model, "--overwrite"]
    with tempfile.TemporaryDirectory() as folder:
        inputs = os.path.join(folder, "in")
        os.makedirs(inputs)
        first = os.path.join(inputs, "ct_000_0000.nii.gz")
        child = multiprocessing.get_context("spawn").Process(target=write_ct_phantom, args=(first, FLAGS.slices))
        child.start()
        child.join()
        for index in range(1, FLAGS.cases):
            shutil.copyfile(first, os.path.join(inputs, f"ct_{index:03d}_0000.nii.gz"))
        out = os.path.join(folder, "out")
        rows = []
        seconds = timed([sys.executable, "-m", "inference", "--input_path", inputs,
                         "--output_path", out, *common])
        rows.append(("entrypoint (pipelined)", 1, seconds, peak_worker_mb(out)))
        for workers in (1, 2):
            seconds = timed([sys.executable, "-m", "inference.beam", "--input_pattern", f"{inputs}/*",
                             "--output_path", out, *common, "--direct_num_workers", str(workers),
                             "--direct_running_mode", "multi_processing"])
            rows.append((f"Beam DirectRunner, {workers} worker(s)", workers, seconds, peak_worker_mb(out)))
    print(f"\n{FLAGS.cases} cases of 512x512x{FLAGS.slices}, model set {FLAGS.model}, {os.cpu_count()} CPUs; "
          "each run timed from start to exit")
    print(f"{'run':<34}{'s':>8}{'cases/hour':>12}{'vs entrypoint':>15}{'peak MB/worker':>16}")
    for name, _, seconds, peak in rows:
        print(f"{name:<34}{seconds:>8.1f}{3600 * FLAGS.cases / seconds:>12.0f}{rows[0][2] / seconds:>15.2f}"
              f"{peak:>16.0f}")


if __name__ == "__main__":
    app.run(main)
