"""RSTN testing math: plane views (NumPy and TensorFlow) and their inverse, the stack bookkeeping of the original's
averaging, the
post-processing on hand-made components, and the coarse-to-fine rounds with a fixed fake fine stage."""
import numpy as np
import pytest

from rstn.fusion import (FUSION_SUM_THRESHOLDS, coarse_to_fine, fused_mask, mean_of_planes,
                         remove_small_components)
from rstn.planes import plane_view, stack_indices
from rstn.volume_inference import from_plane, stack_counts, to_plane


def test_plane_views_slice_the_original_axes_and_invert():
    volume = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    assert plane_view(volume, "Z").shape == (4, 5, 6)
    assert plane_view(volume, "X").shape == (5, 6, 4), "X slices rows (y): images [x, z]"
    assert plane_view(volume, "Y").shape == (6, 5, 4), "Y slices columns (x): images [y, z]"
    np.testing.assert_array_equal(plane_view(volume, "X")[2], volume[:, 2, :].T)
    np.testing.assert_array_equal(plane_view(volume, "Y")[3], volume[:, :, 3].T)
    for plane in "XYZ":
        np.testing.assert_array_equal(to_plane(volume, plane).numpy(), plane_view(volume, plane))
        np.testing.assert_array_equal(from_plane(to_plane(volume, plane), plane).numpy(), volume)
    with pytest.raises(ValueError, match="plane"):
        plane_view(volume, "W")


def test_stacks_repeat_the_ends_and_each_slice_is_averaged_over_the_stacks_predicting_it():
    assert stack_indices(0, 5, 3) == [0, 0, 1] and stack_indices(4, 5, 3) == [3, 4, 4]
    assert stack_indices(2, 5, 1) == [2, 2, 2]
    np.testing.assert_array_equal(stack_counts(5, 3).numpy(), [2, 3, 3, 3, 2])
    np.testing.assert_array_equal(stack_counts(5, 1).numpy(), [1] * 5)
    np.testing.assert_array_equal(stack_counts(1, 3).numpy(), [1])


def test_coarse_fusion_variants_are_any_majority_all():
    planes = [np.full((1, 1, 3), p, np.float32) for p in (0.9, 0.6, 0.2)]
    total = sum(planes)
    assert [int((total >= t).all()) for t in FUSION_SUM_THRESHOLDS.values()] == [1, 1, 0]
    np.testing.assert_allclose(mean_of_planes(planes), 1.7 / 3, rtol=1e-6)
    assert fused_mask(mean_of_planes(planes), 0.5).all()


def test_post_processing_keeps_components_at_least_half_the_largest_six_connected():
    mask = np.zeros((10, 10, 10), np.uint8)
    mask[1:3, 1:3, 1:3] = 1          # 8 voxels: the largest
    mask[6:8, 6:8, 6] = 1            # 4 voxels: kept (>= 0.5 x 8)
    mask[8, 1, 1:4] = 1              # 3 voxels: removed
    mask[3, 3, 3] = 1                # touches the largest by a corner only: its own component of 1, removed
    kept = remove_small_components(mask, 0.5)
    assert kept.sum() == 12 and kept[1:3, 1:3, 1:3].all() and kept[6:8, 6:8, 6].all() and not kept[3, 3, 3]
    assert remove_small_components(mask, 0.0).sum() == mask.sum()
    half = np.zeros((2, 2, 2), np.uint8)
    half[0] = 1
    half[1, 1, 1] = 1
    np.testing.assert_array_equal(remove_small_components(half, 0.5), half)  # half the volume or more: as it is


def test_coarse_to_fine_stops_at_the_first_round_reaching_the_inter_round_dsc():
    coarse = np.zeros((4, 8, 8), np.float32)
    coarse[1:3, 2:6, 2:6] = 0.9
    grown = [0]

    def fine(score, mask):
        """Each round adds one voxel next to the block, until round 3; then the result no longer changes."""
        assert score.shape == mask.shape == coarse.shape
        result = mask.astype(np.float32)
        grown[0] += 1
        if grown[0] <= 3:
            result[1, 1, 2 + grown[0]] = 1.0
        return result

    rounds = coarse_to_fine(coarse, fine, 0.5, 0.5, max_rounds=10, stop_dsc=0.99)
    assert rounds.stop_round == 4 and len(rounds.masks) == 5
    assert rounds.inter_dsc[-1] == 1.0 and all(d < 0.99 for d in rounds.inter_dsc[:-1])
    assert rounds.final.sum() == 32 + 3

    grown[0] = 0
    every = coarse_to_fine(coarse, fine, 0.5, 0.5, max_rounds=6, stop_dsc=0.99, run_all_rounds=True)
    assert len(every.masks) == 7 and every.stop_round == 4

    grown[0] = 0
    capped = coarse_to_fine(coarse, fine, 0.5, 0.5, max_rounds=2, stop_dsc=0.99)
    assert capped.stop_round == 2 and len(capped.masks) == 3


def test_an_empty_coarse_mask_ends_the_rounds():
    rounds = coarse_to_fine(np.zeros((2, 3, 3), np.float32), lambda s, m: pytest.fail("no fine round"), 0.5, 0.5,
                            10, 0.99)
    assert rounds.stop_round == 0 and not rounds.final.any()
