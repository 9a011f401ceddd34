"""Builds and saves SavedModels of this contract: named signatures over a set of variables, plus `metadata`.

A signature is a Python function of named tensors returning a dict of named tensors, with one TensorSpec
per input. The exporter traces each one, writes the `signatures` section of the metadata from the traced
inputs and outputs (so the metadata can never disagree with the graph), validates the metadata and saves. The
variables are written in shards of at most `MAX_SHARD_BYTES` (`variables/variables.data-0000K-of-0000N`), which
`tf.saved_model.load` reads as one checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence

import tensorflow as tf

from serving.metadata import FORMAT_VERSION, tensor_description, validate_metadata

MAX_SHARD_BYTES = 16 * 1024 * 1024
"""Largest variables file of a saved member (16 MB); larger variables are split across files."""


@dataclasses.dataclass(frozen=True)
class Signature:
    """One exported function: `function(**inputs) -> {name: tensor}`, inputs described by named specs."""

    function: Callable[..., dict]
    inputs: Sequence[tf.TensorSpec]


class ExportModule(tf.Module):
    """Tracks `variables` once (the functions reach the model through closures, so no weight is stored twice)
    and holds the traced signatures and the metadata constant."""

    def __init__(self, name: str, variables: Sequence[tf.Variable], signatures: dict[str, Signature],
                 metadata: dict):
        super().__init__(name=name)
        self.model_variables = list(variables)
        self.traced: dict[str, tf.types.experimental.GenericFunction] = {}
        described = {}
        for signature_name, signature in signatures.items():
            names = [spec.name for spec in signature.inputs]
            if any(not n for n in names):
                raise ValueError(f"signature {signature_name}: every input spec needs a name")
            traced = tf.function(_keyword_call(signature.function, names), input_signature=list(signature.inputs))
            concrete = traced.get_concrete_function()
            described[signature_name] = {
                "inputs": {spec.name: tensor_description(spec) for spec in signature.inputs},
                "outputs": {key: tensor_description(spec) for key, spec in concrete.structured_outputs.items()}}
            setattr(self, f"signature_{signature_name}", traced)
            self.traced[signature_name] = traced
        # Built as text before it becomes an attribute: tf.Module wraps dict attributes for tracking.
        text = json.dumps(validate_metadata({"format_version": FORMAT_VERSION, **metadata, "signatures": described}),
                          sort_keys=True)
        self._metadata_json = tf.constant(text)
        self.metadata = tf.function(lambda: {"json": self._metadata_json}, input_signature=[])


def _keyword_call(function: Callable[..., dict], names: list[str]) -> Callable[..., dict]:
    def call(*tensors: tf.Tensor) -> dict:
        return function(**dict(zip(names, tensors)))
    return call


def save(module: ExportModule, folder: str) -> None:
    """Saves `module` with its signatures and `metadata` into `folder`, the variables in shards of at most
    `MAX_SHARD_BYTES` (not atomic: callers that need it write into a temporary folder and rename)."""
    signatures = {name: traced.get_concrete_function() for name, traced in module.traced.items()}
    signatures["metadata"] = module.metadata.get_concrete_function()
    options = tf.saved_model.SaveOptions(
        experimental_sharding_callback=tf.train.experimental.MaxShardSizePolicy(MAX_SHARD_BYTES))
    tf.saved_model.save(module, folder, signatures=signatures, options=options)
