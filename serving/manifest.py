"""Model-set manifests: `saved_models/<set>/manifest.json` says what a set of SavedModels is and how to run it.

Schema (format version 1)::

    {
      "format_version": 1,
      "name": "flare21",                      # the set's folder name, what `--model` takes
      "pipeline": "efficient_scn",            # the system whose pipeline runs the set (= members' `system`)
      "modality": "CT",                       # CT, XR, PT, ...
      "dimensionality": 3,                    # 2 (images) or 3 (volumes)
      "input_channels": ["CT"],               # one name per channel file: case_0000, case_0001, ...
      "side_inputs": [],                      # per-case extra inputs by name (e.g. "clicks")
      "members": {"localization": "localization", ...},   # role -> SavedModel folder inside the set
      "outputs": ["label_map"],               # what a case produces: label_map, findings
      "labels": {"0": "background", ...},
      "trained_on": "synthetic phantoms ...", # the data the weights saw
      "default": true,                        # optional: the set chosen when several accept an input
                                              # and no --model is given (export --default_set)
      "description": "..."
    }
"""
from __future__ import annotations

import json
import os

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
OUTPUT_KINDS = ("label_map", "findings")


class ManifestError(ValueError):
    """A model set whose manifest is missing or does not follow the schema; the message names the folder."""


def validate_manifest(manifest: object, where: str = "manifest") -> dict:
    """Checks a manifest against the schema; returns it, or raises ManifestError naming the field."""
    def require(condition: bool, message: str) -> None:
        if not condition:
            raise ManifestError(f"{where}: {message}")

    require(isinstance(manifest, dict), "expected a JSON object")
    require(manifest.get("format_version") == MANIFEST_VERSION,
            f"format_version {manifest.get('format_version')!r}, this reader understands {MANIFEST_VERSION}")
    for key in ("name", "pipeline", "modality", "trained_on"):
        require(isinstance(manifest.get(key), str) and manifest[key], f"{key}: expected a non-empty string")
    require(manifest.get("dimensionality") in (2, 3), "dimensionality: expected 2 or 3")
    channels = manifest.get("input_channels")
    require(isinstance(channels, list) and channels and all(isinstance(c, str) for c in channels),
            "input_channels: expected a non-empty list of channel names")
    require(isinstance(manifest.get("side_inputs", []), list), "side_inputs: expected a list of names")
    members = manifest.get("members")
    require(isinstance(members, dict) and members and all(isinstance(v, str) and v and "/" not in v
                                                          for v in members.values()),
            "members: expected an object {role: folder name inside the set}")
    outputs = manifest.get("outputs")
    require(isinstance(outputs, list) and outputs and set(outputs) <= set(OUTPUT_KINDS),
            f"outputs: expected a non-empty list of {', '.join(OUTPUT_KINDS)}")
    labels = manifest.get("labels")
    require(isinstance(labels, dict) and "0" in labels, "labels: expected an object with label 0")
    require(isinstance(manifest.get("default", False), bool), "default: expected true or false")
    return manifest


def read_manifest(set_folder: str) -> dict:
    """The validated manifest of the model set in `set_folder`."""
    path = os.path.join(set_folder, MANIFEST_NAME)
    if not os.path.isfile(path):
        raise ManifestError(f"{set_folder}: no {MANIFEST_NAME} (not a model set)")
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as error:
        raise ManifestError(f"{path}: cannot be read as JSON: {error}") from error
    return validate_manifest(manifest, path)


def manifest_json(manifest: dict) -> str:
    """The manifest as the JSON text written to disk (validated first)."""
    return json.dumps(validate_manifest(manifest), indent=2, sort_keys=True) + "\n"
