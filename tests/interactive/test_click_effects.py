"""What a click round changed: the regions added around the lesion click that are not lesion (a flood) and the lesion
removed with the region under the background click (an erasure); regions away from the clicks do not count."""
import numpy as np

from interactive.click_effects import ClickEffect, click_effect
from tests.interactive.masks import cube


def test_a_flood_at_the_lesion_click_and_an_erasure_at_the_background_click_are_counted_far_regions_are_not():
    shape = (20, 20, 20)
    clicked_lesion = cube(shape, (2, 2, 2), (5, 5, 5))
    small_lesion, far_lesion = cube(shape, (10, 10, 10), (12, 12, 12)), cube(shape, (0, 0, 15), (2, 2, 17))
    label = clicked_lesion | small_lesion | far_lesion
    false_rim = cube(shape, (5, 2, 2), (6, 5, 5))
    before = clicked_lesion | false_rim | far_lesion
    flood, far_added = cube(shape, (8, 8, 8), (15, 15, 15)), cube(shape, (0, 15, 15), (1, 17, 17))
    after = flood | far_added
    effect = click_effect(before, after, label, lesion_click=np.array([11, 11, 11]),
                          background_click=np.array([5, 3, 3]))
    assert effect == ClickEffect(added_voxels=343 + 4, removed_voxels=27 + 9 + 8,
                                 false_added_at_lesion_click=343 - 8, lesion_removed_at_background_click=27)


def test_a_round_without_clicks_or_changes_counts_nothing():
    shape = (6, 6, 6)
    before, label = cube(shape, (1, 1, 1), (3, 3, 3)), cube(shape, (1, 1, 1), (4, 4, 4))
    after = cube(shape, (1, 1, 1), (4, 4, 4))
    assert click_effect(before, after, label, None, None) == ClickEffect(19, 0, 0, 0)
    assert click_effect(before, before, label, np.array([1, 1, 1]), np.array([5, 5, 5])) == ClickEffect(0, 0, 0, 0)
