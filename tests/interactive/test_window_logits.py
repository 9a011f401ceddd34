"""Overlapping windows blend the network's logits, as MONAI's SlidingWindowInferer does (not probabilities): the
session's blended margin is the lesion-minus-background logit of the blended logits, and a set exported before the
`logits` output (probabilities only) gives the same margin and argmax from its log-probabilities."""
import os

import numpy as np
import tensorflow as tf

from inference.sliding_window import sliding_window_inference
from interactive.preprocess import network_input
from interactive.session import Session
from interactive.window_logits import window_logits
from preprocessing.cases import autopet_cases
from preprocessing.image_io import read_image
from serving.loading import load_model_set


class ProbabilitiesOnly:
    """The serving signature of a set exported before the `logits` output."""

    def __init__(self, signature):
        self.signature = signature
        self.structured_outputs = {"probabilities": signature.structured_outputs["probabilities"]}

    def __call__(self, image):
        return {"probabilities": self.signature(image=image)["probabilities"]}


def test_windows_blend_logits_and_old_sets_give_the_same_margin(autopet_folder, interactive_model_set):
    member = load_model_set(os.path.join(interactive_model_set, "autopet_interactive"))["segmentation"]
    signature = member.signatures["serving_default"]
    case = autopet_cases(autopet_folder)[0]
    pet, geometry = read_image(case.image_path)
    session = Session(member, [pet], geometry)
    image, _ = network_input([pet], geometry, session.config)
    volume = np.concatenate([image, np.zeros(image.shape[:3] + (2,), np.float32)], axis=-1)
    roi, overlap = session.config.roi_size, session.config.overlap
    assert len(session.boxes) > 4, "windows overlap"
    logits = sliding_window_inference(volume, roi, window_logits(signature), 2, overlap=overlap)
    np.testing.assert_allclose(session.margin(), logits[..., 1] - logits[..., 0], atol=1e-4)
    probabilities = sliding_window_inference(
        volume, roi, lambda b: signature(image=tf.constant(b))["probabilities"].numpy(), 2, overlap=overlap)
    assert not np.allclose(probabilities[..., 1], 1.0 / (1.0 + np.exp(-session.margin())), atol=1e-4), \
        "blending probabilities is another rule"
    old = sliding_window_inference(volume, roi, window_logits(ProbabilitiesOnly(signature)), 2, overlap=overlap)
    np.testing.assert_allclose(old[..., 1] - old[..., 0], logits[..., 1] - logits[..., 0], atol=1e-3)
    np.testing.assert_array_equal(np.argmax(old, -1), np.argmax(logits, -1))
