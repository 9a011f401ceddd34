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
from interactive.training import NetworkCase, clicked_prediction
from preprocessing.tf_connected_components import component_labels

REACH_BANDS_MM = (0.0, 6.0, 12.0, 20.0, 40.0, math.inf)
FOUND_SHARE = 0.9
DICE_STEP = 0.02


@dataclasses.dataclass(frozen=True)
class ClickReach:
    """What one click alone changed in a prediction. The lists hold one count per band of REACH_BANDS_MM (distance
    from the click, lower bound included).

    Attributes:
        click: the click's array index (z, y, x).
        dice_before: lesion Dice of the prediction without the click.
        dice_after: lesion Dice with it.
        clicked_lesion_found: share of the clicked lesion (the 6-connected lesion component holding the click)
            predicted before the click; None for a click outside the lesions.
        depth_mm: the click's distance to the nearest voxel outside its error region (mm): one in-plane voxel for
            a click on the region's surface, which on a lesion is also the lesion's surface.
        added_lesion: lesion voxels that became predicted, per band.
        added_other: voxels outside the lesions that became predicted, per band.
        added_other_from_lesion: the same voxels per band of distance from the clicked lesion (its nearest voxel)
            instead of the click: a shell around the lesion fills the first bands whatever the click's distance;
            None for a click outside the lesions.
        removed_lesion: lesion voxels that stopped being predicted, per band.
        removed_other: voxels outside the lesions that stopped being predicted, per band.
    """

    click: list[int]
    dice_before: float
    dice_after: float
    clicked_lesion_found: float | None
    depth_mm: float
    added_lesion: list[int]
    added_other: list[int]
    added_other_from_lesion: list[int] | None
    removed_lesion: list[int]
    removed_other: list[int]


def _banded(mask: np.ndarray, distance_mm: np.ndarray) -> list[int]:
    return np.histogram(distance_mm[mask], np.asarray(REACH_BANDS_MM, np.float64))[0].astype(int).tolist()


def click_reach(before: np.ndarray, after: np.ndarray, label: np.ndarray, click: Sequence[int],
                error: np.ndarray, spacing_mm: Sequence[float]) -> ClickReach:
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
        from_lesion = _banded(added & ~label, lesion_distance)
    depth = float(distance_transform_edt(tf.constant(error), list(spacing_mm)).numpy()[click])
    return ClickReach(list(click), dice(before, label), dice(after, label), found, depth,
                      _banded(added & label, distance), _banded(added & ~label, distance), from_lesion,
                      _banded(removed & label, distance), _banded(removed & ~label, distance))


def first_click_reach(predict, case: NetworkCase, config: InteractiveConfig, seed: int, batch: int = 1
                      ) -> dict[str, ClickReach]:
    """{'lesion': ..., 'background': ...}: each click of the first simulated round on `case` (the round of
    `interactive.training.click_curve` with this `seed`) alone against the prediction without clicks; a click type
    the round has none of is absent. `predict` maps window batches to per-class scores."""
    image, target = case.image[None], case.label > 0
    none = np.zeros((0, 3), np.int32)

    def prediction(lesion: np.ndarray, background: np.ndarray) -> np.ndarray:
        return clicked_prediction(predict, image, lesion, background, config, batch)

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


def click_groups(reaches: dict[str, dict[str, dict]]) -> dict[str, list[dict]]:
    """The clicks of `reaches` (per case, per click type, `ClickReach` as a dict) in three groups: lesion clicks on a
    lesion found to FOUND_SHARE or more before the click, the other lesion clicks, background clicks."""
    groups = {"lesion clicks, lesion found": [], "lesion clicks, lesion found less": [], "background clicks": []}
    for kinds in reaches.values():
        for kind, reach in kinds.items():
            if kind == "background":
                groups["background clicks"].append(reach)
            elif reach["clicked_lesion_found"] >= FOUND_SHARE:
                groups["lesion clicks, lesion found"].append(reach)
            else:
                groups["lesion clicks, lesion found less"].append(reach)
    return groups


def group_lines(name: str, group: list[dict]) -> list[str]:
    """A group's clicks: the mean Dice change and its standard error, the clicks that lost or gained DICE_STEP, and
    the voxel counts summed over the clicks (per band; the harm first: for lesion clicks the non-lesion voxels added,
    from the click and from the clicked lesion, for background clicks the lesion voxels removed)."""
    changes = np.array([reach["dice_after"] - reach["dice_before"] for reach in group])
    error = f" (standard error {changes.std(ddof=1) / np.sqrt(len(changes)):.3f})" if len(changes) > 1 else ""
    lines = [f"{name}: {len(group)}; Dice change {changes.mean():+.3f}{error}; worse by {DICE_STEP}: "
             f"{int((changes < -DICE_STEP).sum())}, better by {DICE_STEP}: {int((changes > DICE_STEP).sum())}"]
    fields = ("removed_lesion", "removed_other") if name.startswith("background") else (
        "added_other", "added_other_from_lesion", "added_lesion")
    for field in fields:
        total = np.sum([reach[field] for reach in group], axis=0).astype(int)
        lines.append(f"  {field.replace('_', ' ')}: {' / '.join(map(str, total))} (sum {total.sum()})")
    return lines


def reach_lines(reaches: dict[str, dict[str, dict]]) -> list[str]:
    """The printed report: per case and click type the click, the Dice change and the voxels changed per distance
    band, then each group of `click_groups` (`group_lines`)."""
    bands = [f"{low:g}-{high:g}" if math.isfinite(high) else f">{low:g}"
             for low, high in zip(REACH_BANDS_MM, REACH_BANDS_MM[1:])]
    lines = [f"bands (mm): {' / '.join(bands)}"]
    for name, kinds in reaches.items():
        for kind, reach in kinds.items():
            found, shell = "", ""
            if reach["clicked_lesion_found"] is not None:
                found = f", clicked lesion found {reach['clicked_lesion_found']:.2f}"
                shell = f" (from that lesion {reach['added_other_from_lesion']})"
            lines.append(f"{name:<24} {kind:<10} at {reach['click']}: Dice {reach['dice_before']:.3f} -> "
                         f"{reach['dice_after']:.3f}, depth {reach['depth_mm']:.1f} mm{found}; added lesion "
                         f"{reach['added_lesion']}, added other {reach['added_other']}{shell}, removed lesion "
                         f"{reach['removed_lesion']}, removed other {reach['removed_other']}")
    for name, group in click_groups(reaches).items():
        if group:
            lines += group_lines(name, group)
    return lines
