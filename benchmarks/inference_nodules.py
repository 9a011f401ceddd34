"""Lung nodule inference benchmark: seconds per stage and peak RSS for a 512x512x300 chest CT DICOM series
(0.7 mm in-plane, 1.25 mm slices), and the detector's throughput against this machine's matmul rate.

Usage: python benchmarks/inference_nodules.py [--saved_models_folder saved_models] [--model lidc_nodules]
       [--slices 300] [--repeats 2]

The scan is an LIDC phantom (`preprocessing.synthetic.lidc`) written as a DICOM series by a child process, so
the peak RSS is that of reading and running the set only. Stages are the pipeline's own (read, preprocess: lung
mask + 1 mm volume; detect: the detector over all cubes + decoding + NMS; segment: crop model per reported
nodule; write). The detector network alone is then timed on one cube of the size the pipeline runs (best of
--repeats), for the shipped set's detector and for the original's widths (DeepLung Res18, random weights), and its
GFLOP/s is set against the float32 matmul rate measured in the same run.
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
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks.common import matmul_gflops, model_gflop  # noqa: E402
from inference.batch import peak_rss_mb  # noqa: E402
from inference.inputs import CaseInput  # noqa: E402
from inference.model_sets import find_model_sets  # noqa: E402
from inference.pipeline import RunOptions, canonical_images  # noqa: E402
from inference.results import write_result  # noqa: E402
from nodules.config import DetectorConfig  # noqa: E402
from nodules.detector import build_detector  # noqa: E402
from nodules.pipeline import NodulePipeline  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("model", "lidc_nodules", "The nodule model set to time.")
flags.DEFINE_integer("slices", 300, "Slices of the 512x512 test scan (1.25 mm apart).")
flags.DEFINE_integer("repeats", 2, "Timed runs of the detector on one cube (best taken).")
FLAGS = flags.FLAGS

PIXEL_MM, SLICE_MM = 0.7, 1.25


def write_scan(folder: str, slices: int) -> None:
    from preprocessing.synthetic import lidc

    extent = SLICE_MM * slices
    config = lidc.LidcPhantomConfig(in_plane_size=512, field_of_view_mm=(512 * PIXEL_MM,) * 2,
                                    slice_thickness_mm=(SLICE_MM, SLICE_MM), axial_extent_mm=(extent, extent),
                                    nodule_free_probability=0.0)
    rng = np.random.default_rng(slices)
    lidc.write_scan(folder, lidc.phantom(rng, config), "LIDC-IDRI-9999", "9999", rng)


def cube_seconds(network, config: DetectorConfig, repeats: int) -> float:
    """Best seconds of one forward pass of `network` ({'image', 'coord'} -> outputs) on one cube of `config`'s
    test size with its context (after a warm-up)."""
    side = config.test_side + 2 * config.test_margin
    inputs = {"image": tf.zeros((1, side, side, side, 1)), "coord": tf.zeros((1, *(side // config.stride,) * 3, 3))}
    run = tf.function(network)
    run(inputs)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.asarray(run(inputs))
        times.append(time.perf_counter() - start)
    return min(times)


def detector_row(name: str, network, config: DetectorConfig, volume_shape: tuple[int, ...], peak_matmul: float,
                 repeats: int) -> str:
    """One table row: GFLOP per cube (the architecture of `config`), seconds per cube, GFLOP/s, its share of the
    matmul rate, and seconds for the cubes covering a detector volume of `volume_shape`."""
    side = config.test_side + 2 * config.test_margin
    gflop = model_gflop(build_detector(config), {"image": (1, side, side, side, 1),
                                                 "coord": (1, *(side // config.stride,) * 3, 3)})
    seconds = cube_seconds(network, config, repeats)
    cubes = int(np.prod([np.ceil(n / config.test_side) for n in volume_shape]))
    return (f"{name:<34}{side:>6}{gflop:>11.1f}{seconds:>8.2f}{gflop / seconds:>9.1f}"
            f"{gflop / seconds / peak_matmul:>10.2f}{cubes:>7}{seconds * cubes:>9.1f}")


def main(argv: list[str]) -> None:
    del argv
    pipeline = NodulePipeline(find_model_sets(FLAGS.saved_models_folder)[FLAGS.model], RunOptions())
    peak_matmul = matmul_gflops()
    with tempfile.TemporaryDirectory() as folder:
        series = os.path.join(folder, "scan")
        child = multiprocessing.get_context("spawn").Process(target=write_scan, args=(series, FLAGS.slices))
        child.start()
        child.join()
        start = time.perf_counter()
        images = pipeline.read(CaseInput("scan", (series,)))
        canonical, _ = canonical_images(images)
        read_seconds = time.perf_counter() - start
        result = pipeline.predict(canonical, {})
        start = time.perf_counter()
        write_result(result, os.path.join(folder, "scan"), pipeline.output_suffix)
        timings = {"read": read_seconds, **result.timings, "write": time.perf_counter() - start}
    rss = peak_rss_mb()
    shape = result.network_inputs["detector"]
    stages = ["read", "preprocess", "detect", "segment", "write"]
    print(f"machine float32 matmul: {peak_matmul:.1f} GFLOP/s (tf.matmul 2048x2048, same process)")
    print(f"scan 512x512x{FLAGS.slices} at {PIXEL_MM} x {PIXEL_MM} x {SLICE_MM} mm (DICOM series); detector volume "
          f"{'x'.join(map(str, shape))} at 1 mm; {len(result.findings)} nodules reported")
    print("".join(f"{s + ' s':>13}" for s in stages) + f"{'total s':>10}{'peak RSS MB':>13}")
    print("".join(f"{timings[s]:>13.2f}" for s in stages) + f"{sum(timings.values()):>10.2f}{rss:>13.0f}")
    print(f"{'detector network alone':<34}{'cube':>6}{'GFLOP/cube':>11}{'s/cube':>8}{'GFLOP/s':>9}{'of matmul':>10}"
          f"{'cubes':>7}{'s/scan':>9}")
    signature = pipeline.members["detector"].signatures["serving_default"]
    print(detector_row(f"{FLAGS.model} (shipped)", lambda x: signature(**x)["outputs"], pipeline.detector_config,
                       shape, peak_matmul, FLAGS.repeats))
    original = build_detector(DetectorConfig())
    print(detector_row("original widths (DeepLung Res18)", lambda x: original(x, training=False), DetectorConfig(),
                       shape, peak_matmul, FLAGS.repeats))


if __name__ == "__main__":
    app.run(main)
