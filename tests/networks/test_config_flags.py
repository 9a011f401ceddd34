"""Flags made from a config dataclass: one per field, defaults and help from the dataclass, values back."""
from absl import flags

from networks.config_flags import config_from_flags, define_config_flags, field_docs
from rstn.config import RSTNConfig


def test_every_field_becomes_a_flag_with_its_default_and_doc():
    values = flags.FlagValues()
    define_config_flags(RSTNConfig, flag_values=values)
    values(["prog", "--epochs", "1,2,3", "--learning_rate", "0.5", "--organ_ids", "1,7"])
    config = config_from_flags(RSTNConfig, values)
    assert config.epochs == (1, 2, 3) and config.learning_rate == 0.5 and config.organ_ids == (1, 7)
    assert config.window_hu == (-100.0, 240.0) and config.momentum == 0.99
    assert values["crop_margin"].help.startswith("pixels added on each side of the organ box")
    docs = field_docs(RSTNConfig)
    assert set(docs) == {f for f in RSTNConfig.__dataclass_fields__}, "every field is documented"
