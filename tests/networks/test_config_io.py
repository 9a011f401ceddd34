"""A saved config.json reproduces a run: every field, augmentation settings included, reads back equal."""
import dataclasses

from cfcm.config import CFCMConfig
from localization.config import LocalizationConfig
from networks.config_io import read_config, write_config
from preprocessing.augmentation import IntensityAugmentation
from scn.config import SCNConfig


def test_configs_with_augmentation_round_trip_through_json(tmp_path):
    for config in (LocalizationConfig(num_levels=3), CFCMConfig(resnet_depth=18),
                   dataclasses.replace(SCNConfig(), intensity_augmentation=IntensityAugmentation(noise_std=0.0),
                                       spatial_augmentation=dataclasses.replace(SCNConfig().spatial_augmentation,
                                                                                axis_scale=0.3))):
        path = str(tmp_path / f"{type(config).__name__}.json")
        write_config(config, path)
        assert read_config(type(config), path) == config
    assert read_config(LocalizationConfig, path_of(tmp_path, LocalizationConfig)).valid_sizes[1] == (32, 48, 64, 80)


def path_of(folder, config_cls) -> str:
    return str(folder / f"{config_cls.__name__}.json")
