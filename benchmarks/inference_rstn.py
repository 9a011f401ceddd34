"""RSTN inference benchmark: seconds and peak RSS per stage (coarse X / Y / Z, fusion, each fine round) for a
512 x 512 x N CT, for a model set and at the paper configuration (timing only: weights after one gradient step),
in that order (memory the paper configuration's large networks took is not given back to the process); or, with
--mode segment, one call of a model set's `segment` signature (the whole loop in the graph) on the same volume.

Usage: python benchmarks/inference_rstn.py [--slices 240] [--rounds 2] [--slice_batch 4] [--fine_slice_batch 8]
       [--model_set saved_models/pancreas_rstn] [--max_stacks 0] [--nopaper]
       python benchmarks/inference_rstn.py --mode segment --model_set saved_models/pancreas_rstn [--slices 240]
       [--slice_batch 4]

The volume is an NIH-like phantom (0.8 mm in-plane, 1 mm slices); fine rounds start from its true pancreas mask, so
their cost is that of a real organ's box. Each is one round of `segment`'s loop (`rstn.rounds_graph.fine_round`: the
three planes' fine stages, their mean, threshold, post-processing and inter-round DSC in one graph; a model set's
`fine_round` signature, or the same function traced for the paper configuration), run --rounds times without the
stop rule: a round whose mask comes out empty is followed by one from the true mask again, so that every round timed
does the work of a real one. The networks'
GFLOPs come from TensorFlow's profiler at the shapes run (for a fine round: the saliency module on every active
stack of the round's region plus the fine network on each stack's box), and the achieved rates are set against this
machine's float32 matmul rate measured in the same run. With --max_stacks N only N stacks per plane are run and the
plane's time is scaled to all its stacks (said so in the output); 0 runs everything. The original reports about
25-32 s per volume for coarse-to-fine testing on a Titan Xp GPU.

--mode segment times `segment(volume, slice_batch)` as the entrypoint and `rstn.evaluate` call it, after a call on a
small cut of the volume (which sets the graph up): the rounds start from the coarse fusion and stop by the set's own
rule (inter-round DSC, maximum rounds), so their number is printed; seconds and peak RSS of the call, and its GFLOP
rate against the matmul rate where the masks the rounds started from are known (round 0 and at most one fine round:
`segment` returns round 0's and the last round's masks only). --rounds, --fine_slice_batch, --max_stacks and
--paper do not apply.
"""
from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks.common import matmul_gflops, model_gflop, reset_peak_rss  # noqa: E402
from inference.batch import peak_rss_mb  # noqa: E402
from networks.config_io import config_from_dict  # noqa: E402
from rstn.config import PLANES, RSTNConfig  # noqa: E402
from rstn.crop import mask_box  # noqa: E402
from rstn.fusion import fused_mask, mean_of_planes  # noqa: E402
from rstn.model import MODE_CODES  # noqa: E402
from rstn.model_set import load_rstn  # noqa: E402
from rstn.planes import PLANE_AXES  # noqa: E402
from rstn.training import build_rstn, rstn_loss  # noqa: E402
from rstn.rounds_graph import planes_fine_round  # noqa: E402
from rstn.volume_inference import fine_region, model_coarse_probabilities  # noqa: E402
from serving import read_metadata  # noqa: E402

flags.DEFINE_enum("mode", "stages", ["stages", "segment"],
                  "stages: each stage of the model set (--model_set) and of the paper configuration (--paper); "
                  "segment: one call of the model set's `segment` signature (needs --model_set).")
flags.DEFINE_integer("slices", 240, "Slices of the 512 x 512 test volume.")
flags.DEFINE_integer("rounds", 2, "Fine rounds to time.")
flags.DEFINE_integer("slice_batch", 4, "Stacks per network call in the coarse stage (with --mode segment: in every "
                     "stage, `segment`'s slice_batch).")
flags.DEFINE_integer("fine_slice_batch", 8, "Stacks per fine call (each keeps its own box: same result at any).")
flags.DEFINE_bool("paper", True, "Also time the paper configuration (about 15 minutes with --max_stacks 24).")
flags.DEFINE_string("model_set", None, "Also time this RSTN model set's configuration (its weights).")
flags.DEFINE_integer("max_stacks", 0, "Run at most this many stacks per plane and scale (0: all).")
FLAGS = flags.FLAGS


def phantom(slices: int) -> tuple[np.ndarray, np.ndarray]:
    """(HU [z, y, x] float32, pancreas mask uint8) of an NIH-like 512 x 512 x `slices` phantom."""
    from preprocessing.synthetic.flare21 import Flare21PhantomConfig
    from preprocessing.synthetic.flare21 import phantom as abdomen

    config = Flare21PhantomConfig(in_plane_size=512, fov_mm=(410.0, 410.0), slice_thickness_mm=(1.0, 1.0),
                                  axial_extent_mm=(float(slices), float(slices)))
    image, label, _ = abdomen(np.random.default_rng(slices), config)
    return image.astype(np.float32), (label == 4).astype(np.uint8)


def one_step_model(config: RSTNConfig):
    """An RSTN after one plain gradient step (mode J, learning rate `config.learning_rate`) on a random stack, so
    that no layer is still all zeros; no optimizer, so that no momentum slots stay in memory."""
    model = build_rstn(config)
    label = np.zeros((1, 64, 64, 3), np.float32)
    label[0, 20:40, 20:40] = 1
    inputs = {"image": tf.random.uniform((1, 64, 64, 3)), "label": tf.constant(label),
              "mode": tf.constant([MODE_CODES["J"]]), "margins": tf.constant([[20, 20, 20, 20]])}
    with tf.GradientTape() as tape:
        loss = tf.add_n(list(rstn_loss(config)(model(inputs, training=True), label, True).values()))
    for variable, gradient in zip(model.trainable_variables, tape.gradient(loss, model.trainable_variables)):
        if gradient is not None:
            variable.assign_sub(config.learning_rate * gradient)
    return model


def limited(volume: np.ndarray, plane: str, max_stacks: int) -> tuple[np.ndarray, float]:
    """The volume cut to `max_stacks` slices of `plane` (and the factor that scales its time back), or itself."""
    axis = PLANE_AXES[plane][0]
    count = volume.shape[axis]
    if not max_stacks or max_stacks >= count:
        return volume, 1.0
    return np.take(volume, np.arange(max_stacks), axis=axis), count / max_stacks


def fine_round_gflop(model, mask: np.ndarray, config: RSTNConfig) -> float:
    """GFLOP of one fine round from the previous round's `mask` [z, y, x]: per plane, every stack that shows some
    of the mask runs the saliency module on the stack cut to the round's region (`fine_region`) and the fine
    network on the stack's box plus margin."""
    margins = tf.fill([4], config.crop_margin)
    fine_cost: dict[tuple[int, int], float] = {}
    total = 0.0
    for plane in PLANES:
        view = mask.transpose(PLANE_AXES[plane]) > 0
        reach = 1 if config.slice_thickness == 3 else 0
        start, end = fine_region(tf.constant(mask > 0), plane, config)
        region = (end - start).numpy()[list(PLANE_AXES[plane])]
        saliency = model_gflop(model.saliency, (1, *region[1:], 3))
        for index in range(view.shape[0]):
            stack = view[max(index - reach, 0):index + reach + 1]
            if not stack.any():
                continue
            box, _ = mask_box(tf.constant(stack.transpose(1, 2, 0)[np.newaxis]), margins)
            rows, columns = int(box[1] - box[0]), int(box[3] - box[2])
            if (rows, columns) not in fine_cost:
                fine_cost[rows, columns] = model_gflop(model.fine, (1, rows, columns, 3))
            total += saliency + fine_cost[rows, columns]
    return total


def coarse_gflop(model, volume: np.ndarray) -> list[float]:
    """GFLOP of each plane's coarse stage on `volume` [z, y, x]: the coarse network on every stack of the plane."""
    views = [volume.transpose(PLANE_AXES[plane]).shape for plane in PLANES]
    return [model_gflop(model.coarse, (1, *view[1:], 3)) * view[0] for view in views]


VOLUME = tf.TensorSpec([None, None, None], tf.float32)
MASK = tf.TensorSpec([None, None, None], tf.uint8)


def traced_stages(config: RSTNConfig, models: dict) -> tuple[dict, Callable]:
    """({plane: coarse(volume)}, fine_round(volume, score, mask) -> (score, mask)) as traced functions of Keras
    models."""
    batch, fine_batch = tf.constant(FLAGS.slice_batch), tf.constant(FLAGS.fine_slice_batch)
    coarse = {plane: tf.function(lambda v, m=model, p=plane: model_coarse_probabilities(v, p, m, config, batch),
                                 input_signature=[VOLUME]) for plane, model in models.items()}
    configs = {plane: config for plane in models}

    @tf.function(input_signature=[VOLUME, VOLUME, MASK])
    def fine_round(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        result = planes_fine_round(volume, score, mask, fine_batch, models, configs, config)
        return result.score, result.mask

    return coarse, fine_round


def load_set(model_set: str) -> tuple[object, RSTNConfig]:
    """(the model set's loaded `rstn` member, its config: plane X's, whose sizes the GFLOP counts use)."""
    member = load_rstn(model_set)
    return member, config_from_dict(RSTNConfig, read_metadata(member)["config"])


def saved_model_stages(model_set: str) -> tuple[dict, Callable, RSTNConfig]:
    """The same functions from a model set's SavedModel (its `coarse_<plane>` and `fine_round` signatures), and its
    config."""
    member, config = load_set(model_set)
    batch, fine_batch = tf.constant(FLAGS.slice_batch), tf.constant(FLAGS.fine_slice_batch)
    coarse = {p: (lambda v, f=member.signatures[f"coarse_{p}"]: f(volume=v, slice_batch=batch)["probabilities"])
              for p in PLANES}
    signature = member.signatures["fine_round"]

    def fine_round(volume: tf.Tensor, score: tf.Tensor, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        result = signature(volume=volume, score=score, mask=mask, slice_batch=fine_batch)
        return result["score"], result["mask"]

    return coarse, fine_round, config


def time_stages(name: str, config: RSTNConfig, coarse_fns: dict, fine_round: Callable, volume: np.ndarray,
                mask: np.ndarray, peak_matmul: float) -> None:
    """Prints seconds, peak RSS and GFLOP per stage, and the coarse and fine stages' rates against the matmul
    rate. Each stage's peak RSS is its own (restarted before it); the first row is the RSS with the networks
    loaded and warmed up. GFLOPs are counted after the timed stages, on a network built for the purpose."""
    small = tf.constant(volume[:4, :64, :64])
    for plane in PLANES:
        coarse_fns[plane](small)
    fine_round(small, tf.zeros_like(small), tf.ones(small.shape, tf.uint8))
    gc.collect()
    reset_peak_rss()
    rows, coarse = [("networks loaded, volume read", 0.0, peak_rss_mb())], []
    for plane in PLANES:
        part, scale = limited(volume, plane, FLAGS.max_stacks)
        reset_peak_rss()
        start = time.perf_counter()
        result = coarse_fns[plane](tf.constant(part)).numpy()
        seconds = (time.perf_counter() - start) * scale
        rows.append((f"coarse {plane}" + (" (scaled)" if scale > 1 else ""), seconds, peak_rss_mb()))
        coarse.append(result if scale == 1 else np.zeros(volume.shape, np.float32))
    reset_peak_rss()
    start = time.perf_counter()
    fused_mask(mean_of_planes(coarse), config.fine_threshold)
    rows.append(("fusion", time.perf_counter() - start, peak_rss_mb()))

    volume_tensor = tf.constant(volume)
    score, round_masks = tf.constant(mask.astype(np.float32)), [mask]
    for round_index in range(1, FLAGS.rounds + 1):
        reset_peak_rss()
        start = time.perf_counter()
        score, mask_now = fine_round(volume_tensor, score, tf.constant(round_masks[-1]))
        mask_now = mask_now.numpy()
        round_masks.append(mask_now if mask_now.any() else mask)
        rows.append((f"fine round {round_index}", time.perf_counter() - start, peak_rss_mb()))
    flop_model = build_rstn(config)
    coarse_flop = coarse_gflop(flop_model, volume)
    fine_flop = [fine_round_gflop(flop_model, previous, config) for previous in round_masks[:-1]]
    gflops = [0.0] + coarse_flop + [0.0] + fine_flop
    z, y, x = volume.shape
    print(f"\n{name}: {x}x{y}x{z} volume, slice batch coarse {FLAGS.slice_batch} / fine {FLAGS.fine_slice_batch}, "
          "fine rounds from the true mask")
    print(f"{'stage':<30}{'seconds':>10}{'peak RSS MB':>13}{'GFLOP':>10}")
    for (stage, seconds, rss), gflop in zip(rows, gflops):
        print(f"{stage:<30}{seconds:>10.2f}{rss:>13.0f}{gflop:>10.0f}")
    stages = (("coarse", sum(coarse_flop), sum(row[1] for row in rows[1:4])),
              ("fine", sum(fine_flop), sum(row[1] for row in rows[5:])))
    for stage, gflop, seconds in stages:
        if seconds:
            rate = gflop / seconds
            print(f"{stage} stage: {gflop:.0f} GFLOP in {seconds:.1f} s = {rate:.1f} GFLOP/s, "
                  f"{rate / peak_matmul:.2f} of this machine's matmul rate")
    print(f"all stages {sum(row[1] for row in rows):.1f} s")


def time_segment(model_set: str, volume: np.ndarray, peak_matmul: float) -> None:
    """Prints the seconds and peak RSS of one call of the set's `segment` on `volume` (after a call on a small cut of
    it), the fine rounds it ran, and its GFLOP rate against the matmul rate where every mask a round started from is
    known (at most one fine round: its mask is round 0's, `coarse_labels`)."""
    member, config = load_set(model_set)
    segment, batch = member.signatures["segment"], tf.constant(FLAGS.slice_batch)
    segment(volume=tf.constant(volume[:4, :64, :64]), slice_batch=batch)
    gc.collect()
    reset_peak_rss()
    start = time.perf_counter()
    result = segment(volume=tf.constant(volume), slice_batch=batch)
    seconds, rss = time.perf_counter() - start, peak_rss_mb()
    rounds, dscs = int(result["rounds"]), result["inter_round_dsc"].numpy()
    z, y, x = volume.shape
    print(f"\nmodel set {model_set}: segment on a {x}x{y}x{z} volume, slice batch {FLAGS.slice_batch}, rounds from "
          "the coarse fusion to the set's stop rule")
    print(f"segment: {seconds:.2f} s, peak RSS {rss:.0f} MB, {rounds} fine round(s)"
          + (f", last inter-round DSC {dscs[-1]:.4f}" if dscs.size else ""))
    if rounds > 1:
        print("GFLOP rate not given: segment returns round 0's and the last round's masks only, and a fine round's "
              "cost depends on the mask it starts from")
        return
    flop_model = build_rstn(config)
    gflop = sum(coarse_gflop(flop_model, volume))
    if rounds:
        gflop += fine_round_gflop(flop_model, result["coarse_labels"].numpy(), config)
    rate = gflop / seconds
    print(f"segment: {gflop:.0f} GFLOP in {seconds:.1f} s = {rate:.1f} GFLOP/s, {rate / peak_matmul:.2f} of this "
          "machine's matmul rate")


def main(argv: list[str]) -> None:
    del argv
    if FLAGS.mode == "segment" and not FLAGS.model_set:
        raise app.UsageError("--mode segment times a model set's `segment` signature: give --model_set")
    peak_matmul = matmul_gflops()
    print(f"machine float32 matmul: {peak_matmul:.1f} GFLOP/s (tf.matmul 2048x2048, same process)")
    volume, mask = phantom(FLAGS.slices)
    if FLAGS.mode == "segment":
        time_segment(FLAGS.model_set, volume, peak_matmul)
        return
    if FLAGS.model_set:
        coarse, fine_round, set_config = saved_model_stages(FLAGS.model_set)
        time_stages(f"model set {FLAGS.model_set}", set_config, coarse, fine_round, volume, mask, peak_matmul)
        del coarse, fine_round
    if not FLAGS.paper:
        return
    config = RSTNConfig()
    coarse, fine_round = traced_stages(config, {plane: one_step_model(config) for plane in PLANES})
    time_stages("paper configuration (weights after one gradient step)", config, coarse, fine_round, volume, mask,
                peak_matmul)


if __name__ == "__main__":
    app.run(main)
