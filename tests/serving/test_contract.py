"""The serving contract: metadata validation, an export with several named inputs and outputs, loading with a
check of system and role, manifests."""
import json

import numpy as np
import pytest
import tensorflow as tf

from serving import ManifestError, MetadataError, ModelError, load_member, read_metadata, validate_manifest
from serving import validate_metadata
from serving.exporter import MAX_SHARD_BYTES, ExportModule, Signature, save

VALID = {"format_version": 2, "system": "demo", "role": "segmentation",
         "signatures": {"serving_default": {"inputs": {"image": {"dtype": "float32", "shape": [None, 4]}},
                                            "outputs": {"probabilities": {"dtype": "float32", "shape": [None, 2]}}}},
         "labels": {"0": "background", "1": "lesion"}, "spacing_mm": [2.0, 2.0, 3.0]}


@pytest.mark.parametrize("change, field", [
    ({"format_version": 1}, "format_version"),
    ({"system": ""}, "system"),
    ({"role": 3}, "role"),
    ({"signatures": {}}, "signatures"),
    ({"signatures": {"s": {"inputs": {"x": {"dtype": "complex64", "shape": [1]}}, "outputs": {"y": {
        "dtype": "float32", "shape": [1]}}}}}, "signatures.s.inputs.x.dtype"),
    ({"signatures": {"s": {"inputs": {"x": {"dtype": "float32", "shape": [-1]}}, "outputs": {"y": {
        "dtype": "float32", "shape": [1]}}}}}, "signatures.s.inputs.x.shape"),
    ({"labels": {"1": "lesion"}}, "labels"),
    ({"spacing_mm": [0.0, 1.0, 1.0]}, "spacing_mm"),
])
def test_metadata_validation_names_the_bad_field(change, field):
    assert validate_metadata(VALID) is VALID
    with pytest.raises(MetadataError, match=f"^{field}"):
        validate_metadata({**VALID, **change})


def test_export_with_named_inputs_and_outputs_round_trips(tmp_path):
    weight = tf.Variable([[1.0, -1.0], [0.5, 2.0]])

    def predict(image, clicks):
        logits = image @ weight + tf.reduce_sum(clicks)
        return {"probabilities": tf.nn.softmax(logits), "count": tf.shape(clicks)[0]}

    module = ExportModule("segmentation", [weight], {"serving_default": Signature(predict, [
        tf.TensorSpec([None, 2], tf.float32, name="image"), tf.TensorSpec([None, 3], tf.float32, name="clicks")])},
        {"system": "demo", "role": "segmentation", "labels": {"0": "background", "1": "lesion"}})
    save(module, str(tmp_path / "member"))
    loaded = load_member(str(tmp_path / "member"), "demo", "segmentation")
    metadata = read_metadata(loaded)
    assert metadata["signatures"]["serving_default"] == {
        "inputs": {"image": {"dtype": "float32", "shape": [None, 2]},
                   "clicks": {"dtype": "float32", "shape": [None, 3]}},
        "outputs": {"probabilities": {"dtype": "float32", "shape": [None, 2]},
                    "count": {"dtype": "int32", "shape": []}}}
    out = loaded.signatures["serving_default"](image=tf.constant([[1.0, 0.0]]), clicks=tf.zeros([4, 3]))
    np.testing.assert_allclose(out["probabilities"].numpy(), tf.nn.softmax([[1.0, -1.0]]).numpy(), rtol=1e-6)
    assert int(out["count"]) == 4
    with pytest.raises(ModelError, match="has role 'segmentation', expected 'localization'"):
        load_member(str(tmp_path / "member"), "demo", "localization")
    with pytest.raises(ModelError, match="has system 'demo', expected 'cfcm'"):
        load_member(str(tmp_path / "member"), "cfcm", None)
    with pytest.raises(ModelError, match="SavedModel not found"):
        load_member(str(tmp_path / "absent"))


def test_manifest_validation():
    manifest = {"format_version": 1, "name": "demo", "pipeline": "demo", "modality": "PT", "dimensionality": 3,
                "input_channels": ["PET"], "side_inputs": ["clicks"], "members": {"segmentation": "net"},
                "outputs": ["label_map"], "labels": {"0": "background", "1": "lesion"}, "trained_on": "phantoms"}
    assert validate_manifest(json.loads(json.dumps(manifest))) == manifest
    for change, message in (({"dimensionality": 4}, "dimensionality"), ({"outputs": ["boxes"]}, "outputs"),
                            ({"members": {"segmentation": "../elsewhere"}}, "members"),
                            ({"input_channels": []}, "input_channels"), ({"default": "yes"}, "default")):
        with pytest.raises(ManifestError, match=message):
            validate_manifest({**manifest, **change})


def test_large_variables_are_saved_in_shards_that_load_back_as_one(tmp_path):
    """28 MB of float32 variables (one larger than a shard) go into several files of at most MAX_SHARD_BYTES,
    and the loaded SavedModel computes with the same values."""
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(shape).astype(np.float32) for shape in ((5_000_000,), (2_000_000,), (3,))]
    weights = [tf.Variable(v) for v in values]

    def total(scale):
        return {"sums": tf.stack([tf.reduce_sum(w * scale) for w in weights])}

    module = ExportModule("big", weights, {"serving_default": Signature(total, [
        tf.TensorSpec([], tf.float32, name="scale")])}, {"system": "demo", "role": "big"})
    save(module, str(tmp_path / "member"))
    files = sorted((tmp_path / "member" / "variables").glob("variables.data-*"))
    assert len(files) >= 2 and all(f.stat().st_size <= MAX_SHARD_BYTES for f in files), \
        [(f.name, f.stat().st_size) for f in files]
    assert sum(v.nbytes for v in values) > MAX_SHARD_BYTES
    loaded = load_member(str(tmp_path / "member"), "demo", "big")
    for original, restored in zip(values, loaded.model_variables):
        np.testing.assert_array_equal(restored.numpy(), original)
    np.testing.assert_array_equal(loaded.signatures["serving_default"](scale=tf.constant(1.0))["sums"].numpy(),
                                  total(tf.constant(1.0))["sums"].numpy())
