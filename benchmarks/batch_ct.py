"""Batch throughput benchmark: cases per hour for a folder of 512x512xN CT volumes through the CT model set, the
batch pipelined (the next case read and the previous one written in background threads while a case runs the
networks; the entrypoint's default) against one case after the other (`--nopipelined`), alternated in one process.

Usage: python benchmarks/batch_ct.py [--saved_models_folder saved_models] [--model flare21] [--cases 10]
       [--slices 300] [--repeats 2]

The cases are copies of one FLARE21-like phantom (0.8 mm in-plane, 2.5 mm slices), written in a child process;
the model set is loaded once, before the timed batches.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

from absl import app, flags  # noqa: E402

from benchmarks.common import write_ct_phantom  # noqa: E402
from inference.batch import CaseStages, peak_rss_mb, run_batch  # noqa: E402
from inference.inputs import CaseInput  # noqa: E402
from inference.model_sets import find_model_sets  # noqa: E402
from inference.pipeline import RunOptions  # noqa: E402
from scn.pipeline import EfficientSCNPipeline  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("model", "flare21", "The CT model set to run.")
flags.DEFINE_integer("cases", 10, "Cases per batch.")
flags.DEFINE_integer("slices", 300, "Slices of each 512 x 512 case.")
flags.DEFINE_integer("repeats", 2, "Timed batches per mode.")
FLAGS = flags.FLAGS


def main(argv: list[str]) -> None:
    del argv
    pipeline = EfficientSCNPipeline(find_model_sets(FLAGS.saved_models_folder)[FLAGS.model], RunOptions())
    stages = CaseStages(pipeline.load, pipeline.compute, pipeline.save)
    with tempfile.TemporaryDirectory() as folder:
        first = os.path.join(folder, "in", "ct_000_0000.nii.gz")
        os.makedirs(os.path.dirname(first))
        child = multiprocessing.get_context("spawn").Process(target=write_ct_phantom, args=(first, FLAGS.slices))
        child.start()
        child.join()
        cases = [CaseInput("ct_000", (first,))]
        for index in range(1, FLAGS.cases):
            path = os.path.join(folder, "in", f"ct_{index:03d}_0000.nii.gz")
            shutil.copyfile(first, path)
            cases.append(CaseInput(f"ct_{index:03d}", (path,)))
        run_batch(cases[:1], os.path.join(folder, "warm-up"), lambda case: ".nii.gz", stages, overwrite=True)
        seconds = {"one after the other": [], "pipelined": []}
        for _ in range(FLAGS.repeats):
            for mode in seconds:
                start = time.perf_counter()
                results = run_batch(cases, os.path.join(folder, "out"), lambda case: ".nii.gz", stages,
                                    overwrite=True, pipelined=mode == "pipelined")
                seconds[mode].append(time.perf_counter() - start)
                assert all(r.status == "ok" for r in results), [r.error for r in results]
    print(f"\n{FLAGS.cases} cases of 512x512x{FLAGS.slices}, model set {FLAGS.model}, {FLAGS.repeats} batches per "
          f"mode (alternated); peak RSS of the process {peak_rss_mb():.0f} MB")
    print(f"{'mode':<22}{'min s':>8}{'median s':>10}{'cases/hour':>12}")
    for mode, times in seconds.items():
        print(f"{mode:<22}{min(times):>8.1f}{statistics.median(times):>10.1f}{3600 * FLAGS.cases / min(times):>12.0f}")
    print(f"pipelined / one after the other: {min(seconds['pipelined']) / min(seconds['one after the other']):.2f} "
          "of the time")


if __name__ == "__main__":
    app.run(main)
