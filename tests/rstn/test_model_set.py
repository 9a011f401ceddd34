"""A model set of the older RSTN layout (one member per plane) is refused before any compute, in one line that says
to export it again, by the three commands that load an RSTN set: the entrypoint, `rstn.evaluate` and
`rstn.diagnose` (one check, `rstn.model_set`)."""
import json
import os

import numpy as np
import pytest

from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import write_image
from rstn.model_set import ROLE, check_layout
from serving import ModelError
from tests.conftest import REPO, run_module


def old_layout_set(folder) -> str:
    """The shipped set's manifest with the members of the older layout (plane_X, plane_Y, plane_Z)."""
    manifest = json.load(open(os.path.join(REPO, "saved_models", "pancreas_rstn", "manifest.json")))
    manifest["members"] = {plane: f"plane_{plane}" for plane in "XYZ"}
    set_folder = folder / "pancreas_rstn"
    set_folder.mkdir(parents=True)
    (set_folder / "manifest.json").write_text(json.dumps(manifest))
    return str(set_folder)


def test_check_layout_names_the_set_and_what_to_do(tmp_path):
    set_folder = old_layout_set(tmp_path)
    manifest = json.load(open(os.path.join(set_folder, "manifest.json")))
    with pytest.raises(ModelError, match=f"^{set_folder}: no '{ROLE}' member .*export it again with rstn.export"):
        check_layout(set_folder, manifest)
    with pytest.raises(ModelError, match="a 'cfcm' model set, not an RSTN"):
        check_layout(set_folder, {**manifest, "pipeline": "cfcm"})


@pytest.mark.parametrize("command", ["inference", "rstn.evaluate", "rstn.diagnose"])
def test_an_old_layout_set_stops_each_command_before_any_case_in_one_line(command, nih_folder, tmp_path):
    set_folder = old_layout_set(tmp_path / "models")
    outputs = tmp_path / "out"
    if command == "inference":
        inputs = tmp_path / "in"
        inputs.mkdir()
        geometry = ImageGeometry((32, 32, 8), (0.8, 0.8, 2.5), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
        write_image(np.full((8, 32, 32), 40, np.int16), geometry, str(inputs / "ct_0000.nii.gz"))
        args = ["--input_path", str(inputs), "--output_path", str(outputs), "--saved_models_folder",
                os.path.dirname(set_folder)]
    elif command == "rstn.evaluate":
        args = ["--dataset_folder", nih_folder, "--model_set", set_folder, "--output_folder", str(outputs)]
    else:
        args = ["--model_set", set_folder, "--cache_folder", str(tmp_path / "no_cache"), "--output_folder",
                str(outputs)]
    result = run_module(command, *args)
    message = (f"{set_folder}: no 'segmentation' member (a set of the older one-member-per-plane layout: export it "
               "again with rstn.export)")
    assert result.returncode == (2 if command == "inference" else 1), result.stderr[-2000:]
    assert result.stderr.strip() == (f"error: {message}" if command == "inference" else message)
    assert not outputs.exists() or os.listdir(outputs) == []
