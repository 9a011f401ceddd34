"""The SavedModel contract, readable from any TensorFlow code: metadata schema and validation, model-set
manifests, loading with a check of system and role, and the exporter of networks with named inputs and
outputs. Imports TensorFlow and the standard library only (never another package of this project).

Loading a model set from your own code::

    from serving import load_model_set
    members = load_model_set("saved_models/flare21")        # {role: loaded SavedModel}
    seg = members["segmentation"]
    probabilities = seg.signatures["serving_default"](image=x)["probabilities"]
"""
from serving.loading import ModelError, load_member, load_model_set, read_metadata
from serving.manifest import ManifestError, read_manifest, validate_manifest
from serving.metadata import FORMAT_VERSION, MetadataError, tensor_spec, validate_metadata

__all__ = ["FORMAT_VERSION", "ManifestError", "MetadataError", "ModelError", "load_member", "load_model_set",
           "read_manifest", "read_metadata", "tensor_spec", "validate_manifest", "validate_metadata"]
