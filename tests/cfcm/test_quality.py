"""The per-mask quality estimate (agreement of perturbed predictions) and the plausibility notes."""
import numpy as np

from cfcm.quality import PERTURBATIONS, agreement, perturbed, plausibility_note


def film() -> np.ndarray:
    image = np.full((100, 120), 200.0, np.float32)
    image[20:80, 15:50] = 40.0
    image[20:80, 70:105] = 40.0
    return image


def threshold_segmenter(image: np.ndarray) -> np.ndarray:
    """A segmenter that finds the dark lungs at any framing and grey curve: darker than the view's midpoint."""
    return (image < (image.min() + image.max()) / 2).astype(np.uint8)


def test_a_segmenter_that_is_stable_under_perturbation_agrees_fully():
    image = film()
    assert agreement(threshold_segmenter, image, threshold_segmenter(image)) == 1.0


def test_a_segmenter_that_follows_the_framing_instead_of_the_image_agrees_less():
    def framed(image: np.ndarray) -> np.ndarray:
        labels = np.zeros(image.shape, np.uint8)
        labels[image.shape[0] // 5:, : image.shape[1] // 3] = 1
        return labels

    image = film()
    score = agreement(framed, image, framed(image))
    assert 0.0 < score < 0.97


def test_perturbations_keep_the_image_and_cover_the_box_they_name():
    image = film()
    before = image.copy()
    for _, top_left, bottom_right, gamma in PERTURBATIONS:
        view, box = perturbed(image, top_left, bottom_right, gamma)
        assert view.shape == (box[2] - box[0], box[3] - box[1])
        assert view.min() >= image.min() - 1e-3 and view.max() <= image.max() + 1e-3
    assert np.array_equal(image, before), "the input is never modified"


def test_plausibility_notes():
    labels = threshold_segmenter(film()).astype(np.uint8)
    labels[:, 60:] *= 2
    assert plausibility_note(labels, separate=True) == ""
    assert plausibility_note(np.zeros((10, 10), np.uint8), separate=False).startswith("no lung found")
    tiny = np.zeros((100, 100), np.uint8)
    tiny[:2, :2] = 1
    assert plausibility_note(tiny, separate=False).startswith("implausible lung area (0.0 %")
    assert plausibility_note(np.where(labels == 2, 0, labels), separate=True).startswith("one lung only")


def test_confidence_is_the_soft_dice_of_the_probabilities_against_the_mask():
    from cfcm.quality import confidence

    probabilities = np.zeros((4, 4, 2), np.float32)
    probabilities[:2, :, 0] = 0.9
    probabilities[2:, :2, 1] = 0.6
    labels = np.zeros((4, 4), np.uint8)
    labels[:2] = 1
    labels[2:, :2] = 2
    expected = 2 * (8 * 0.9 + 4 * 0.6) / ((8 * 0.9 + 4 * 0.6) + 12)
    assert np.isclose(confidence(probabilities, labels, "sigmoid"), expected)
    softmax = np.stack([1 - probabilities.max(axis=-1), probabilities[..., 0], probabilities[..., 1]], axis=-1)
    assert np.isclose(confidence(softmax, labels, "softmax"), expected)
    assert confidence(np.zeros((3, 3, 1), np.float32), np.zeros((3, 3), np.uint8), "sigmoid") == 1.0
