"""End-to-end CT inference benchmark: seconds per stage and peak RSS for synthetic 512x512xN volumes.

Usage: python benchmarks/inference_ct.py [--saved_models_folder saved_models] [--model flare21] [--slices 100,300]

Volumes are FLARE21-like phantoms (0.8 mm in-plane, 2.5 mm slices) generated in a child process. Each volume is
read, segmented and written twice in a fresh process: the seconds are the second run's (the first, which also
sets up TensorFlow's kernels, is given as a total), the peak RSS is that process's (both runs). "not net" is the
share of the total spent outside the two networks. The networks' GFLOPs come from TensorFlow's
profiler on the same float32 architectures at the shapes actually run; their achieved GFLOP/s is set
against this machine's float32 matmul rate measured in the same run.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks.common import matmul_gflops, model_gflop, rss_mb, write_ct_phantom  # noqa: E402
from networks.config_io import config_from_dict  # noqa: E402
from inference.inputs import CaseInput  # noqa: E402
from inference.model_sets import find_model_sets  # noqa: E402
from inference.pipeline import RunOptions  # noqa: E402
from inference.sliding_window import window_starts  # noqa: E402
from localization.config import LocalizationConfig  # noqa: E402
from localization.model import build_localization_model  # noqa: E402
from preprocessing.network_grid import largest_valid_size  # noqa: E402
from scn.config import SCNConfig  # noqa: E402
from scn.model import build_scn_model  # noqa: E402
from scn.pipeline import EfficientSCNPipeline  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("model", "flare21", "The CT model set (localization + SCN) to time.")
flags.DEFINE_list("slices", ["100", "300"], "Slice counts of the 512x512 test volumes.")
FLAGS = flags.FLAGS


def network_gflop(pipeline: EfficientSCNPipeline, network_inputs: dict[str, tuple[int, ...]]) -> float:
    """GFLOP of the localization pass and of every SCN window run for the given network input shapes."""
    total = 0.0
    for name, build, config_cls in (("localization", build_localization_model, LocalizationConfig),
                                    ("segmentation", build_scn_model, SCNConfig)):
        metadata = pipeline.metadata[name]
        config = config_from_dict(config_cls, metadata["config"])
        shape = network_inputs[name]
        windows, run_shape = 1, shape
        window = largest_valid_size(metadata["valid_sizes"])
        if name == "segmentation" and any(n > p for n, p in zip(shape, window)):
            windows = int(np.prod([len(window_starts(n, p, pipeline.overlap)) for n, p in zip(shape, window)]))
            run_shape = window
        total += windows * model_gflop(build(config), (1, *run_shape, 1))
    return total


def time_volume(saved_models_folder: str, model: str, path: str, output_base: str) -> dict:
    """Reads, segments and writes one volume twice in this (fresh) process: {'cold': seconds of the first run,
    'warm': seconds per stage of the second, 'peak': peak RSS MB of the process, 'network_inputs': shapes}."""
    pipeline = EfficientSCNPipeline(find_model_sets(saved_models_folder)[model], RunOptions())
    case = CaseInput(os.path.basename(output_base), (path,))
    runs = []
    for _ in range(2):
        start = time.perf_counter()
        loaded = pipeline.load(case)
        read_seconds = time.perf_counter() - start
        computed = pipeline.compute(case, loaded)
        runs.append({"read": read_seconds, **pipeline.save(case, computed, output_base).timings})
    return {"cold": sum(runs[0].values()), "warm": runs[1], "peak": rss_mb()[1],
            "network_inputs": computed.result.network_inputs}


def main(argv: list[str]) -> None:
    del argv
    pipeline = EfficientSCNPipeline(find_model_sets(FLAGS.saved_models_folder)[FLAGS.model], RunOptions())
    peak_matmul = matmul_gflops()
    rows = []
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        for slices in (int(s) for s in FLAGS.slices):
            path = os.path.join(folder, f"ct_{slices}_0000.nii.gz")
            child = spawn.Process(target=write_ct_phantom, args=(path, slices))
            child.start()
            child.join()
            with spawn.Pool(1, maxtasksperchild=1) as pool:
                run = pool.apply(time_volume, (FLAGS.saved_models_folder, FLAGS.model, path,
                                               os.path.join(folder, f"ct_{slices}")))
            gflop = network_gflop(pipeline, run["network_inputs"])
            network_seconds = run["warm"]["localize"] + run["warm"]["segment"]
            rows.append((f"512x512x{slices}", run, gflop, gflop / network_seconds))
    stages = ["read", "preprocess", "localize", "segment", "postprocess", "write"]
    print(f"machine float32 matmul: {peak_matmul:.1f} GFLOP/s (tf.matmul 2048x2048, same process)")
    print("seconds of the second run of each volume in a fresh process; first run, peak RSS of that process")
    print(f"{'volume':<14}" + "".join(f"{s:>12}" for s in stages) + f"{'total s':>10}{'not net':>9}{'first s':>9}"
          f"{'peak RSS MB':>13}{'net GFLOP':>11}{'GFLOP/s':>9}{'of matmul':>10}")
    for name, run, gflop, rate in rows:
        timings = run["warm"]
        total = sum(timings.values())
        other = 1.0 - (timings["localize"] + timings["segment"]) / total
        print(f"{name:<14}" + "".join(f"{timings[s]:>12.2f}" for s in stages) + f"{total:>10.2f}{other:>9.0%}"
              f"{run['cold']:>9.2f}{run['peak']:>13.0f}{gflop:>11.1f}{rate:>9.1f}{rate / peak_matmul:>10.2f}")


if __name__ == "__main__":
    app.run(main)
