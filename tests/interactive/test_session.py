"""The session re-runs only the windows a click changes and gives the full recompute's result; undo restores
the previous result; clicks outside the image are refused; the mask is on the input grid; a volume smaller than
the window is padded as the entrypoint pads it."""
import os

import numpy as np
import pytest

from interactive.guidance import click_indices, guidance_channels
from interactive.guidance_pieces import paste
from interactive.session import Session
from preprocessing.cases import autopet_cases
from preprocessing.image_io import read_image
from tests.conftest import REPO


def test_incremental_windows_equal_a_full_recompute(autopet_folder, interactive_model_set):
    case = autopet_cases(autopet_folder)[0]
    pet, geometry = read_image(case.image_path)
    model_set = os.path.join(interactive_model_set, "autopet_interactive")
    session = Session(model_set, [pet], geometry)
    total = len(session.boxes)
    assert session.windows_run == total > 4
    before = session.margin().copy()
    centre = geometry.index_to_physical(np.array([20.0, 20.0, geometry.size[2] // 2]))
    ran = session.add_click(centre, foreground=True)
    assert 0 < ran < total, "only the windows around the click run again"
    ran_background = session.add_click(geometry.index_to_physical(np.array([5.0, 5.0, 3.0])), foreground=False)
    assert 0 < ran_background < total
    lesion, background = (click_indices(np.array([p for p, f in session.clicks if f == kind]), session.grid)[0]
                          for kind in (True, False))
    whole = guidance_channels(lesion, background, session.grid.shape, session.config.guidance_sigma,
                              session.config.guidance_disks).numpy()
    np.testing.assert_array_equal(paste(session.guidance, tuple(slice(0, n) for n in session.grid.shape)), whole)
    fresh = Session(model_set, [pet], geometry)
    fresh.set_clicks(session.clicks)
    assert fresh.recompute() == total
    np.testing.assert_allclose(session.margin(), fresh.margin(), atol=1e-4)
    assert not np.allclose(session.margin(), before), "the clicks changed the result"
    session.undo()
    session.undo()
    np.testing.assert_allclose(session.margin(), before, atol=1e-4)
    mask = session.mask()
    assert mask.shape == pet.shape and mask.dtype == np.uint8
    with pytest.raises(ValueError, match="lies outside the image"):
        session.add_click((1e5, 0.0, 0.0), foreground=True)


def test_a_volume_smaller_than_the_window_is_padded_as_the_entrypoint_pads_it(autopet_folder):
    """The shipped set's 64^3 windows on a phantom narrower than 64 voxels: the session pads the short axes at their
    end (a window keeps the network's size multiple) and its result is the entrypoint's sliding window, before and
    after a click."""
    from inference.sliding_window import sliding_window_inference
    from interactive.preprocess import network_input
    from interactive.window_logits import window_logits
    from serving.loading import load_model_set

    member = load_model_set(os.path.join(REPO, "saved_models", "autopet_interactive"))["segmentation"]
    pet, geometry = read_image(autopet_cases(autopet_folder)[1].image_path)
    session = Session(member, [pet], geometry)
    image, grid = network_input([pet], geometry, session.config)
    assert any(n < r for n, r in zip(image.shape[:3], session.config.roi_size)), "an axis shorter than the window"
    predict = window_logits(member.signatures["serving_default"])
    for clicks in ([], [(geometry.index_to_physical(np.array(geometry.size) // 2), True)]):
        session.set_clicks(clicks)
        lesion, background = (click_indices(np.array([p for p, f in clicks if f == kind]).reshape(-1, 3), grid)[0]
                              for kind in (True, False))
        guidance = guidance_channels(lesion, background, grid.shape, session.config.guidance_sigma,
                                     session.config.guidance_disks).numpy()
        logits = sliding_window_inference(np.concatenate([image, guidance], axis=-1), session.config.roi_size,
                                          predict, 2, overlap=session.config.overlap)
        np.testing.assert_allclose(session.margin(), logits[..., 1] - logits[..., 0], atol=1e-4)
        assert session.mask().shape == pet.shape
