"""Resampling benchmark: the CT pipeline's preprocessing (Gaussian smoothing + linear resampling + window,
`inference.tf_utils.network_input`) of a 512x512xN CT at 0.8 x 0.8 x 2.5 mm onto the localization grid (6 mm,
sigma 3 mm, the whole volume) and onto the SCN grid (2 mm, sigma 1 mm, an organ box), set against

- the memory-bandwidth bound: (bytes read + bytes written) / this machine's copy bandwidth, measured in the
  same run (`benchmarks.common.copy_bandwidth_gbs`); read = the part of the volume the grid needs;
- the same work done as before issue 12 (convolution along each axis, then gathers; `tf_smoothing.gaussian_filter`
  + `tf_sampling.resample_axis_aligned`, both still in the code base);
- SimpleITK (`SmoothingRecursiveGaussian` + `Resample`, linear, the same grid, its own threads).

Extra memory is the peak RSS during a variant's first call in a fresh process minus the RSS before it, as a
multiple of the input volume's size. Each variant runs `--repeats` times, interleaved; min and median seconds are
printed.

Usage: python benchmarks/resampling.py [--slices 300] [--repeats 5]
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

import numpy as np  # noqa: E402
import SimpleITK as sitk  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks.common import copy_bandwidth_gbs, reset_peak_rss, rss_mb  # noqa: E402
from inference.tf_utils import network_input, whole_volume_box  # noqa: E402
from localization.config import LocalizationConfig  # noqa: E402
from preprocessing.network_grid import needed_region, padded_valid_sizes  # noqa: E402
from preprocessing.tf_sampling import resample_axis_aligned  # noqa: E402
from preprocessing.tf_smoothing import gaussian_filter  # noqa: E402
from scn.config import SCNConfig  # noqa: E402

flags.DEFINE_integer("slices", 300, "Slices of the 512 x 512 test volume.")
flags.DEFINE_integer("repeats", 5, "Timed runs per variant.")
FLAGS = flags.FLAGS

SPACING = (2.5, 0.8, 0.8)  # mm, z, y, x
ORGAN_BOX_MM = (250.0, 200.0, 250.0)  # z, y, x extent of the SCN region, centred in the volume


def grid_of(volume: tf.Tensor, start_mm, end_mm, config) -> dict:
    """The network input of a region as the pipeline makes it (shape, spacing and offset of its grid)."""
    return traced_network_input(volume, tf.constant(SPACING), tf.constant(start_mm, tf.float32),
                         tf.constant(end_mm, tf.float32), tf.constant(config.spacing_mm, tf.float32),
                         tf.constant(config.input_sigma_mm, tf.float32), tf.constant([-1000.0, 1000.0]),
                         padded_valid_sizes(config.valid_sizes), tf.constant(config.spacing_tolerance, tf.float32),
                         tf.constant(config.size_multiple), tf.constant(True))


traced_network_input = tf.function(network_input)


@tf.function
def before_issue_12(volume, spacing, grid_shape, grid_spacing, offset_mm, sigma_mm):
    """Convolution along each axis of the needed part, then linear gathers (what `smooth_and_resample` did)."""
    low, high, first = needed_region(tf.shape(volume), spacing, grid_shape, grid_spacing, offset_mm, sigma_mm)
    smoothed = gaussian_filter(tf.slice(volume, low, high - low)[..., None], sigma_mm / spacing)[..., 0]
    return resample_axis_aligned(smoothed, grid_shape, grid_spacing / spacing, first - tf.cast(low, tf.float32),
                                 "linear", -1024.0)


def simpleitk(image: sitk.Image, grid: dict, sigma_mm: float) -> np.ndarray:
    """SimpleITK's smoothing and linear resampling onto the same grid (x, y, z order)."""
    smoothed = sitk.SmoothingRecursiveGaussian(image, sigma_mm)
    shape = grid["image"].shape[1:4]
    spacing = float(grid["grid_spacing"])
    return sitk.GetArrayViewFromImage(sitk.Resample(
        smoothed, [int(n) for n in shape[::-1]], sitk.Transform(), sitk.sitkLinear,
        [float(v) for v in grid["offset_mm"].numpy()[::-1]], [spacing] * 3, image.GetDirection(), -1024.0))


def test_volume(slices: int) -> np.ndarray:
    """A 512 x 512 x `slices` float32 volume [z, y, x] of random HU (the work does not depend on the values)."""
    return np.random.default_rng(0).normal(0.0, 300.0, (slices, 512, 512)).astype(np.float32)


def regions(shape: tuple[int, ...]) -> dict:
    """{name: (box {'start_mm', 'end_mm'}, network config)}: the localization's whole volume, an SCN organ box."""
    centre = np.array(shape) * SPACING / 2.0 - np.array(SPACING) / 2.0
    return {"localization (whole volume, 6 mm)": (whole_volume_box(tf.constant(shape), tf.constant(SPACING)),
                                                  LocalizationConfig()),
            "SCN (organ box, 2 mm)": ({"start_mm": centre - np.array(ORGAN_BOX_MM) / 2,
                                       "end_mm": centre + np.array(ORGAN_BOX_MM) / 2}, SCNConfig())}


def variants(array: np.ndarray, region: str) -> tuple[dict, dict]:
    """({variant: function}, the pipeline's network input of `region`) for a volume."""
    box, config = regions(array.shape)[region]
    volume = tf.constant(array)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(SPACING[::-1])
    grid = grid_of(volume, box["start_mm"], box["end_mm"], config)
    shape = tf.constant(grid["image"].shape[1:4])
    grid_spacing = grid["grid_spacing"] * tf.ones([3])
    sigma = tf.constant(config.input_sigma_mm, tf.float32)
    return {"this project": lambda: grid_of(volume, box["start_mm"], box["end_mm"], config)["image"].numpy(),
            "before issue 12": lambda: before_issue_12(volume, tf.constant(SPACING), shape, grid_spacing,
                                                       grid["offset_mm"], sigma).numpy(),
            "SimpleITK": lambda: simpleitk(image, grid, config.input_sigma_mm)}, grid


def extra_memory_mb(slices: int, region: str, variant: str) -> float:
    """Peak RSS during the first call of a variant minus the RSS before it, in a fresh process (run in a child:
    a process that already ran it keeps the memory and shows no growth)."""
    runs, _ = variants(test_volume(slices), region)
    gc.collect()
    reset_peak_rss()
    before, _ = rss_mb()
    runs[variant]()
    return rss_mb()[1] - before


def main(argv: list[str]) -> None:
    del argv
    bandwidth = copy_bandwidth_gbs()
    print(f"machine copy bandwidth: {bandwidth:.1f} GB/s (NumPy copy of 1 GiB, read + write, same process)")
    array = test_volume(FLAGS.slices)
    input_mb = array.nbytes / 2 ** 20
    print(f"volume {array.shape[2]}x{array.shape[1]}x{array.shape[0]} float32 ({input_mb:.0f} MB) at "
          f"{SPACING[2]} x {SPACING[1]} x {SPACING[0]} mm")
    for name, (box, config) in regions(array.shape).items():
        runs, grid = variants(array, name)
        shape = grid["image"].shape[1:4]
        start_index = np.clip(np.floor(np.asarray(box["start_mm"]) / SPACING), 0, array.shape)
        end_index = np.clip(np.ceil(np.asarray(box["end_mm"]) / SPACING), 0, array.shape)
        read_mb = np.prod(end_index - start_index) * 4 / 2 ** 20
        written_mb = np.prod(shape) * 4 / 2 ** 20
        bound = (read_mb + written_mb) * 2 ** 20 / 1e9 / bandwidth
        seconds = {key: [] for key in runs}
        for run in runs.values():
            run()
        for _ in range(FLAGS.repeats):
            for key, run in runs.items():
                start = time.perf_counter()
                run()
                seconds[key].append(time.perf_counter() - start)
        with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
            extra = {key: pool.apply(extra_memory_mb, (FLAGS.slices, name, key)) for key in runs}
        print(f"\n{name}: grid {shape[2]}x{shape[1]}x{shape[0]} at {float(grid['grid_spacing']):.2f} mm, "
              f"sigma {config.input_sigma_mm} mm; bandwidth bound {bound * 1000:.0f} ms "
              f"({read_mb:.0f} MB read + {written_mb:.1f} MB written)")
        print(f"{'variant':<18}{'min s':>8}{'median s':>10}{'/ bound':>9}{'extra MB':>10}{'/ input':>9}")
        for key, times in seconds.items():
            print(f"{key:<18}{min(times):>8.3f}{statistics.median(times):>10.3f}{min(times) / bound:>9.2f}"
                  f"{extra[key]:>10.0f}{extra[key] / input_mb:>9.2f}")


if __name__ == "__main__":
    app.run(main)
