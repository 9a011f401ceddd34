"""The metadata every exported SavedModel carries (its `metadata` signature returns it as JSON), and its
validation.

Schema (format version 2)::

    {
      "format_version": 2,
      "system": "efficient_scn",            # the system that made it (registry pipeline name)
      "role": "segmentation",               # its part in the system's pipeline
      "signatures": {                       # every signature but `metadata`, with named tensors
        "serving_default": {
          "inputs":  {"image": {"dtype": "float32", "shape": [null, null, null, null, 1]}},
          "outputs": {"probabilities": {"dtype": "float32", "shape": [null, null, null, null, 5]}}
        }
      },
      "labels": {"0": "background", "1": "liver", ...},      # optional: label value -> name
      "spacing_mm": [2.0, 2.0, 2.0],                          # optional: input spacing, array order (z, y, x)
      "normalization": {"kind": "window_hu", ...},            # optional: what the input must be scaled to
      "config": {...}                                         # optional: the training configuration
    }

Shapes list one entry per axis, null where the size is dynamic. Systems add their own keys (patch
shape, margins, ...); unknown keys are allowed.
"""
from __future__ import annotations

import tensorflow as tf

FORMAT_VERSION = 2
DTYPES = ("float32", "float64", "int32", "int64", "uint8", "string", "bool")


class MetadataError(ValueError):
    """Metadata that does not follow the schema; the message says which field and why."""


def tensor_description(spec: tf.TensorSpec) -> dict:
    """{'dtype', 'shape'} of a TensorSpec, as the schema writes it."""
    return {"dtype": spec.dtype.name, "shape": spec.shape.as_list() if spec.shape.rank is not None else None}


def tensor_spec(description: dict, name: str | None = None) -> tf.TensorSpec:
    """The TensorSpec of a schema tensor description."""
    return tf.TensorSpec(description["shape"], tf.as_dtype(description["dtype"]), name=name)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise MetadataError(message)


def _validate_tensors(where: str, tensors: object) -> None:
    _require(isinstance(tensors, dict) and tensors, f"{where}: expected a non-empty object of named tensors")
    for name, description in tensors.items():
        _require(isinstance(description, dict), f"{where}.{name}: expected {{'dtype', 'shape'}}")
        _require(description.get("dtype") in DTYPES, f"{where}.{name}.dtype: {description.get('dtype')!r} is not "
                 f"one of {', '.join(DTYPES)}")
        shape = description.get("shape")
        _require(shape is None or (isinstance(shape, list) and all(s is None or (isinstance(s, int) and s >= 0)
                                                                   for s in shape)),
                 f"{where}.{name}.shape: expected a list of sizes (null for dynamic), got {shape!r}")


def validate_metadata(metadata: object) -> dict:
    """Checks `metadata` against the schema; returns it, or raises MetadataError naming the field."""
    _require(isinstance(metadata, dict), "metadata: expected a JSON object")
    _require(metadata.get("format_version") == FORMAT_VERSION,
             f"format_version: {metadata.get('format_version')!r}, this reader understands {FORMAT_VERSION}")
    for key in ("system", "role"):
        _require(isinstance(metadata.get(key), str) and metadata[key], f"{key}: expected a non-empty string")
    signatures = metadata.get("signatures")
    _require(isinstance(signatures, dict) and signatures, "signatures: expected a non-empty object")
    for name, signature in signatures.items():
        _require(isinstance(signature, dict), f"signatures.{name}: expected {{'inputs', 'outputs'}}")
        _validate_tensors(f"signatures.{name}.inputs", signature.get("inputs"))
        _validate_tensors(f"signatures.{name}.outputs", signature.get("outputs"))
    if "labels" in metadata:
        labels = metadata["labels"]
        _require(isinstance(labels, dict) and labels and all(k.isdigit() and isinstance(v, str)
                                                              for k, v in labels.items()),
                 "labels: expected an object {\"0\": \"background\", \"1\": name, ...}")
        _require("0" in labels, "labels: label 0 (background) is missing")
    if "spacing_mm" in metadata:
        spacing = metadata["spacing_mm"]
        _require(isinstance(spacing, list) and spacing and all(isinstance(s, (int, float)) and s > 0
                                                               for s in spacing),
                 f"spacing_mm: expected positive numbers, got {spacing!r}")
    return metadata


def check_signatures(saved_model, metadata: dict) -> None:
    """Checks that a loaded SavedModel has every signature the metadata declares, with the declared input
    and output names and dtypes; raises MetadataError otherwise."""
    for name, declared in metadata["signatures"].items():
        _require(name in saved_model.signatures, f"signatures.{name}: declared but not in the SavedModel")
        function = saved_model.signatures[name]
        inputs = function.structured_input_signature[1]
        _require(set(inputs) == set(declared["inputs"]),
                 f"signatures.{name}.inputs: SavedModel has {sorted(inputs)}, metadata {sorted(declared['inputs'])}")
        for key, spec in inputs.items():
            _require(spec.dtype.name == declared["inputs"][key]["dtype"],
                     f"signatures.{name}.inputs.{key}: SavedModel dtype {spec.dtype.name}, metadata "
                     f"{declared['inputs'][key]['dtype']}")
        outputs = function.structured_outputs
        _require(set(outputs) == set(declared["outputs"]),
                 f"signatures.{name}.outputs: SavedModel has {sorted(outputs)}, metadata "
                 f"{sorted(declared['outputs'])}")
        for key, spec in outputs.items():
            _require(spec.dtype.name == declared["outputs"][key]["dtype"],
                     f"signatures.{name}.outputs.{key}: SavedModel dtype {spec.dtype.name}, metadata "
                     f"{declared['outputs'][key]['dtype']}")
