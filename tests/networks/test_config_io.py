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
                                                                                scale_range=(0.8, 1.2)))):
        path = str(tmp_path / f"{type(config).__name__}.json")
        write_config(config, path)
        assert read_config(type(config), path) == config
    assert SCNConfig().spatial_augmentation.translation_voxels == 20.0, "the SCN's training translation"
