"""tf.distribute strategies for training, chosen by `--distribution`.

- `default`: one device (TensorFlow's default strategy).
- `mirrored`: `tf.distribute.MirroredStrategy` over all local GPUs, or the devices named by `--devices`
  (e.g. `/gpu:0,/gpu:1`; `/cpu:0,/cpu:1` splits the CPU into that many logical devices, for testing).
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy` over the machines of the standard `TF_CONFIG`
  cluster spec (each machine runs the same command with its own `task.index`; worker 0 is the chief).
"""
from __future__ import annotations

import os

import tensorflow as tf

DISTRIBUTIONS = ("default", "mirrored", "multi_worker")


def make_strategy(kind: str, devices: list[str] | None = None) -> tf.distribute.Strategy:
    """The strategy for `kind` (one of DISTRIBUTIONS)."""
    if kind == "default":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        cpus = [d for d in devices or [] if d.lower().startswith(("/cpu:", "cpu:"))]
        if len(cpus) > 1:
            logical_cpus(len(cpus))
        return tf.distribute.MirroredStrategy(devices or None)
    if kind == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--distribution multi_worker needs the TF_CONFIG environment variable (cluster spec)")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown distribution {kind!r}; expected one of {', '.join(DISTRIBUTIONS)}")


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the worker that writes checkpoints, summaries and exports (worker 0, or the only one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not cluster or resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def logical_cpus(count: int) -> None:
    """Splits the CPU into `count` logical devices (/cpu:0 ... /cpu:count-1) for MirroredStrategy on a
    machine without GPUs; call before TensorFlow initialises its devices."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
