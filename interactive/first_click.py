"""What one click alone changes in a prediction, and how far from it: the first round of simulated clicks of
`interactive.evaluate` (same rule and seed), each click on its own against the prediction without clicks, the voxels
it added and removed, lesion or not, in bands of distance from the click (and, for a lesion click, from the clicked
lesion). It is what separates a click that corrects its own neighbourhood from one that grows an object around
itself or shrinks a lesion beside it. No flags, so tests and other tools import it freely; the command is
`interactive.click_reach`.

Arrays are [z, y, x] on the network grid; distances in mm from the click voxel's centre (the grid's spacing).
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import tensorflow as tf

from evaluation.metrics import dice
from interactive.clicks import corrective_clicks
from interactive.config import InteractiveConfig
from interactive.distance_transform import distance_transform_edt
from interactive.interaction import with_guidance
from interactive.training import NetworkCase, full_volume_logits
from preprocessing.tf_connected_components import component_labels

REACH_BANDS_MM = (0.0, 6.0, 12.0, 20.0, 40.0, math.inf)


@dataclasses.dataclass(frozen=True)
class ClickReach:
    """What one click alone changed in a prediction. The lists hold one count per band of REACH_BANDS_MM (distance
    from the click, lower bound included).

    Attributes:
        dice_before: lesion Dice of the prediction without the click.
        dice_after: lesion Dice with it.
        clicked_lesion_found: share of the clicked lesion (the 6-connected lesion component holding the click)
            predicted before the click; None for a click outside the lesions.
        depth_mm: the click's distance to the border of its error region (mm; one voxel's depth at least).
        added_lesion: lesion voxels that became predicted, per band.
        added_other: voxels outside the lesions that became predicted, per band.
        added_other_from_lesion: the same voxels per band of distance from the clicked lesion (its nearest voxel)
            instead of the click: a shell around the lesion fills the first bands whatever the click's distance;
            None for a click outside the lesions.
        removed_lesion: lesion voxels that stopped being predicted, per band.
        removed_other: voxels outside the lesions that stopped being predicted, per band.
    """

    dice_before: float
    dice_after: float
    clicked_lesion_found: float | None
    depth_mm: float
    added_lesion: list[int]
    added_other: list[int]
    added_other_from_lesion: list[int] | None
    removed_lesion: list[int]
    removed_other: list[int]


def _banded(mask: np.ndarray, distance_mm: np.ndarray, bands: Sequence[float]) -> list[int]:
    return np.histogram(distance_mm[mask], np.asarray(bands, np.float64))[0].astype(int).tolist()


def click_reach(before: np.ndarray, after: np.ndarray, label: np.ndarray, click: Sequence[int],
                error: np.ndarray, spacing_mm: Sequence[float], bands: Sequence[float] = REACH_BANDS_MM) -> ClickReach:
    """The change from prediction `before` to `after` (bool [z, y, x]) against the lesion mask `label`, made by one
    click at array index `click` (z, y, x) drawn from the error region `error` (bool [z, y, x]); `spacing_mm` (z, y,
    x) gives the distances."""
    before, after, label, error = (np.asarray(a, bool) for a in (before, after, label, error))
    click = tuple(int(i) for i in click)
    offsets = np.indices(label.shape, np.float64) - np.reshape(click, (3, 1, 1, 1))
    distance = np.sqrt(sum((offset * step) ** 2 for offset, step in zip(offsets, spacing_mm)))
    added, removed = after & ~before, before & ~after
    found = from_lesion = None
    if label[click]:
        components = component_labels(tf.constant(label)).numpy()
        clicked = components == components[click]
        found = float((clicked & before).sum() / clicked.sum())
        lesion_distance = distance_transform_edt(tf.constant(~clicked), list(spacing_mm)).numpy()
        from_lesion = _banded(added & ~label, lesion_distance, bands)
    depth = float(distance_transform_edt(tf.constant(error), list(spacing_mm)).numpy()[click])
    return ClickReach(dice(before, label), dice(after, label), found, depth,
                      _banded(added & label, distance, bands), _banded(added & ~label, distance, bands), from_lesion,
                      _banded(removed & label, distance, bands), _banded(removed & ~label, distance, bands))


def first_click_reach(predict, case: NetworkCase, config: InteractiveConfig, seed: int, batch: int = 1
                      ) -> dict[str, ClickReach]:
    """{'lesion': ..., 'background': ...}: each click of the first simulated round on `case` (the round of
    `interactive.training.click_curve` with this `seed`) alone against the prediction without clicks; a click type
    the round has none of is absent. `predict` maps window batches to per-class scores."""
    image, target = tf.constant(case.image[None]), case.label > 0
    none = np.zeros((0, 3), np.int32)

    def prediction(lesion: np.ndarray, background: np.ndarray) -> np.ndarray:
        volume = with_guidance(image, lesion, background, config)[0].numpy()
        return np.argmax(full_volume_logits(predict, volume, config, batch), axis=-1) == 1

    before = prediction(none, none)
    lesion, lesion_found, background, background_found = (
        t.numpy() for t in corrective_clicks(target, before, config.click_rule, config.spacing_mm, [seed, 0]))
    reaches = {}
    if lesion_found:
        after = prediction(lesion[None].astype(np.int32), none)
        reaches["lesion"] = click_reach(before, after, target, lesion, target & ~before, config.spacing_mm)
    if background_found:
        after = prediction(none, background[None].astype(np.int32))
        reaches["background"] = click_reach(before, after, target, background, before & ~target, config.spacing_mm)
    return reaches


def reach_lines(reaches: dict[str, dict[str, dict]]) -> list[str]:
    """The printed report: per case and click type the Dice change and the voxels changed per distance band, then
    the totals over cases (for lesion clicks the non-lesion voxels added, also by distance from the clicked lesion,
    for background clicks the lesion voxels removed: the harm each can do)."""
    bands = [f"{low:g}-{high:g}" if math.isfinite(high) else f">{low:g}"
             for low, high in zip(REACH_BANDS_MM, REACH_BANDS_MM[1:])]
    lines = [f"bands (mm from the click): {' / '.join(bands)}"]
    totals = {"lesion": np.zeros(len(bands), int), "background": np.zeros(len(bands), int)}
    harm = {"lesion": "added_other", "background": "removed_lesion"}
    changes = {"lesion": [], "background": []}
    from_lesion = np.zeros(len(bands), int)
    for name, kinds in reaches.items():
        for kind, reach in kinds.items():
            totals[kind] += reach[harm[kind]]
            changes[kind].append(reach["dice_after"] - reach["dice_before"])
            found, shell = "", ""
            if reach["clicked_lesion_found"] is not None:
                from_lesion += reach["added_other_from_lesion"]
                found = f", clicked lesion found {reach['clicked_lesion_found']:.2f}"
                shell = f" (from that lesion {reach['added_other_from_lesion']})"
            lines.append(f"{name:<24} {kind:<10} Dice {reach['dice_before']:.3f} -> {reach['dice_after']:.3f}, "
                         f"depth {reach['depth_mm']:.1f} mm{found}; added lesion {reach['added_lesion']}, added "
                         f"other {reach['added_other']}{shell}, removed lesion {reach['removed_lesion']}, removed "
                         f"other {reach['removed_other']}")
    for kind, total in totals.items():
        if changes[kind]:
            lines.append(f"total, {len(changes[kind])} {kind} clicks: {harm[kind].replace('_', ' ')} {total.tolist()}, "
                         f"mean Dice change {np.mean(changes[kind]):+.3f}")
    if changes["lesion"]:
        lines.append("total, lesion clicks in a lesion: added other by distance from that lesion "
                     f"{from_lesion.tolist()}")
    return lines
