"""Shared benchmark helpers: the machine's float32 matmul rate and copy bandwidth, memory of this process and network
FLOP counts (all measured in the same process)."""
from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    """Measured float32 matrix-multiply rate of this machine in GFLOP/s (TensorFlow, after one warm-up)."""
    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    tf.matmul(a, b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        result = tf.matmul(a, b)
    result.numpy()
    return 2.0 * size ** 3 * repeats / (time.perf_counter() - start) / 1e9


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB (Linux: VmRSS and VmHWM of /proc/self/status; the
    peak counts from the process start or the last `reset_peak_rss`; unlike getrusage's, it does not include the
    parent's memory in a child process)."""
    with open("/proc/self/status") as handle:
        fields = dict(line.split(":", 1) for line in handle if line.startswith(("VmRSS", "VmHWM")))
    return float(fields["VmRSS"].split()[0]) / 1024, float(fields["VmHWM"].split()[0]) / 1024


def copy_bandwidth_gbs(megabytes: int = 1024, repeats: int = 5) -> float:
    """This machine's memory bandwidth in GB/s as a NumPy copy of a `megabytes` array moves it (bytes read plus
    bytes written; best of `repeats`, after one warm-up)."""
    source = np.ones(megabytes * 2 ** 20 // 4, np.float32)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats + 1):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.nbytes / best / 1e9


def reset_peak_rss() -> None:
    """Restarts this process's peak resident memory (`inference.batch.peak_rss_mb`) from its current RSS, so that a
    stage's peak is its own and not an earlier stage's (Linux: writes 5 to /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def model_gflop(model: keras.Model, input_shape: tuple[int, ...] | dict[str, tuple[int, ...]]) -> float:
    """Floating point operations (GFLOP) of one forward pass of `model` on a float32 input of `input_shape` (for a
    model with named inputs, {name: shape})."""
    if isinstance(input_shape, dict):
        spec = {name: tf.TensorSpec(shape, tf.float32) for name, shape in input_shape.items()}
    else:
        spec = tf.TensorSpec(input_shape, tf.float32)
    concrete = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph=concrete.graph, options=options)
    return profile.total_float_ops / 1e9


def write_ct_phantom(path: str, slices: int) -> None:
    """Writes a FLARE21-like 512 x 512 x `slices` CT phantom (0.8 mm in-plane, 2.5 mm slices; seeded by `slices`)."""
    from preprocessing.image_io import write_image
    from preprocessing.synthetic.flare21 import Flare21PhantomConfig, phantom

    config = Flare21PhantomConfig(in_plane_size=512, fov_mm=(410.0, 410.0), slice_thickness_mm=(2.5, 2.5),
                                  axial_extent_mm=(2.5 * slices, 2.5 * slices))
    image, _, geometry = phantom(np.random.default_rng(slices), config)
    write_image(image, geometry, path)
