"""Peer benchmark: this project against MONAI (PyTorch, CPU) and SimpleITK on the same work, in one process, with
every library limited to the same number of threads, variants interleaved and repeated; prints ours / theirs.

Needs the optional extra: pip install -e .[bench] (torch + MONAI; never needed by the product or its tests).

Usage: python benchmarks/peers/compare.py [--threads 2] [--repeats 5] [--slices 300]

(a) resample + window of a 512x512xN CT at 0.8 x 0.8 x 2.5 mm onto 2 mm voxels (linear, no smoothing; window
    [-1000, 1000] HU to [-1, 1]): this project's traced preprocessing (`network_grid.smooth_and_resample`, sigma 0)
    vs MONAI `Spacing` + `ScaleIntensityRange` vs SimpleITK `Resample`.
(b) sliding-window inference with Gaussian blending (64^3 windows, overlap 0.5, 4 windows per call) of an
    identical 4-layer network (the same weights in Keras and PyTorch) over a 128x160x160 volume: this project's
    `sliding_window_inference` vs MONAI's `sliding_window_inference`, end to end and for the window loop alone
    (network replaced by a precomputed output). The two tilings differ (MONAI steps by int(roi x (1 - overlap))
    with the last window at the end, we spread the windows evenly), so the outputs are compared where every
    window of both tilings that covers a voxel sees that voxel's whole receptive field.
(c) end to end per case with the shipped CT set (read -> write), this project only: MONAI has no such pipeline.
"""
from __future__ import annotations

import itertools
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

from absl import app, flags  # noqa: E402

flags.DEFINE_integer("threads", 2, "Threads for every library.")
flags.DEFINE_integer("repeats", 5, "Timed runs per variant (interleaved).")
flags.DEFINE_integer("slices", 300, "Slices of the 512 x 512 CT of (a) and (c).")
FLAGS = flags.FLAGS

SPACING = (2.5, 0.8, 0.8)  # mm, z, y, x
TARGET_MM = 2.0
WINDOW_HU = (-1000.0, 1000.0)
VOLUME_B = (128, 160, 160)  # z, y, x
ROI = (64, 64, 64)
OVERLAP = 0.5
BATCH = 4
CHANNELS = 3
FILTERS = 16
KERNEL = 3
LAYERS = 4


def timed(variants: dict, repeats: int) -> dict:
    """{name: seconds of each run}: every variant once untimed, then `repeats` rounds, one run of each per round."""
    for run in variants.values():
        run()
    seconds = {name: [] for name in variants}
    for _ in range(repeats):
        for name, run in variants.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def report(title: str, seconds: dict, ours: str) -> None:
    print(f"\n{title}")
    print(f"{'variant':<40}{'min s':>9}{'median s':>10}{'ours / this (min)':>19}{'(median)':>10}")
    for name, times in seconds.items():
        median = statistics.median(times)
        print(f"{name:<40}{min(times):>9.3f}{median:>10.3f}{min(seconds[ours]) / min(times):>19.2f}"
              f"{statistics.median(seconds[ours]) / median:>10.2f}")


def resampling(volume, np, tf, torch, sitk, monai_transforms) -> None:
    """(a): the three resamplers onto the same 2 mm grid, outputs checked against each other."""
    from preprocessing import intensity
    from preprocessing.network_grid import smooth_and_resample

    shape = [int(round(n * s / TARGET_MM)) for n, s in zip(volume.shape, SPACING)]
    low, high = WINDOW_HU
    ours_fn = tf.function(lambda v: intensity.clip_shift_scale(
        smooth_and_resample(v, tf.constant(SPACING), tf.constant(shape), TARGET_MM, tf.zeros([3]), 0.0, low),
        low, high, -(low + high) / 2.0, 2.0 / (high - low)))
    tensor = tf.constant(volume)
    image = sitk.GetImageFromArray(volume)
    image.SetSpacing(SPACING[::-1])
    spacing_transform = monai_transforms.Spacing(pixdim=(TARGET_MM,) * 3, mode="bilinear", padding_mode="border")
    scale = monai_transforms.ScaleIntensityRange(low, high, -1.0, 1.0, clip=True)
    meta_tensor = monai_data_tensor(torch, volume)

    def monai_run():
        return scale(spacing_transform(meta_tensor))

    def sitk_run():
        resampled = sitk.Resample(image, shape[::-1], sitk.Transform(), sitk.sitkLinear, image.GetOrigin(),
                                  (TARGET_MM,) * 3, image.GetDirection(), low)
        return sitk.IntensityWindowing(resampled, low, high, -1.0, 1.0)

    seconds = timed({"this project (traced, one matrix per axis)": lambda: ours_fn(tensor).numpy(),
                     "MONAI Spacing + ScaleIntensityRange": monai_run,
                     "SimpleITK Resample + IntensityWindowing": sitk_run}, FLAGS.repeats)
    ours = ours_fn(tensor).numpy()
    theirs = sitk.GetArrayFromImage(sitk_run())
    inner = tuple(slice(1, n - 1) for n in ours.shape)
    report(f"(a) resample {volume.shape[2]}x{volume.shape[1]}x{volume.shape[0]} to {TARGET_MM} mm + window "
           f"(largest |ours - SimpleITK| inside: {abs(ours[inner] - theirs[inner]).max():.2e})", seconds,
           "this project (traced, one matrix per axis)")


def monai_data_tensor(torch, volume):
    """The volume as MONAI's channel-first MetaTensor with its affine (x, y, z spacing on the diagonal)."""
    from monai.data import MetaTensor

    affine = torch.diag(torch.tensor([SPACING[0], SPACING[1], SPACING[2], 1.0], dtype=torch.float64))
    return MetaTensor(torch.from_numpy(volume)[None], affine=affine)


def small_networks(np, tf, torch):
    """(Keras model, torch module) with the same weights: LAYERS 3D convolutions ('same' padding), ReLU between,
    CHANNELS sigmoid outputs."""
    import keras

    inputs = keras.Input((None, None, None, 1))
    x = inputs
    for index in range(LAYERS):
        last = index == LAYERS - 1
        x = keras.layers.Conv3D(CHANNELS if last else FILTERS, KERNEL, padding="same",
                                activation="sigmoid" if last else "relu")(x)
    keras_model = keras.Model(inputs, x)
    layers = []
    for index, layer in enumerate(keras_model.layers[1:]):
        kernel, bias = layer.get_weights()
        conv = torch.nn.Conv3d(kernel.shape[3], kernel.shape[4], KERNEL, padding=KERNEL // 2)
        conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.transpose(4, 3, 0, 1, 2)))
        conv.bias.data = torch.from_numpy(bias)
        layers += [conv, torch.nn.Sigmoid() if index == LAYERS - 1 else torch.nn.ReLU()]
    return keras_model, torch.nn.Sequential(*layers).eval()


def clean_voxels(np, shape, starts_per_axis, margin: int):
    """bool [shape]: voxels that every window covering them contains with at least `margin` voxels to spare
    (volume borders excepted: the volume's own padding is the same for every tiling)."""
    covering = np.zeros(shape, np.int32)
    inside = np.zeros(shape, np.int32)
    for start in itertools.product(*starts_per_axis):
        covering[tuple(slice(s, s + r) for s, r in zip(start, ROI))] += 1
        inner = tuple(slice(s if s == 0 else s + margin, s + r if s + r == n else s + r - margin)
                      for s, r, n in zip(start, ROI, shape))
        inside[inner] += 1
    return covering == inside


def sliding_windows(np, tf, torch) -> None:
    """(b): both sliding windows with the same network, end to end and the loop alone; outputs compared."""
    from monai.inferers import sliding_window_inference as monai_sliding_window

    from inference.sliding_window import sliding_window_inference, window_starts

    volume = np.random.default_rng(1).normal(size=VOLUME_B).astype(np.float32)
    keras_model, torch_model = small_networks(np, tf, torch)
    serve = tf.function(lambda batch: keras_model(batch, training=False),
                        input_signature=[tf.TensorSpec([None, *ROI, 1], tf.float32)])
    channels_last = volume[..., None]
    channels_first = torch.from_numpy(volume)[None, None]
    precomputed_last = np.random.default_rng(2).random((BATCH, *ROI, CHANNELS)).astype(np.float32)
    precomputed_first = torch.from_numpy(np.ascontiguousarray(precomputed_last.transpose(0, 4, 1, 2, 3)))

    def ours(predict):
        return sliding_window_inference(channels_last, ROI, predict, CHANNELS, OVERLAP, BATCH)

    def theirs(predict):
        with torch.no_grad():
            return monai_sliding_window(channels_first, ROI, BATCH, predict, overlap=OVERLAP, mode="gaussian",
                                        sigma_scale=0.125)

    seconds = timed({"this project (Keras / TF)": lambda: ours(lambda b: serve(tf.constant(b)).numpy()),
                     "MONAI sliding_window_inference (torch)": lambda: theirs(torch_model)}, FLAGS.repeats)
    report(f"(b) sliding window, {VOLUME_B[2]}x{VOLUME_B[1]}x{VOLUME_B[0]} volume, {ROI[0]}^3 windows, overlap "
           f"{OVERLAP}, {BATCH} per call, {LAYERS}-layer network: end to end", seconds, "this project (Keras / TF)")
    seconds = timed({"this project": lambda: ours(lambda b: precomputed_last[:len(b)].copy()),
                     "MONAI": lambda: theirs(lambda b: precomputed_first[:len(b)].clone())}, FLAGS.repeats)
    report("(b) the window loop alone (network replaced by a precomputed output)", seconds, "this project")
    ours_output = ours(lambda b: serve(tf.constant(b)).numpy())
    theirs_output = theirs(torch_model)[0].numpy().transpose(1, 2, 3, 0)
    margin = LAYERS * (KERNEL // 2)
    ours_starts = [window_starts(n, r, OVERLAP) for n, r in zip(VOLUME_B, ROI)]
    step = [int(r * (1 - OVERLAP)) for r in ROI]
    theirs_starts = [sorted({min(i * s, n - r) for i in range((n - r + s - 1) // s + 1)})
                     for n, r, s in zip(VOLUME_B, ROI, step)]
    clean = clean_voxels(np, VOLUME_B, ours_starts, margin) & clean_voxels(np, VOLUME_B, theirs_starts, margin)
    difference = np.abs(ours_output - theirs_output)[clean]
    print(f"outputs where both tilings see the whole receptive field ({clean.mean():.0%} of the voxels): largest "
          f"difference {difference.max():.2e}")


def end_to_end(np) -> None:
    """(c): the shipped CT set on one case, read -> write."""
    from benchmarks.common import write_ct_phantom
    from inference.inputs import CaseInput
    from inference.model_sets import find_model_sets
    from inference.pipeline import RunOptions
    from scn.pipeline import EfficientSCNPipeline

    pipeline = EfficientSCNPipeline(find_model_sets("saved_models")["flare21"], RunOptions())
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ct_0000.nii.gz")
        write_ct_phantom(path, FLAGS.slices)
        case = CaseInput("ct", (path,))
        seconds = timed({"this project, shipped flare21": lambda: pipeline.save(
            case, pipeline.compute(case, pipeline.load(case)), os.path.join(folder, "ct"))}, FLAGS.repeats)
    report(f"(c) end to end per case, 512x512x{FLAGS.slices} CT (no MONAI counterpart)", seconds,
           "this project, shipped flare21")


def main(argv: list[str]) -> None:
    del argv
    import numpy as np
    import SimpleITK as sitk
    import tensorflow as tf

    try:
        import torch
        from monai import transforms as monai_transforms
    except ImportError as error:
        raise SystemExit(f"error: {error.name} is not installed; pip install -e .[bench]") from None
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
    tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    torch.set_num_threads(FLAGS.threads)
    sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(FLAGS.threads)
    print(f"threads per library: {FLAGS.threads}; torch {torch.__version__}, TensorFlow {tf.__version__}, "
          f"SimpleITK {sitk.Version.VersionString()}")
    volume = np.random.default_rng(0).normal(0.0, 300.0, (FLAGS.slices, 512, 512)).astype(np.float32)
    resampling(volume, np, tf, torch, sitk, monai_transforms)
    del volume
    sliding_windows(np, tf, torch)
    end_to_end(np)


if __name__ == "__main__":
    app.run(main)
