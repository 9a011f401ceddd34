"""Sliding-window inference with Gaussian blending over a volume larger than the network's patch."""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def gaussian_weights(patch_shape: tuple[int, ...], sigma_scale: float = 0.125) -> np.ndarray:
    """Per-voxel blending weights of one window: a Gaussian with sigma = sigma_scale * patch size per axis,
    maximum 1 at the centre, clipped below at 1e-3 so that window borders still count."""
    axes = [np.exp(-0.5 * ((np.arange(n) - (n - 1) / 2.0) / (sigma_scale * n)) ** 2) for n in patch_shape]
    weights = axes[0]
    for axis in axes[1:]:
        weights = np.multiply.outer(weights, axis)
    return np.maximum(weights / weights.max(), 1e-3).astype(np.float32)


def window_starts(size: int, patch: int, overlap: float) -> list[int]:
    """Start indices along one axis so that windows of `patch` cover [0, size) with at least `overlap`."""
    if size <= patch:
        return [0]
    step = max(1, int(patch * (1.0 - overlap)))
    count = int(np.ceil((size - patch) / step)) + 1
    return [int(round(i * (size - patch) / (count - 1))) for i in range(count)]


def sliding_window_inference(volume: np.ndarray, patch_shape: tuple[int, ...],
                             predict: Callable[[np.ndarray], np.ndarray], num_outputs: int,
                             overlap: float = 0.5, batch_size: int = 1, blending: str = "gaussian",
                             pad_value: float = 0.0) -> np.ndarray:
    """Runs `predict` on overlapping windows of `volume` and blends the outputs.

    Args:
        volume: [*spatial, channels] network input (array axis order, e.g. z, y, x, 1). An axis smaller
            than the patch is padded with `pad_value` and the padding cropped off again.
        patch_shape: window size in voxels (array order), the network's trained patch.
        predict: maps a batch [n, *patch_shape, channels] to [n, *patch_shape, num_outputs].
        overlap: fraction of a window shared with its neighbour along each axis (0 <= overlap < 1).
        batch_size: windows per call of `predict`.
        blending: 'gaussian' (centre-weighted, hides window seams) or 'constant' (plain average).

    Returns:
        [*spatial, num_outputs] float32, the weighted average of all windows covering each voxel.

    Each window is weighted and added in slabs along its first axis, one per CPU this process may use, in threads
    (NumPy releases the GIL for these loops).
    """
    spatial = volume.shape[:-1]
    padded_shape = tuple(max(s, p) for s, p in zip(spatial, patch_shape))
    if padded_shape != spatial:
        padding = [(0, p - s) for s, p in zip(spatial, padded_shape)] + [(0, 0)]
        volume = np.pad(volume, padding, constant_values=pad_value)
    weights = gaussian_weights(patch_shape) if blending == "gaussian" else np.ones(patch_shape, np.float32)
    per_output = np.ascontiguousarray(np.broadcast_to(weights[..., None], patch_shape + (num_outputs,)))
    output = np.zeros(padded_shape + (num_outputs,), np.float32)
    normalizer = np.zeros(padded_shape, np.float32)
    weighted = np.empty_like(per_output)
    starts = list(itertools.product(*[window_starts(s, p, overlap) for s, p in zip(padded_shape, patch_shape)]))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = min(usable, patch_shape[0])
    edges = np.linspace(0, patch_shape[0], threads + 1).astype(int)

    def add(part: int, box: tuple[slice, ...], window: np.ndarray) -> None:
        rows = slice(edges[part], edges[part + 1])
        target = (slice(box[0].start + rows.start, box[0].start + rows.stop),) + box[1:]
        np.multiply(window[rows], per_output[rows], out=weighted[rows])
        output[target] += weighted[rows]
        normalizer[target] += weights[rows]

    def divide(part: int) -> None:
        rows = slice(*np.linspace(0, padded_shape[0], threads + 1).astype(int)[part:part + 2])
        np.divide(output[rows], normalizer[rows, ..., None], out=output[rows])

    with ThreadPoolExecutor(threads) as pool:
        for first in range(0, len(starts), batch_size):
            group = starts[first:first + batch_size]
            boxes = [tuple(slice(s, s + p) for s, p in zip(start, patch_shape)) for start in group]
            result = predict(np.stack([volume[box] for box in boxes]))
            for box, window in zip(boxes, result):
                list(pool.map(add, range(threads), [box] * threads, [window] * threads))
        list(pool.map(divide, range(threads)))
    return output[tuple(slice(0, s) for s in spatial)]
