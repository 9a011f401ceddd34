"""Interactive segmentation benchmark: seconds for the first full sliding-window pass and per click (only the windows
a click changes run again; the median and the worst of `--clicks` clicks) against a full recompute of every window,
peak RSS, and sliding-window throughput in voxels/s with the network's achieved GFLOP/s next to this machine's float32
matmul rate measured in the same run.

Usage: python benchmarks/interactive.py [--model_set saved_models/autopet_interactive] [--size 400,400,600]
       [--clicks 20] [--background_clicks 4] [--batch_size 8]

The volume is a whole-body PET phantom of `--size` voxels (x, y, z) at about 2.04 x 2.04 x 3 mm (the network's
grid), so preprocessing resamples little; `--clicks` lesion clicks land on its lesions (on its body where it has none),
then `--background_clicks` background clicks anywhere on its body (far from the lesions: their guidance then spans
the body, what a session must not build whole).
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

import numpy as np  # noqa: E402
from absl import app, flags  # noqa: E402

from benchmarks.common import matmul_gflops, model_gflop  # noqa: E402
from inference.batch import peak_rss_mb  # noqa: E402
from interactive.model_set import interactive_member  # noqa: E402
from interactive.session import Session  # noqa: E402
from interactive.training import build_model  # noqa: E402
from preprocessing.synthetic import autopet  # noqa: E402
from serving.loading import ModelError  # noqa: E402

flags.DEFINE_string("model_set", "saved_models/autopet_interactive", "Interactive model set.")
flags.DEFINE_list("size", ["400", "400", "600"], "Volume size in voxels, x, y, z.")
flags.DEFINE_integer("clicks", 20, "Clicks to time.", lower_bound=1)
flags.DEFINE_integer("background_clicks", 4, "Background clicks to time after the lesion clicks.", lower_bound=0)
flags.DEFINE_integer("batch_size", 8, "Windows per network call.")
FLAGS = flags.FLAGS


def volume(size: tuple[int, int, int]):
    """(PET [z, y, x], lesion mask, geometry) of a whole-body phantom of `size` (x, y, z) voxels."""
    extent = size[2] * 3.0
    config = autopet.AutoPETPhantomConfig(in_plane_size=size[0], in_plane_spacing_mm=(2.04, 2.04),
                                          axial_extent_mm=(extent, extent), lesion_free_probability=0.0)
    pet, _, label, geometry = autopet.phantom(np.random.default_rng(7), config)
    return pet, label, geometry


def main(argv: list[str]) -> None:
    del argv
    try:
        member, config = interactive_member(FLAGS.model_set)
    except (OSError, ModelError, ValueError) as error:
        raise app.UsageError(str(error)) from error
    peak_matmul = matmul_gflops()
    print(f"machine float32 matmul: {peak_matmul:.1f} GFLOP/s (tf.matmul 2048x2048, same process)")
    pet, label, geometry = volume(tuple(int(v) for v in FLAGS.size))
    print(f"volume {geometry.size[0]}x{geometry.size[1]}x{geometry.size[2]} voxels at "
          f"{' x '.join(f'{s:.2f}' for s in geometry.spacing)} mm, {int(label.sum())} lesion voxels; "
          f"peak RSS {peak_rss_mb():.0f} MB after generating it")
    start = time.perf_counter()
    session = Session(member, [pet], geometry, batch_size=FLAGS.batch_size, config=config)
    first = time.perf_counter() - start
    windows = len(session.boxes)
    voxels = int(np.prod(session.image.shape[:3]))
    roi = tuple(b.stop - b.start for b in session.boxes[0])
    gflop = model_gflop(build_model(session.config), (1, *roi, session.image.shape[-1] + 2)) * windows
    print(f"first pass (preprocessing + {windows} windows of {'x'.join(map(str, roi))}): {first:.1f} s, "
          f"{voxels / first / 1e6:.2f} Mvoxel/s, {gflop:.0f} GFLOP = {gflop / first:.1f} GFLOP/s, "
          f"{gflop / first / peak_matmul:.2f} of the matmul rate; peak RSS {peak_rss_mb():.0f} MB")
    rng = np.random.default_rng(0)
    lesion = np.argwhere(label > 0) if label.any() else np.argwhere(pet > 0)
    body = np.argwhere((pet > 0) & (label == 0))
    clicks = [(lesion, True)] * FLAGS.clicks + [(body, False)] * FLAGS.background_clicks
    print(f"{'click':<8}{'kind':>12}{'windows run':>12}{'seconds':>10}{'peak RSS MB':>13}")
    seconds, runs = [], []
    for index, (targets, foreground) in enumerate(clicks, 1):
        point = geometry.index_to_physical(targets[rng.integers(len(targets))][::-1].astype(float))
        start = time.perf_counter()
        runs.append(session.add_click(point, foreground=foreground))
        seconds.append(time.perf_counter() - start)
        kind = "lesion" if foreground else "background"
        print(f"{index:<8}{kind:>12}{runs[-1]:>12}{seconds[-1]:>10.2f}{peak_rss_mb():>13.0f}")
    print(f"per click over {len(seconds)} clicks: median {np.median(seconds):.2f} s, worst {max(seconds):.2f} s, "
          f"best {min(seconds):.2f} s; windows run median {np.median(runs):g}, most {max(runs)}; "
          f"{sum(seconds) / max(sum(runs), 1):.3f} s per window run")
    start = time.perf_counter()
    session.recompute()
    print(f"full recompute of all {windows} windows with the same clicks: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    app.run(main)
