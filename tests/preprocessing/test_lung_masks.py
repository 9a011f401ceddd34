"""Released lung masks binarised and split into the patient's right (1) and left (2) lung."""
import numpy as np

from preprocessing.lung_masks import LEFT_LUNG, RIGHT_LUNG, binary_mask, lung_labels, lung_sides, sides_of_masks


def two_lungs(height=60, width=80, bridge=False) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[10:50, 8:35] = True   # image left: the patient's right lung on a PA film
    mask[12:45, 45:70] = True  # image right: the patient's left lung
    if bridge:
        mask[30:33, 35:45] = True
    return mask


def test_anti_aliased_masks_threshold_at_128_and_binary_masks_at_nonzero():
    assert binary_mask(np.array([[0, 127, 128, 255]], np.uint8)).tolist() == [[False, False, True, True]]
    assert binary_mask(np.array([[0, 1]], np.uint8)).tolist() == [[False, True]]


def test_the_lung_on_the_image_left_is_the_patients_right_lung():
    labels = lung_sides(two_lungs())
    assert set(np.unique(labels[:, :35])) == {0, RIGHT_LUNG} and set(np.unique(labels[:, 45:])) == {0, LEFT_LUNG}
    assert np.array_equal(labels > 0, two_lungs())


def test_touching_lungs_are_cut_at_the_narrowest_column():
    mask = two_lungs(bridge=True)
    labels = lung_sides(mask)
    assert np.array_equal(labels > 0, mask)
    assert (labels[:, :35][mask[:, :35]] == RIGHT_LUNG).all() and (labels[:, 45:][mask[:, 45:]] == LEFT_LUNG).all()


def test_small_pieces_go_to_the_side_of_the_midline_they_lie_on():
    mask = two_lungs()
    mask[55:58, 10:13] = True
    mask[55:58, 66:69] = True
    labels = lung_sides(mask)
    assert (labels[55:58, 10:13] == RIGHT_LUNG).all() and (labels[55:58, 66:69] == LEFT_LUNG).all()


def test_one_mask_per_lung_is_named_by_position_not_by_order():
    mask = two_lungs()
    image_left, image_right = mask.copy(), mask.copy()
    image_left[:, 40:] = False
    image_right[:, :40] = False
    assert np.array_equal(sides_of_masks([image_right, image_left]), sides_of_masks([image_left, image_right]))
    assert np.array_equal(sides_of_masks([image_right, image_left]), lung_sides(mask))


def test_merged_labels_and_an_empty_mask():
    mask = two_lungs().astype(np.uint8) * 255
    assert set(np.unique(lung_labels([mask], separate=False))) == {0, 1}
    assert not lung_sides(np.zeros((5, 5), bool)).any()
