"""The contract, for every model set installed in saved_models/ and every registered pipeline: the set loads
and runs in a process that imports only TensorFlow, its manifest and metadata validate, its members are the
system and roles the manifest says, and the registry's pipeline class loads it."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from inference.model_sets import find_model_sets
from inference.pipeline import Pipeline, RunOptions
from inference.registry import PIPELINES, pipeline_class
from serving import load_model_set, read_metadata
from tests.conftest import PROJECT_PACKAGES, REPO

SHIPPED = os.path.join(REPO, "saved_models")
SETS = find_model_sets(SHIPPED)

TF_ONLY_SCRIPT = textwrap.dedent("""
    import json, os, sys
    import tensorflow as tf
    folder, packages = sys.argv[1], sys.argv[2].split(",")
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    for role, member in manifest["members"].items():
        model = tf.saved_model.load(os.path.join(folder, member))
        meta = json.loads(model.signatures["metadata"]()["json"].numpy())
        assert (meta["system"], meta["role"]) == (manifest["pipeline"], role), meta
        for name, declared in meta["signatures"].items():
            function = model.signatures[name]
            assert set(function.structured_input_signature[1]) == set(declared["inputs"]), name
        if "serving_default" in meta["signatures"]:
            inputs = {}
            for key, spec in meta["signatures"]["serving_default"]["inputs"].items():
                size = meta.get("size_multiple", 16)  # one value, or one per spatial axis
                sizes = size if isinstance(size, list) else [size] * len(spec["shape"])
                shape = [1 if i == 0 and n is None else (sizes[max(i - 1, 0)] if n is None else n)
                         for i, n in enumerate(spec["shape"])]
                shape = meta.get("example_inputs", {}).get(key, shape)  # related sizes, when the set gives them
                inputs[key] = tf.zeros(shape, tf.as_dtype(spec["dtype"]))
            outputs = model.signatures["serving_default"](**inputs)
            for key, spec in meta["signatures"]["serving_default"]["outputs"].items():
                assert outputs[key].dtype.name == spec["dtype"], (key, outputs[key].dtype)
        print("ran", role)
    print("modules:", sorted(m for m in sys.modules if m.split(".")[0] in packages))
""")


@pytest.mark.parametrize("name", sorted(SETS))
def test_installed_set_loads_and_runs_with_tensorflow_only(name):
    result = subprocess.run([sys.executable, "-c", TF_ONLY_SCRIPT, SETS[name].folder, ",".join(PROJECT_PACKAGES)],
                            capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=300, cwd="/")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "modules: []" in result.stdout, "loading a model set needs none of this project's code"
    assert result.stdout.count("ran ") == len(SETS[name].manifest["members"])


@pytest.mark.parametrize("name", sorted(SETS))
def test_installed_set_metadata_validates_and_matches_the_manifest(name):
    manifest = SETS[name].manifest
    members = load_model_set(SETS[name].folder)
    assert set(members) == set(manifest["members"])
    for role, member in members.items():
        metadata = read_metadata(member)
        assert metadata["format_version"] == 2
        assert (metadata["system"], metadata["role"]) == (manifest["pipeline"], role)
        if "labels" in metadata:
            assert metadata["labels"] == manifest["labels"] or role == "localization"
    pipeline = pipeline_class(manifest["pipeline"])(SETS[name], RunOptions())
    assert pipeline.output_suffix in (".nii.gz", ".png")


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_every_registered_pipeline_ships_a_demo_set(pipeline):
    assert any(s.manifest["pipeline"] == pipeline for s in SETS.values()), f"no shipped set runs {pipeline}"
    assert pipeline_class(pipeline).predict is not Pipeline.predict


def test_shipped_sets_say_what_they_were_trained_on():
    for model_set in SETS.values():
        trained_on = model_set.manifest["trained_on"]
        assert "synthetic phantoms" in trained_on or ("real chest X-rays" in trained_on and "terms" in trained_on)
        assert json.load(open(os.path.join(model_set.folder, "manifest.json")))["name"] == model_set.name
    assert "Montgomery" in SETS["cxr_lungs"].manifest["trained_on"] and "Shenzhen" in SETS["cxr_lungs"].manifest[
        "trained_on"]


def test_sliding_window_overlap_defaults_to_each_systems_original_and_the_flag_overrides_it():
    def overlap(name: str, options: RunOptions) -> float:
        return pipeline_class(SETS[name].manifest["pipeline"])(SETS[name], options).overlap

    assert overlap("autopet_interactive", RunOptions()) == 0.25  # SW-FastEdit utils/argparser.py --val_sw_overlap
    assert overlap("autopet_interactive", RunOptions(overlap=0.5)) == 0.5
    assert overlap("flare21", RunOptions()) == 0.5  # ours: the original never slides (it enlarges the spacing)
    assert overlap("flare21", RunOptions(overlap=0.0)) == 0.0
