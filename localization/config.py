"""Configuration of the localization network (defaults from Thaler et al., FLARE21 EfficientSCN)."""
from __future__ import annotations

import dataclasses

from preprocessing.augmentation import IntensityAugmentation, SpatialAugmentation


@dataclasses.dataclass(frozen=True)
class LocalizationConfig:
    """Localization U-Net and its input.

    Attributes:
        num_filters: filters per convolution, the same on every level.
        num_levels: U-Net levels (input padded to a multiple of 2 ** (num_levels - 1) voxels).
        dropout: dropout after every convolution.
        leaky_relu_alpha: leaky ReLU slope.
        spacing_mm: isotropic input spacing in mm.
        window_hu: CT intensity window (HU) mapped to [-1, 1] (the original: HU / 2048, clamped to [-1, 1]).
        learning_rate: Adam learning rate.
        ema_decay: decay of the exponential moving average of the weights that is exported.
        bbox_margin_mm: margin added around the predicted region on each side.
        input_sigma_mm: Gaussian smoothing of the CT before resampling to `spacing_mm` (training and inference).
        valid_sizes: network input sizes per axis (z, y, x), voxels; a whole volume is centred in the smallest
            valid size larger than it (training and inference).
        spacing_tolerance: at inference the spacing grows to (r + tolerance) x `spacing_mm` when the volume
            needs r > 1 - tolerance times the largest valid sizes.
        spatial_augmentation, intensity_augmentation: random augmentation of training crops.
        loss_scale: (initial scale, growth period in steps) of the dynamic loss scale with float16 mixed precision.
        max_iter, test_iter: training iterations, and validation/checkpoint period.
    """

    num_filters: int = 32
    num_levels: int = 5
    dropout: float = 0.1
    leaky_relu_alpha: float = 0.1
    spacing_mm: float = 6.0
    window_hu: tuple[float, float] = (-2048.0, 2048.0)
    learning_rate: float = 1e-5
    ema_decay: float = 0.999
    bbox_margin_mm: float = 10.0
    input_sigma_mm: float = 3.0
    valid_sizes: tuple[tuple[int, ...], ...] = (tuple(range(32, 257, 16)), (32, 48, 64, 80), (32, 48, 64, 80))
    spacing_tolerance: float = 0.02
    spatial_augmentation: SpatialAugmentation = SpatialAugmentation()
    intensity_augmentation: IntensityAugmentation = IntensityAugmentation(
        shift=0.2, scale=0.2, gamma_range=(0.8, 1.2), noise_std=0.0, clamp=(-1.0, 1.0))
    loss_scale: tuple[float, int] = (1.0, 100)
    max_iter: int = 100000
    test_iter: int = 10000

    @property
    def size_multiple(self) -> int:
        return 2 ** (self.num_levels - 1)
