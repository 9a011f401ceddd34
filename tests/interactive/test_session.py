"""The session re-runs only the windows a click changes and gives the full recompute's result; undo restores
the previous result; clicks outside the image are refused; the mask is on the input grid."""
import os

import numpy as np
import pytest

from interactive.guidance import click_indices, guidance_channels
from interactive.session import Session
from preprocessing.cases import autopet_cases
from preprocessing.image_io import read_image


def test_incremental_windows_equal_a_full_recompute(autopet_folder, interactive_model_set):
    case = autopet_cases(autopet_folder)[0]
    pet, geometry = read_image(case.image_path)
    model_set = os.path.join(interactive_model_set, "autopet_interactive")
    session = Session(model_set, [pet], geometry)
    total = len(session.boxes)
    assert session.windows_run == total > 4
    before = session.probabilities().copy()
    centre = geometry.index_to_physical(np.array([20.0, 20.0, geometry.size[2] // 2]))
    ran = session.add_click(centre, foreground=True)
    assert 0 < ran < total, "only the windows around the click run again"
    ran_background = session.add_click(geometry.index_to_physical(np.array([5.0, 5.0, 3.0])), foreground=False)
    assert 0 < ran_background < total
    lesion, background = (click_indices(np.array([p for p, f in session.clicks if f == kind]), session.grid)[0]
                          for kind in (True, False))
    whole = guidance_channels(lesion, background, session.grid.shape, session.config.guidance_sigma,
                              session.config.guidance_disks).numpy()
    np.testing.assert_array_equal(session.guidance, whole)  # built in the clicks' box, equal over the volume
    fresh = Session(model_set, [pet], geometry)
    fresh.set_clicks(session.clicks)
    assert fresh.recompute() == total
    np.testing.assert_allclose(session.probabilities(), fresh.probabilities(), atol=1e-5)
    assert not np.allclose(session.probabilities(), before), "the clicks changed the result"
    session.undo()
    session.undo()
    np.testing.assert_allclose(session.probabilities(), before, atol=1e-5)
    mask = session.mask()
    assert mask.shape == pet.shape and mask.dtype == np.uint8
    with pytest.raises(ValueError, match="lies outside the image"):
        session.add_click((1e5, 0.0, 0.0), foreground=True)
