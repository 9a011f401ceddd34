"""Configuration of the click-guided sliding-window segmentation (Hadlich, Marinov et al., "Sliding Window Based
Interactive Segmentation of Volumetric Medical Images", 2023; SW-FastEdit), defaults as its public code at
matt3o/AutoPET2-Submission HEAD 2ab08a4 trains it (`src/sw_fastedit/utils/argparser.py`, `api.py`, `data.py`,
`transforms.py`, `utils/distance_transform.py`)."""
from __future__ import annotations

import dataclasses
from collections.abc import Collection

CLICK_RULES = ("uniform", "edt_max", "edt_weighted")
INTENSITY_MODES = ("percentile", "range")
# What a fine-tune (`interactive.train --init_model_set`, an addition) takes from the set it starts from, unless
# given as flags: the network, its windows and training crops, and what its input is (grid, intensity, guidance).
# The schedule, the click simulation, the augmentation and the split stay the flags' (the original's defaults).
MODEL_SET_FIELDS = ("input_channels", "spacing_mm", "intensity", "percentiles", "suv_range", "ct_range_hu",
                    "train_crop_size", "roi_size", "overlap", "kernel_sizes", "strides", "filters", "guidance_sigma",
                    "guidance_disks")


@dataclasses.dataclass(frozen=True)
class InteractiveConfig:
    """Network, preprocessing, guidance, click simulation and training schedule.

    Volumes are arrays in (z, y, x) order on the canonical orientation; sizes and spacings below are in that order
    (the original writes them (x, y, z) after MONAI's RAS orientation).

    Attributes:
        input_channels: image channels, in file order (_0000, _0001): PET (SUV) only as the original; ("PT", "CT")
            adds the CT.
        spacing_mm: network grid spacing (z, y, x) in mm (the original's AUTOPET_SPACING).
        intensity: 'percentile' (per volume, `percentiles` mapped to [0, 1], clipped) or 'range' (`suv_range`
            mapped to [0, 1], clipped; the original's MONAI Label task).
        percentiles: lower and upper percentile of the 'percentile' scaling.
        suv_range: SUV range of the 'range' scaling.
        ct_range_hu: HU range mapped to [0, 1] for a CT channel (an addition: the original reads no CT).
        train_crop_size: training crop (z, y, x) in voxels.
        positive_crop_fraction: fraction of training crops centred on a lesion voxel (the rest on background).
        flip_probability: probability of a flip, drawn per axis, in training.
        rotate90_probability: probability of a rotation by 90, 180 or 270 degrees in the axial plane, in training.
        roi_size: sliding-window size (z, y, x) in voxels, in training and inference.
        overlap: sliding-window overlap (fraction of the window) in training and validation.
        kernel_sizes: convolution kernel size per DynUNet level.
        strides: stride (z, y, x) per DynUNet level (the first level keeps the resolution).
        filters: filters per DynUNet level (MONAI's default min(2 ** (5 + level), 320)).
        guidance_sigma: standard deviation (voxels) of the Gaussian around each click.
        guidance_disks: guidance maps binarised at 0.1 of their maximum (disks) instead of Gaussian blobs.
        click_rule: where a simulated click lands in its error region: 'uniform' (any error voxel, what the
            original's code does), 'edt_max' (deepest point of the largest region), 'edt_weighted' (probability
            growing with the distance to the region's border).
        train_clicks: simulated click rounds per training sample before the gradient step.
        click_probability: the original's DeepGrow mode when below 1: a training sample gets click rounds only
            with this probability (else it trains on empty guidance), and each round adds clicks with it (the
            original's --deepgrow_probability_train).
        validation_clicks: simulated click rounds per validation case.
        squared_dice: the Dice part of the DiceCE loss squares the prediction in its denominator.
        dice_includes_background: the Dice part of the loss averages over background and lesion.
        learning_rate: Adam learning rate at the start of the cosine schedule.
        min_learning_rate: learning rate at the end of the cosine schedule (annealed per epoch).
        epochs: training epochs.
        batch_size: volumes per training step.
        train_fraction: fraction of the cases used for training (random split); the rest validate.
        split_seed: seed of that split.
    """

    input_channels: tuple[str, ...] = ("PT",)
    spacing_mm: tuple[float, float, float] = (3.0, 2.03642011, 2.03642011)
    intensity: str = "percentile"
    percentiles: tuple[float, float] = (0.05, 99.95)
    suv_range: tuple[float, float] = (0.0, 43.0)
    ct_range_hu: tuple[float, float] = (-1000.0, 1000.0)
    train_crop_size: tuple[int, int, int] = (224, 224, 224)
    positive_crop_fraction: float = 0.6
    flip_probability: float = 0.1
    rotate90_probability: float = 0.1
    roi_size: tuple[int, int, int] = (128, 128, 128)
    overlap: float = 0.25
    kernel_sizes: tuple[int, ...] = (3, 3, 3, 3, 3, 3)
    strides: tuple[tuple[int, int, int], ...] = ((1, 1, 1), (2, 2, 2), (2, 2, 2), (2, 2, 2), (2, 2, 2), (1, 2, 2))
    filters: tuple[int, ...] = (32, 64, 128, 256, 320, 320)
    guidance_sigma: float = 1.0
    guidance_disks: bool = True
    click_rule: str = "uniform"
    train_clicks: int = 10
    click_probability: float = 1.0
    validation_clicks: int = 10
    squared_dice: bool = True
    dice_includes_background: bool = True
    learning_rate: float = 1e-4
    min_learning_rate: float = 1e-8
    epochs: int = 100
    batch_size: int = 1
    train_fraction: float = 0.8
    split_seed: int = 36

    def __post_init__(self):
        if self.click_rule not in CLICK_RULES:
            raise ValueError(f"click_rule must be one of {', '.join(CLICK_RULES)} (got {self.click_rule!r})")
        if self.intensity not in INTENSITY_MODES:
            raise ValueError(f"intensity must be one of {', '.join(INTENSITY_MODES)} (got {self.intensity!r})")
        if not 0.0 <= self.click_probability <= 1.0:
            raise ValueError(f"click_probability must lie in [0, 1] (got {self.click_probability})")
        if not len(self.kernel_sizes) == len(self.strides) == len(self.filters):
            raise ValueError("kernel_sizes, strides and filters need one entry per level")


def model_set_fields(set_config: InteractiveConfig, given: Collection[str]) -> dict[str, object]:
    """The `MODEL_SET_FIELDS` values of `set_config` (the config a set was trained with), except the fields named in
    `given` (flags set on the command line, which win)."""
    return {name: getattr(set_config, name) for name in MODEL_SET_FIELDS if name not in given}
