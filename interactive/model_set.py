"""The click-guided segmentation member of an interactive model set and the config it was trained with: the one
loader of the tools that read a set (evaluation, click reach, sessions, fine-tuning)."""
from __future__ import annotations

from interactive.config import InteractiveConfig
from networks.config_io import config_from_dict
from serving.loading import load_model_set, read_metadata
from serving.manifest import read_manifest


def interactive_member(model_set: str) -> tuple[object, InteractiveConfig]:
    """(the loaded `segmentation` SavedModel, the `InteractiveConfig` it was trained with) of the set in the folder
    `model_set`. Raises ModelError or ManifestError (missing, damaged) or ValueError naming the set (another
    system's set, no training config, or one this version cannot read)."""
    pipeline = read_manifest(model_set)["pipeline"]
    if pipeline != "interactive":
        raise ValueError(f"{model_set}: a '{pipeline}' model set, not a click-guided one")
    member = load_model_set(model_set)["segmentation"]
    trained = read_metadata(member).get("config")
    if not isinstance(trained, dict):
        raise ValueError(f"{model_set}: no training config in its metadata")
    try:
        return member, config_from_dict(InteractiveConfig, trained)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{model_set}: its training config does not fit this version ({error})") from error
