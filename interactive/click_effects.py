"""What one round of simulated clicks did to the prediction: the regions it added and removed, and which of them
touch the round's new clicks. A corrective click should add the missed lesion it lands in and remove the false
lesion it lands in; these figures show where a network does something else: a lesion click that floods the
tissue around a small lesion, or a background click on a false rim that erases the true lesion beside it.

Regions are 6-connected components (`preprocessing.tf_connected_components`) of the voxels that changed; arrays are
[z, y, x] on the network grid, clicks array indices (z, y, x), distances in voxels.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from preprocessing.tf_connected_components import component_labels

NEAR_VOXELS = 3.0


@dataclasses.dataclass(frozen=True)
class ClickEffect:
    """One click round's change of the lesion prediction.

    Attributes:
        added_voxels: voxels that became lesion.
        removed_voxels: voxels that stopped being lesion.
        false_added_at_lesion_click: non-lesion voxels of the added regions within `near` voxels of the round's
            lesion click (a flood around the click); 0 without one.
        lesion_removed_at_background_click: lesion voxels of the removed regions within `near` voxels of the
            round's background click (a true lesion erased with the false rim the click was on); 0 without one.
    """

    added_voxels: int
    removed_voxels: int
    false_added_at_lesion_click: int
    lesion_removed_at_background_click: int


def _regions_near(changed: np.ndarray, click: np.ndarray | None, near: float) -> np.ndarray:
    """bool [z, y, x]: the components of `changed` with a voxel within `near` voxels of `click` (none if None)."""
    if click is None or not changed.any():
        return np.zeros_like(changed)
    labels = component_labels(tf.constant(changed)).numpy()
    positions = np.argwhere(changed)
    close = np.linalg.norm(positions - np.asarray(click)[None], axis=1) <= near
    touching = np.unique(labels[tuple(positions[close].T)])
    return np.isin(labels, touching[touching > 0])


def click_effect(before: np.ndarray, after: np.ndarray, label: np.ndarray, lesion_click: np.ndarray | None,
                 background_click: np.ndarray | None, near: float = NEAR_VOXELS) -> ClickEffect:
    """The change from prediction `before` to `after` (bool [z, y, x]) against the lesion mask `label`, after a
    round that added `lesion_click` and `background_click` (array indices [3], or None where the round had none)."""
    before, after, label = (np.asarray(a, bool) for a in (before, after, label))
    added, removed = after & ~before, before & ~after
    flooded = _regions_near(added, lesion_click, near) & ~label
    erased = _regions_near(removed, background_click, near) & label
    return ClickEffect(int(added.sum()), int(removed.sum()), int(flooded.sum()), int(erased.sum()))
