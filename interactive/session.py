"""An interactive session on one volume: clicks in, lesion mask out, re-running only the windows a click changes.

    session = Session("saved_models/autopet_interactive", [pet], geometry)   # arrays [z, y, x] on `geometry`
    mask = session.mask()                          # no clicks yet
    session.add_click((x, y, z), foreground=True)  # world point in mm
    mask = session.mask()                          # uint8 [z, y, x] on the input grid
    session.undo()

The network sees each window on its own (instance normalisation uses the whole window), so a window's output
changes only when its input does: after a click the guidance is rebuilt in the boxes its clicks reach
(`guidance_pieces`: a click at the head and one at the pelvis cost two small boxes, not the body between them),
compared with the previous guidance there, and only the windows containing a changed voxel run again; their blended
contribution (the lesion-minus-background logit, blended as MONAI blends logits) is replaced in place. The result is
the full recompute's, up to float rounding.
"""
from __future__ import annotations

import itertools

import numpy as np

from inference.sliding_window import gaussian_weights, window_starts
from interactive.config import InteractiveConfig
from interactive.guidance import click_indices
from interactive.guidance_pieces import Piece, guidance_pieces, intersection, paste, relative
from interactive.model_set import interactive_member, trained_config
from interactive.preprocess import network_input
from interactive.window_logits import window_logits
from preprocessing.geometry import resample
from preprocessing.image_geometry import ImageGeometry
from serving.loading import read_metadata


class Session:
    """Clicks, guidance and cached window outputs of one volume (see the module docstring).

    Args:
        model_set: an interactive model set folder, or its loaded `segmentation` member (to share one load).
        channels: the image channels [z, y, x] (the set's input channels, e.g. PET in SUV) on `geometry`.
        geometry: their grid.
        overlap: sliding-window overlap (default: the set's).
        batch_size: windows per network call.
        config: the member's training config when the caller holds it already (a loaded member only; read from the
            member's metadata otherwise).
    """

    def __init__(self, model_set, channels: list[np.ndarray], geometry: ImageGeometry,
                 overlap: float | None = None, batch_size: int = 1, config: InteractiveConfig | None = None):
        if isinstance(model_set, str):
            member, self.config = interactive_member(model_set)
        else:
            member = model_set
            self.config = config or trained_config(read_metadata(member), "the segmentation member given")
        self.logits = window_logits(member.signatures["serving_default"])
        self.geometry = geometry
        self.image, self.grid = network_input(list(channels), geometry, self.config)
        self.batch_size = batch_size
        self.shape = self.image.shape[:3]
        # An axis shorter than the window is padded with zeros at its end, as the entrypoint's sliding window pads
        # (a window must keep the network's size multiple), and cropped off in `margin`.
        shape = tuple(max(n, r) for n, r in zip(self.shape, self.config.roi_size))
        self.image = np.pad(self.image, [(0, p - n) for p, n in zip(shape, self.shape)] + [(0, 0)])
        roi = tuple(self.config.roi_size)
        overlap = self.config.overlap if overlap is None else overlap
        self.boxes = [tuple(slice(s, s + r) for s, r in zip(start, roi)) for start in
                      itertools.product(*[window_starts(n, r, overlap) for n, r in zip(shape, roi)])]
        self.weights = gaussian_weights(roi)
        self.weighted_sum = np.zeros(shape, np.float32)
        self.weight_total = np.zeros(shape, np.float32)
        for box in self.boxes:
            self.weight_total[box] += self.weights
        self.window_outputs: list[np.ndarray | None] = [None] * len(self.boxes)
        self.clicks: list[tuple[tuple[float, float, float], bool]] = []
        self.guidance: list[Piece] = []
        self.windows_run = self._refresh(range(len(self.boxes)))

    def _guidance(self) -> list[Piece]:
        """The guidance pieces of the current clicks on the network grid."""
        indices = [click_indices(np.array([p for p, f in self.clicks if f == kind], np.float64).reshape(-1, 3),
                                 self.grid)[0] for kind in (True, False)]
        return guidance_pieces(*indices, self.grid.shape, self.config.guidance_sigma, self.config.guidance_disks)

    def _refresh(self, indices) -> int:
        """Runs the windows `indices` on the current input and replaces their blended contribution."""
        indices = list(indices)
        for first in range(0, len(indices), self.batch_size):
            group = indices[first:first + self.batch_size]
            batch = np.stack([np.concatenate([self.image[self.boxes[i]], paste(self.guidance, self.boxes[i])], axis=-1)
                              for i in group])
            logits = self.logits(batch)
            for index, output in zip(group, logits[..., 1] - logits[..., 0]):
                previous = self.window_outputs[index]
                change = output if previous is None else output - previous
                self.weighted_sum[self.boxes[index]] += change * self.weights
                self.window_outputs[index] = output
        return len(indices)

    def _update(self) -> int:
        """Rebuilds the guidance and runs the windows that contain a voxel where it changed (only the old and the new
        pieces' boxes can hold one)."""
        guidance = self._guidance()
        run = set()
        for region, _ in self.guidance + guidance:
            changed = np.any(paste(guidance, region) != paste(self.guidance, region), axis=-1)
            for index, window in enumerate(self.boxes):
                common = intersection(window, region)
                if common is not None and changed[relative(common, region)].any():
                    run.add(index)
        self.guidance = guidance
        return self._refresh(sorted(run))

    def _check_inside(self, points) -> None:
        """Raises ValueError naming the first world point (mm) that lies outside the image."""
        inside = click_indices(np.array(points, np.float64).reshape(-1, 3), self.grid)[1]
        if not inside.all():
            point = points[int(np.flatnonzero(~inside)[0])]
            raise ValueError(f"click at ({', '.join(f'{v:g}' for v in point)}) mm lies outside the image")

    def add_click(self, point_mm, foreground: bool) -> int:
        """Adds a click at the world point (x, y, z) in mm (lesion when `foreground`, else background); returns the
        number of windows that ran again. A point outside the image raises ValueError."""
        point = tuple(float(v) for v in point_mm)
        if len(point) != 3 or not all(np.isfinite(point)):
            raise ValueError(f"a click is a world point (x, y, z) in mm, got {point_mm!r}")
        self._check_inside([point])
        self.clicks.append((point, bool(foreground)))
        return self._update()

    def set_clicks(self, clicks: list[tuple[tuple[float, float, float], bool]]) -> int:
        """Replaces all clicks ((x, y, z) mm, foreground) at once (a client that sends every click each time);
        returns the number of windows that ran again. Points outside the image raise ValueError."""
        self._check_inside([point for point, _ in clicks])
        self.clicks = [(tuple(float(v) for v in point), bool(foreground)) for point, foreground in clicks]
        return self._update()

    def undo(self) -> int:
        """Removes the last click (none: nothing happens); returns the number of windows that ran again."""
        if not self.clicks:
            return 0
        self.clicks.pop()
        return self._update()

    def recompute(self) -> int:
        """Runs every window again on the current input (what a session without the window cache would do after
        each click); returns their number."""
        return self._refresh(range(len(self.boxes)))

    def margin(self) -> np.ndarray:
        """Blended lesion-minus-background logit [z, y, x] on the network grid (> 0: lesion)."""
        return (self.weighted_sum / self.weight_total)[tuple(slice(0, n) for n in self.shape)]

    def mask(self) -> np.ndarray:
        """The lesion mask (uint8, 0 / 1) on the input's grid."""
        labels = (self.margin() > 0).astype(np.uint8)
        return resample(labels, self.grid, self.geometry, "nearest")
