"""Configuration of the SpatialConfiguration-Net (defaults from Thaler et al., FLARE21 EfficientSCN)."""
from __future__ import annotations

import dataclasses

from preprocessing.augmentation import IntensityAugmentation, SpatialAugmentation


@dataclasses.dataclass(frozen=True)
class SCNConfig:
    """SCN architecture, training and input.

    Attributes:
        num_labels: labels including background (FLARE21: background, liver, kidney, spleen, pancreas).
        local_filters, local_levels: local appearance U-Net.
        spatial_filters, spatial_levels: each per-label spatial configuration U-Net.
        spatial_downsample: factor between local appearance and spatial configuration resolution.
        dropout: dropout after every convolution.
        leaky_relu_alpha: leaky ReLU slope.
        local_channel_dropout: dropout of whole local-appearance channels at the spatial input (training).
        image_channel_dropout: dropout of the image channel at the spatial input (training).
        salt_pepper_ratio, salt_pepper_scales: salt-and-pepper noise on the spatial input (training),
            at each block size in voxels of the downsampled grid.
        stop_gradient_spatial: do not back-propagate spatial losses into the local appearance.
        loss_weights: weights of the final (generalized Dice), local and spatial (sigmoid CE) losses.
        spacing_mm: isotropic input spacing in mm.
        window_hu: CT intensity window (HU) mapped to [-1, 1] (the original: HU / 2048, clamped to [-1, 1]).
        input_sigma_mm: Gaussian smoothing of the CT before resampling to `spacing_mm` (training and inference).
        label_sigma_voxels: training labels are smoothed per label (Gaussian, voxels of the network grid) and
            re-assigned by argmax after augmentation.
        valid_sizes: network input sizes per axis (z, y, x), voxels; the organ box plus `box_extension_mm` is
            put into the smallest valid size larger than it (training and inference).
        box_extension_mm: training crops extend the organs' box by this on each side.
        spacing_tolerance: at inference the spacing grows to (r + tolerance) x `spacing_mm` when the box needs
            r > 1 - tolerance times the largest valid sizes (training: grows to r x `spacing_mm` when r > 1).
        learning_rate: Adam learning rate.
        ema_decay: decay of the exponential moving average of the weights that is exported.
        label_names: names of labels 1..num_labels-1.
        spatial_augmentation, intensity_augmentation: random augmentation of training crops.
        loss_scale: (initial scale, growth period in steps) of the dynamic loss scale with float16 mixed precision.
        max_iter, test_iter: training iterations, and validation/checkpoint period.
        placeholder_spacing_mm: at inference a volume with a 1 x 1 x 1 mm spacing (a converter's placeholder) is
            taken to have this spacing (x, y, z; the FLARE21 training set's mean), as the original does.
        components_per_label: post-processing (an addition, not in the original): connected components
            kept per label 1..num_labels-1 at inference (both kidneys share one label).
    """

    num_labels: int = 5
    local_filters: int = 32
    local_levels: int = 5
    spatial_filters: int = 16
    spatial_levels: int = 4
    spatial_downsample: int = 4
    dropout: float = 0.1
    leaky_relu_alpha: float = 0.1
    local_channel_dropout: float = 0.25
    image_channel_dropout: float = 0.5
    salt_pepper_ratio: float = 0.01
    salt_pepper_scales: tuple[int, ...] = (1, 2, 4, 8)
    stop_gradient_spatial: bool = True
    loss_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    spacing_mm: float = 2.0
    window_hu: tuple[float, float] = (-2048.0, 2048.0)
    input_sigma_mm: float = 1.0
    label_sigma_voxels: float = 1.0
    valid_sizes: tuple[tuple[int, ...], ...] = ((32, 64, 96, 128, 160), (32, 64, 96, 128), (32, 64, 96, 128, 160))
    box_extension_mm: float = 32.0
    spacing_tolerance: float = 0.05
    learning_rate: float = 1e-4
    ema_decay: float = 0.999
    label_names: tuple[str, ...] = ("liver", "kidney", "spleen", "pancreas")
    components_per_label: tuple[int, ...] = (1, 2, 1, 1)
    placeholder_spacing_mm: tuple[float, float, float] = (0.814528640267884, 0.814528640267884, 2.52795318268203)
    spatial_augmentation: SpatialAugmentation = SpatialAugmentation()
    intensity_augmentation: IntensityAugmentation = IntensityAugmentation(
        shift=0.2, scale=0.2, gamma_range=None, noise_std=0.0, clamp=(-1.0, 1.0))
    loss_scale: tuple[float, int] = (2.0 ** 15, 1000)
    max_iter: int = 100000
    test_iter: int = 10000

    @property
    def size_multiple(self) -> int:
        """Input sizes must be multiples of this (local U-Net depth and spatial downsampling)."""
        return max(2 ** (self.local_levels - 1), self.spatial_downsample * 2 ** (self.spatial_levels - 1))
