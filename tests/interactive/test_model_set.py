"""The training config of an interactive set's segmentation member (`interactive.model_set.trained_config`): read
back from its metadata, and refused with a line naming the set when missing or not this version's."""
import dataclasses

import pytest

from interactive.config import InteractiveConfig
from interactive.model_set import trained_config


def test_the_config_reads_back_from_the_metadata():
    config = InteractiveConfig(input_channels=("PT", "CT"), roi_size=(64, 64, 64), click_probability=0.5)
    assert trained_config({"config": dataclasses.asdict(config)}, "sets/a") == config


@pytest.mark.parametrize("metadata, message", [({}, "sets/a: no training config in its metadata"),
                                               ({"config": {"no_such_field": 1}}, "sets/a: its training config "
                                                "does not fit this version"),
                                               ({"config": {"click_rule": "nearest"}}, "sets/a: its training config "
                                                "does not fit this version")])
def test_a_missing_or_foreign_config_is_refused_naming_the_set(metadata, message):
    with pytest.raises(ValueError, match=message):
        trained_config(metadata, "sets/a")
