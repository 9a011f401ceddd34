"""Loading SavedModels of this contract with a check of what they are."""
from __future__ import annotations

import json
import os

import tensorflow as tf

from serving.manifest import read_manifest
from serving.metadata import MetadataError, check_signatures, validate_metadata


class ModelError(RuntimeError):
    """A SavedModel is missing, unreadable or not the model expected; the message names the folder."""


def read_metadata(saved_model) -> dict:
    """The metadata JSON of a loaded SavedModel (not validated)."""
    return json.loads(saved_model.signatures["metadata"]()["json"].numpy().decode())


def load_member(folder: str, system: str | None = None, role: str | None = None):
    """Loads the SavedModel in `folder`, validates its metadata and signatures, and checks its system and role
    (None accepts any). Returns the loaded object; its metadata is `read_metadata(loaded)`."""
    if not os.path.isfile(os.path.join(folder, "saved_model.pb")):
        raise ModelError(f"{folder}: SavedModel not found (export it or run 'make demo-models')")
    try:
        model = tf.saved_model.load(folder)
    except Exception as error:  # noqa: BLE001 - TensorFlow raises many types for damaged files
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        detail = detail.replace(os.path.join(os.path.abspath(folder), ""), "").replace(os.path.join(folder, ""), "")
        raise ModelError(f"{folder}: SavedModel cannot be loaded: {detail[:300]}") from error
    if "metadata" not in model.signatures:
        raise ModelError(f"{folder}: SavedModel has no 'metadata' signature (not exported by this toolkit)")
    try:
        metadata = validate_metadata(read_metadata(model))
        check_signatures(model, metadata)
    except (MetadataError, ValueError) as error:
        raise ModelError(f"{folder}: metadata invalid: {error}") from error
    for key, expected in (("system", system), ("role", role)):
        if expected is not None and metadata[key] != expected:
            raise ModelError(f"{folder}: SavedModel has {key} '{metadata[key]}', expected '{expected}'")
    return model


def load_model_set(set_folder: str) -> dict:
    """{role: loaded SavedModel} of the model set in `set_folder`, each checked against its manifest
    (system = the manifest's pipeline, role = its key)."""
    manifest = read_manifest(set_folder)
    return {role: load_member(os.path.join(set_folder, folder), manifest["pipeline"], role)
            for role, folder in manifest["members"].items()}
