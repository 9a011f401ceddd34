"""The layout of an RSTN model set, as `rstn.export` writes it: one member, `rstn` (system `rstn`, role
`segmentation`), holding the three planes' networks. `load_rstn` and `check_layout` are the one check that the
entrypoint's pipeline, `rstn.evaluate` and `rstn.diagnose` make, so that a set of the older layout (one member per
plane) is refused before any compute, in one line that says to export it again.
"""
from __future__ import annotations

import os

from serving import ModelError, load_member, read_manifest

SYSTEM = "rstn"
ROLE = "segmentation"
MEMBERS = {ROLE: "rstn"}


def check_layout(model_set: str, manifest: dict) -> None:
    """Raises ModelError, one line naming `model_set`, unless its (validated) `manifest` is an RSTN set's with the
    `segmentation` member."""
    if manifest["pipeline"] != SYSTEM:
        raise ModelError(f"{model_set}: a '{manifest['pipeline']}' model set, not an RSTN ('{SYSTEM}') one")
    if ROLE not in manifest["members"]:
        raise ModelError(f"{model_set}: no '{ROLE}' member (a set of the older one-member-per-plane layout: "
                         "export it again with rstn.export)")


def load_rstn(model_set: str):
    """The loaded `segmentation` member of the RSTN model set in the folder `model_set` (layout, system and role
    checked; ManifestError or ModelError otherwise)."""
    manifest = read_manifest(model_set)
    check_layout(model_set, manifest)
    return load_member(os.path.join(model_set, manifest["members"][ROLE]), SYSTEM, ROLE)
