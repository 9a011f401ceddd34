"""Train -> export -> entrypoint with clicks: outputs on the input grid (nibabel), the traced clicks -> guidance
signature equal to the Python one, clicks files that are malformed or point outside the image refused in one line,
cases without a clicks file segmented without clicks; the exported model loads in a TensorFlow-only process."""
import json
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
import tensorflow as tf

from interactive.guidance import click_indices, guidance_channels
from preprocessing.cases import autopet_cases
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import read_image
from tests.conftest import run_module


def test_guidance_signature_equals_the_python_guidance(interactive_model_set):
    member = tf.saved_model.load(os.path.join(interactive_model_set, "autopet_interactive", "interactive"))
    grid = ImageGeometry((40, 30, 20), (2.0, 2.0, 3.0), (-40.0, 10.0, 300.0), (0, 1, 0, -1, 0, 0, 0, 0, 1))
    lesion = grid.index_to_physical(np.array([[3.2, 4.0, 5.1], [30.0, 20.0, 10.0]]))
    background = grid.index_to_physical(np.array([[0.0, 0.0, 0.0], [45.0, 0.0, 0.0]]))
    outputs = member.signatures["guidance"](
        lesion_mm=tf.constant(lesion, tf.float32), background_mm=tf.constant(background, tf.float32),
        shape=tf.constant(grid.shape), origin=tf.constant(grid.origin, tf.float64),
        spacing=tf.constant(grid.spacing, tf.float64), direction=tf.constant(grid.direction, tf.float64))
    expected = guidance_channels(click_indices(lesion, grid)[0], click_indices(background, grid)[0], grid.shape)
    np.testing.assert_array_equal(outputs["guidance"].numpy(), expected.numpy())
    assert outputs["lesion_inside"].numpy().tolist() == [True, True]
    assert outputs["background_inside"].numpy().tolist() == [True, False]


def test_entrypoint_with_clicks_keeps_the_input_grid(autopet_folder, interactive_model_set, tmp_path):
    cases = autopet_cases(autopet_folder)
    clicks = tmp_path / "clicks"
    clicks.mkdir()
    label, geometry = read_image(cases[0].label_paths[0])
    inside = np.argwhere(label > 0)
    point = geometry.index_to_physical(np.array(inside[len(inside) // 2][::-1] if len(inside) else [5, 5, 5], float))
    (clicks / f"{cases[0].case_id}.json").write_text(json.dumps({"foreground": [point.tolist()], "background": []}))
    (clicks / f"{cases[1].case_id}.json").write_text(json.dumps({"background": [[1e5, 0.0, 0.0]]}))
    (clicks / f"{cases[2].case_id}.json").write_text(json.dumps({"foreground": [[1, 2]]}))
    out = tmp_path / "out"
    result = run_module("inference", "--input_path", os.path.dirname(cases[0].image_path), "--output_path", str(out),
                        "--saved_models_folder", interactive_model_set, "--model", "autopet_interactive",
                        "--clicks_path", str(clicks))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == 2
    assert any("background click 1 at (100000, 0, 0) mm lies outside the image" in line for line in failed)
    assert any("'foreground' must be a list of [x, y, z] points in mm" in line for line in failed)
    for case in (cases[0], cases[3]):
        output = nib.load(str(out / f"{case.case_id}.nii.gz"))
        reference = nib.load(case.image_path)
        assert output.shape == reference.shape and np.allclose(output.affine, reference.affine, atol=1e-4)
        assert set(np.unique(np.asarray(output.dataobj))) <= {0, 1}


def test_exported_model_runs_in_a_tensorflow_only_process(interactive_model_set):
    code = ("import sys, json, tensorflow as tf\n"
            "m = tf.saved_model.load(sys.argv[1])\n"
            "meta = json.loads(m.signatures['metadata']()['json'].numpy())\n"
            "x = tf.zeros([1] + meta['roi_size'] + [len(meta['input_channels'])])\n"
            "p = m.signatures['serving_default'](image=x)['probabilities']\n"
            "assert p.shape == (1, *meta['roi_size'], 2) and p.dtype == tf.float32\n"
            "print('ok', sorted(k for k in sys.modules if k.split('.')[0] in "
            "('interactive', 'networks', 'preprocessing', 'serving', 'inference')))\n")
    result = subprocess.run([sys.executable, "-c", code, os.path.join(interactive_model_set, "autopet_interactive",
                                                                      "interactive")],
                            capture_output=True, text=True, encoding="utf-8", errors="replace", cwd="/", timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok []"
