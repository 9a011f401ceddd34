"""The planes of an RSTN set must agree on the labels, the input's preparation (window, slices per stack, margin) and
the rounds (`rstn.export.SHARED_FIELDS`), which the member's metadata states once beside each plane's config; they
may differ in their training."""
import dataclasses

import pytest

from rstn.config import PLANES, RSTNConfig
from rstn.export import SHARED_FIELDS, rstn_metadata


@pytest.mark.parametrize("field, value", [("window_hu", (-160.0, 240.0)), ("slice_thickness", 1), ("crop_margin", 10),
                                          ("fine_threshold", 0.4)])
def test_planes_that_differ_in_a_shared_field_are_refused(field, value):
    configs = {plane: RSTNConfig() for plane in PLANES}
    configs["Z"] = dataclasses.replace(configs["Z"], **{field: value})
    with pytest.raises(ValueError, match=f"plane Z: {field} other than plane X's"):
        rstn_metadata(configs)


def test_the_metadata_states_what_every_plane_has_and_each_planes_own_config():
    configs = {"X": RSTNConfig(), "Y": RSTNConfig(epochs=(1, 1, 2), learning_rate=3e-5),
               "Z": RSTNConfig(coarse_threshold=0.3)}
    metadata = rstn_metadata(configs)
    for plane, config in metadata["plane_configs"].items():
        assert config == dataclasses.asdict(configs[plane])
        assert list(config["window_hu"]) == metadata["normalization"]["window_hu"]
        assert all(config[name] == metadata[name] for name in SHARED_FIELDS if name in metadata)
    assert {"slice_thickness", "crop_margin", "fine_threshold", "max_rounds", "stop_dsc"} <= set(metadata)
    assert "coarse_threshold" not in metadata, "unused by the rounds, and not the same in every plane"
