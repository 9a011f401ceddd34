"""Shared benchmark helpers: the machine's float32 matmul rate and network FLOP counts (same process)."""
from __future__ import annotations

import time

import keras
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
