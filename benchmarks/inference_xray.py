"""Chest X-ray inference benchmark on clinical-size radiographs: seconds per image by stage, images per hour for a
folder (pipelined), peak RSS, and the network's rate against this machine's matmul rate.

Usage: python benchmarks/inference_xray.py [--saved_models_folder saved_models] [--model cxr_lungs] [--repeats 3]
       [--folder_images 200]

Inputs (phantoms written in a child process): a 4020 x 4892 16-bit PNG (12-bit values, Montgomery's film size)
and a 3000 x 3000 DICOM DX (MONOCHROME1, 12 bits stored, VOI LUT Sequence). Each image goes through the pipeline's
own `load` (read + grey-value conversion), `compute` (the SavedModel's `segment`: resize, network, resize back; then
the quality estimate from the probabilities) and `save` (PNG mask + findings JSON), after one warm-up; the peak RSS is
the process's own, restarted before each input. The folder throughput runs the batch (read / compute / write
overlapped, the entrypoint's default) over `--folder_images` hard links of the PNG.
"""
from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks.common import matmul_gflops, model_gflop, reset_peak_rss  # noqa: E402
from cfcm.config import CFCMConfig  # noqa: E402
from cfcm.model import build_cfcm_model  # noqa: E402
from cfcm.pipeline import CFCMPipeline  # noqa: E402
from inference.batch import CaseStages, peak_rss_mb, run_batch  # noqa: E402
from inference.inputs import CaseInput  # noqa: E402
from inference.model_sets import find_model_sets  # noqa: E402
from inference.pipeline import RunOptions  # noqa: E402
from networks.config_io import config_from_dict  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("model", "cxr_lungs", "The CFCM model set to time.")
flags.DEFINE_integer("repeats", 3, "Timed images per input (after one warm-up).")
flags.DEFINE_integer("folder_images", 200, "Images of the folder whose throughput is measured (0: skip).")
FLAGS = flags.FLAGS
PNG_SIZE = (4892, 4020)   # rows, columns
DICOM_SIZE = (3000, 3000)


def write_inputs(folder: str) -> None:
    """Writes `film.png` (16-bit, 12-bit values) and `film.dcm` (DX, MONOCHROME1, VOI LUT) into `folder`."""
    from preprocessing.synthetic.montgomery import MontgomeryPhantomConfig, phantom
    from preprocessing.synthetic.xray_dicom import write_xray_dicom

    rng = np.random.default_rng(0)
    film, _, _ = phantom(rng, MontgomeryPhantomConfig(long_side=(max(PNG_SIZE),) * 2,
                                                      aspect=(PNG_SIZE[0] / PNG_SIZE[1],) * 2))
    cv2.imwrite(os.path.join(folder, "film.png"), film.astype(np.uint16) * 16)
    film, _, _ = phantom(rng, MontgomeryPhantomConfig(long_side=(max(DICOM_SIZE),) * 2, aspect=(1.0, 1.0)))
    write_xray_dicom(os.path.join(folder, "film.dcm"), film, "1", "DX", "MONOCHROME1", 12, "lut", spacing_mm=0.143)


def stage_seconds(pipeline: CFCMPipeline, path: str, output_base: str, repeats: int) -> dict[str, list[float]]:
    """Seconds of each stage (load, segment, quality, save) over `repeats` runs, after one warm-up."""
    case = CaseInput(os.path.basename(output_base), (path,))
    times: dict[str, list[float]] = {}
    for run in range(repeats + 1):
        start = time.perf_counter()
        loaded = pipeline.load(case)
        loaded_at = time.perf_counter()
        computed = pipeline.compute(case, loaded)
        report = pipeline.save(case, computed, output_base)
        if run:
            for stage, seconds in {"load": loaded_at - start, **report.timings}.items():
                times.setdefault(stage, []).append(seconds)
    return times


def main(argv: list[str]) -> None:
    del argv
    model_set = find_model_sets(FLAGS.saved_models_folder)[FLAGS.model]
    pipeline = CFCMPipeline(model_set, RunOptions())
    config = config_from_dict(CFCMConfig, pipeline.metadata["segmentation"]["config"])
    gflop = model_gflop(build_cfcm_model(config), (1, config.image_size, config.image_size, 1))
    peak_matmul = matmul_gflops()
    with tempfile.TemporaryDirectory() as folder:
        child = multiprocessing.get_context("spawn").Process(target=write_inputs, args=(folder,))
        child.start()
        child.join()
        rows = []
        for name, size in (("film.png", PNG_SIZE), ("film.dcm", DICOM_SIZE)):
            reset_peak_rss()
            times = stage_seconds(pipeline, os.path.join(folder, name), os.path.join(folder, "out"), FLAGS.repeats)
            rows.append((f"{size[1]}x{size[0]} {name.split('.')[1].upper()}", times, peak_rss_mb()))
        folder_rate = None
        if FLAGS.folder_images:
            inputs = os.path.join(folder, "many")
            os.makedirs(inputs)
            cases = []
            for index in range(FLAGS.folder_images):
                path = os.path.join(inputs, f"film{index:03d}.png")
                os.link(os.path.join(folder, "film.png"), path)
                cases.append(CaseInput(f"film{index:03d}", (path,)))
            stages = CaseStages(pipeline.load, pipeline.compute, pipeline.save)
            reset_peak_rss()
            start = time.perf_counter()
            results = run_batch(cases, os.path.join(folder, "many_out"), lambda case: ".png", stages, overwrite=True,
                                pipelined=True)
            elapsed = time.perf_counter() - start
            assert all(r.status == "ok" for r in results), [r.error for r in results if r.status != "ok"]
            folder_rate = (3600 * FLAGS.folder_images / elapsed, elapsed, peak_rss_mb())
    stages = ["load", "segment", "quality", "write"]
    print(f"model set {FLAGS.model}: ResNet-{config.resnet_depth}, {config.base_filters} base filters, "
          f"{'memory' if config.memory else 'no memory'}, input {config.image_size}^2, {gflop:.2f} GFLOP per run")
    print(f"machine float32 matmul: {peak_matmul:.1f} GFLOP/s (tf.matmul 2048x2048, same process)")
    print(f"{'input':<16}" + "".join(f"{s + ' s':>11}" for s in stages) + f"{'total s':>10}{'peak RSS MB':>13}"
          f"{'net share of matmul*':>22}")
    for label, times, rss in rows:
        medians = {stage: statistics.median(times[stage]) for stage in stages}
        network_rate = gflop / medians["segment"]
        print(f"{label:<16}" + "".join(f"{medians[s]:>11.3f}" for s in stages)
              + f"{sum(medians.values()):>10.3f}{rss:>13.0f}{network_rate / peak_matmul:>22.3f}")
    print("* the network's GFLOP over the segment seconds, against the matmul rate: a lower bound of the network's own "
          "share (the resizes to and from the film's size are in those seconds)")
    if folder_rate:
        rate, elapsed, rss = folder_rate
        print(f"folder of {FLAGS.folder_images} PNG films, pipelined: {elapsed:.1f} s, {rate:.0f} images/hour, "
              f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    app.run(main)
