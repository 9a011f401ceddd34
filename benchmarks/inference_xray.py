"""End-to-end chest X-ray inference benchmark: images per second and peak RSS, CFCM vs plain ResNet.

Usage: python benchmarks/inference_xray.py [--saved_models_folder saved_models] [--model montgomery_cfcm] [--repeats 3]

For 4020x4892 and 2048x2048 8-bit PNG inputs: read, in-graph normalisation + letterbox + network + resize
back (the exported `segment` signature), write. The memory ('LSTMResNet') model is the shipped
`saved_models/montgomery_cfcm`; the no-memory ('ResNet') variant of the same configuration is built with random
weights in this process (speed does not depend on the weights). The networks' GFLOP per image come from
TensorFlow's profiler; achieved GFLOP/s are set against this machine's float32 matmul rate, measured here.
Peak RSS is the process peak after each size (inputs are generated in a child process).
"""
from __future__ import annotations

import dataclasses
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
from networks.config_io import config_from_dict  # noqa: E402
from cfcm.config import CFCMConfig  # noqa: E402
from cfcm.model import build_cfcm_model  # noqa: E402
from cfcm.pipeline import CFCMPipeline  # noqa: E402
from cfcm.segment import segment_image  # noqa: E402
from inference.batch import peak_rss_mb  # noqa: E402
from inference.inputs import CaseImages  # noqa: E402
from inference.model_sets import find_model_sets  # noqa: E402
from inference.pipeline import RunOptions  # noqa: E402
from preprocessing.image_geometry import ImageGeometry  # noqa: E402
from preprocessing.image_io import read_image, write_image  # noqa: E402

flags.DEFINE_string("saved_models_folder", "saved_models", "Folder of model sets.")
flags.DEFINE_string("model", "montgomery_cfcm", "The CFCM model set to time.")
flags.DEFINE_integer("repeats", 3, "Timed images per size and variant (after one warm-up).")
FLAGS = flags.FLAGS
SIZES = ((4892, 4020), (2048, 2048))


def write_xray(path: str, height: int, width: int) -> None:
    from preprocessing.synthetic.montgomery import MontgomeryPhantomConfig, phantom

    image, _, _ = phantom(np.random.default_rng(height), MontgomeryPhantomConfig(long_side=(max(height, width),) * 2,
                                                                                  aspect=(height / width,) * 2))
    write_image(image, ImageGeometry(image.shape[::-1], (1.0, 1.0), (0.0, 0.0), (1.0, 0.0, 0.0, 1.0)), path)


def time_variant(segment, path: str, output: str, repeats: int) -> float:
    """Seconds per image end to end (read, segment, write), after one warm-up."""
    def once() -> None:
        image, geometry = read_image(path, ndim=2)
        labels = segment(image)
        write_image((labels > 0).astype(np.uint8) * 255, geometry, output)

    once()
    start = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - start) / repeats


def main(argv: list[str]) -> None:
    del argv
    shipped = CFCMPipeline(find_model_sets(FLAGS.saved_models_folder)[FLAGS.model], RunOptions())
    values = shipped.metadata["segmentation"]["config"]
    config = config_from_dict(CFCMConfig, values)
    plain = build_cfcm_model(dataclasses.replace(config, memory=False))
    plain_segment = tf.function(lambda image: segment_image(lambda x: plain(x, training=False), image, config))
    variants = {
        "LSTMResNet (shipped)": (lambda image: shipped.predict(CaseImages((image,), None), {}).labels,
                                 build_cfcm_model(config)),
        "ResNet (no memory)": (lambda image: plain_segment(tf.constant(image, tf.float32))["labels"].numpy(), plain),
    }
    peak_matmul = matmul_gflops()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for height, width in SIZES:
            path = os.path.join(folder, f"xray_{height}x{width}.png")
            child = multiprocessing.get_context("spawn").Process(target=write_xray, args=(path, height, width))
            child.start()
            child.join()
            for name, (segment, model) in variants.items():
                seconds = time_variant(segment, path, os.path.join(folder, "mask.png"), FLAGS.repeats)
                gflop = model_gflop(model, (1, config.image_size, config.image_size, 1))
                rows.append((f"{width}x{height}", name, seconds, peak_rss_mb(), gflop))
    print(f"machine float32 matmul: {peak_matmul:.1f} GFLOP/s (tf.matmul 2048x2048, same process)")
    print(f"network input {config.image_size}x{config.image_size}, ResNet-{config.resnet_depth}, "
          f"{config.base_filters} base filters")
    print(f"{'image':<11}{'variant':<22}{'s/image':>9}{'images/s':>10}{'peak RSS MB':>13}{'net GFLOP':>11}"
          f"{'GFLOP/s*':>10}{'of matmul':>10}")
    for size, name, seconds, rss, gflop in rows:
        rate = gflop / seconds
        print(f"{size:<11}{name:<22}{seconds:>9.3f}{1 / seconds:>10.2f}{rss:>13.0f}{gflop:>11.2f}{rate:>10.1f}"
              f"{rate / peak_matmul:>10.3f}")
    print("* network GFLOP over the whole end-to-end time per image (a lower bound of the network's own rate)")


if __name__ == "__main__":
    app.run(main)
