"""The SavedModels shipped in saved_models/ honour the documented contract."""
import json
import os

import pytest
import tensorflow as tf

from tests.conftest import REPO

SHIPPED = os.path.join(REPO, "saved_models")


@pytest.mark.parametrize("name, kind, labels", [
    ("localization", "localization", {"0": "background", "1": "organs"}),
    ("segmentation", "segmentation", {"0": "background", "1": "liver", "2": "kidney", "3": "spleen", "4": "pancreas"}),
    ("cfcm", "cfcm", {"0": "background", "1": "lungs"}),
])
def test_shipped_network_signatures_and_metadata(name, kind, labels):
    model = tf.saved_model.load(os.path.join(SHIPPED, name))
    metadata = json.loads(model.signatures["metadata"]()["json"].numpy())
    assert metadata["model_kind"] == kind and metadata["labels"] == labels and metadata["format_version"] == 1
    spec = model.signatures["serving_default"].structured_input_signature[1]["image"]
    assert spec.dtype == tf.float32 and spec.shape[-1] == 1
    size = [metadata["size_multiple"]] * (spec.shape.rank - 2)
    out = model.signatures["serving_default"](image=tf.zeros([1, *size, 1]))["probabilities"]
    assert out.dtype == tf.float32 and out.shape[-1] == len(labels)


def test_shipped_tf_utils_module_has_the_documented_functions():
    module = tf.saved_model.load(os.path.join(SHIPPED, "tf_utils_module"))
    for function in ("network_input", "whole_volume_box", "bounding_box", "labels_on_original_grid"):
        assert callable(getattr(module, function))
