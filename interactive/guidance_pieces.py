"""The guidance of a few clicks on a large grid, built only where it can be non-zero: the clicks' boxes.

A click's Gaussian is zero beyond the kernel's tail, so the guidance channels (`guidance.guidance_channels`) are
the pieces below, zeros elsewhere: each piece is a box around a group of clicks (their voxels grown by the tail and
one voxel, boxes that overlap merged) with the channels' values in it, scaled by the minimum and maximum over the
whole grid (0 unless the boxes fill it; the maximum over all pieces). Building them costs the clicks' boxes, not the
grid: a click at the head and one at the pelvis cost two small boxes, not the body between them.
"""
from __future__ import annotations

import numpy as np

from interactive.guidance import click_signal, gaussian_kernel_1d, scaled_signal

Box = tuple[slice, slice, slice]
Piece = tuple[Box, np.ndarray]


def box_shape(box: Box) -> tuple[int, ...]:
    """Voxels along each axis of `box`."""
    return tuple(b.stop - b.start for b in box)


def intersection(a: Box, b: Box) -> Box | None:
    """The common part of boxes `a` and `b`, None where they share no voxel."""
    common = tuple(slice(max(x.start, y.start), min(x.stop, y.stop)) for x, y in zip(a, b))
    return None if any(c.stop <= c.start for c in common) else common


def relative(box: Box, within: Box) -> Box:
    """`box` (inside `within`) as slices of an array that holds `within`."""
    return tuple(slice(b.start - w.start, b.stop - w.start) for b, w in zip(box, within))


def click_boxes(indices: np.ndarray, shape: tuple[int, ...], margin: int) -> list[tuple[Box, np.ndarray]]:
    """Disjoint boxes holding every voxel within `margin` of the clicks at array `indices` [n, 3] (z, y, x), clipped
    to the grid of `shape`: each click's cube, cubes that share a voxel merged until none does; each box with the
    indices (into `indices`) of its clicks."""
    groups = [(np.maximum(index - margin, 0), np.minimum(index + margin + 1, shape), [number])
              for number, index in enumerate(np.asarray(indices, np.int64).reshape(-1, 3))]
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                (start_i, end_i, members_i), (start_j, end_j, members_j) = groups[i], groups[j]
                if np.all(np.maximum(start_i, start_j) < np.minimum(end_i, end_j)):
                    groups[i] = (np.minimum(start_i, start_j), np.maximum(end_i, end_j), members_i + members_j)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return [(tuple(slice(int(a), int(b)) for a, b in zip(start, end)), np.array(members))
            for start, end, members in groups]


def _box_signal(indices: np.ndarray, box: Box, sigma: float) -> np.ndarray:
    """The unscaled guidance [*box] of the clicks at grid indices `indices` [n, 3] (z, y, x) inside `box`."""
    return click_signal(indices - np.array([b.start for b in box]), box_shape(box), sigma).numpy()


def guidance_pieces(foreground: np.ndarray, background: np.ndarray, shape: tuple[int, ...], sigma: float = 1.0,
                    disks: bool = True) -> list[Piece]:
    """The lesion and background guidance [*, 2] of the clicks at array indices `foreground` [n, 3] and `background`
    [m, 3] (z, y, x; clamped into the grid of `shape` as the original does) as disjoint (box, values) pieces:
    `guidance_channels` of the whole grid equals zeros with every piece pasted in."""
    foreground, background = (np.reshape(v, (-1, 3)).astype(np.int64) for v in (foreground, background))
    kinds = np.concatenate([np.zeros(len(foreground), int), np.ones(len(background), int)])
    indices = np.clip(np.concatenate([foreground, background]), 0, np.array(shape) - 1)
    margin = len(gaussian_kernel_1d(sigma)) // 2 + 1
    boxes = click_boxes(indices, shape, margin)
    if sum(np.prod(box_shape(box)) for box, _ in boxes) >= np.prod(shape):
        boxes = [(tuple(slice(0, n) for n in shape), np.arange(len(indices)))]
    signals = [np.stack([_box_signal(indices[members][kinds[members] == kind], box, sigma) for kind in (0, 1)],
                        axis=-1) for box, members in boxes]
    whole = len(boxes) == 1 and box_shape(boxes[0][0]) == tuple(shape)
    low = signals[0].min(axis=(0, 1, 2)) if whole else np.zeros(2, np.float32)
    high = np.max([signal.max(axis=(0, 1, 2)) for signal in signals], axis=0) if signals else low
    clicked = [np.any(kinds == kind) for kind in (0, 1)]
    return [(box, np.stack([scaled_signal(signal[..., c], low[c], high[c], disks).numpy() if clicked[c] else
                            np.zeros(box_shape(box), np.float32) for c in (0, 1)], axis=-1))
            for (box, _), signal in zip(boxes, signals)]


def paste(pieces: list[Piece], region: Box) -> np.ndarray:
    """The guidance [*region, 2] in `region`: zeros with the part of every piece that lies in it."""
    values = np.zeros(box_shape(region) + (2,), np.float32)
    for box, piece in pieces:
        common = intersection(box, region)
        if common is not None:
            values[relative(common, region)] = piece[relative(common, box)]
    return values
