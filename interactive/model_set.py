"""The click-guided segmentation member of an interactive model set and the config it was trained with: the one
loader of the tools that read a set (evaluation, click reach, fine-tuning, sessions)."""
from __future__ import annotations

import os

from interactive.config import InteractiveConfig
from networks.config_io import config_from_dict
from serving.loading import load_member, read_metadata
from serving.manifest import read_manifest


def interactive_member(model_set: str) -> tuple[object, InteractiveConfig]:
    """(the loaded `segmentation` SavedModel, the `InteractiveConfig` it was trained with) of the set in the folder
    `model_set`. Raises ModelError or ManifestError (missing, damaged) or ValueError naming the set (another
    system's set, no segmentation member or training config, or a config this version cannot read)."""
    manifest = read_manifest(model_set)
    if manifest["pipeline"] != "interactive":
        raise ValueError(f"{model_set}: a '{manifest['pipeline']}' model set, not a click-guided one")
    if "segmentation" not in manifest["members"]:
        raise ValueError(f"{model_set}: its manifest lists no 'segmentation' member")
    member = load_member(os.path.join(model_set, manifest["members"]["segmentation"]), "interactive", "segmentation")
    return member, trained_config(read_metadata(member), model_set)


def trained_config(metadata: dict, where: str) -> InteractiveConfig:
    """The `InteractiveConfig` a segmentation member was trained with, from its metadata (`read_metadata`);
    ValueError naming `where` when it has none or one this version cannot read."""
    trained = metadata.get("config")
    if not isinstance(trained, dict):
        raise ValueError(f"{where}: no training config in its metadata")
    try:
        return config_from_dict(InteractiveConfig, trained)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: its training config does not fit this version ({error})") from error
