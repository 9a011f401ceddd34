"""Configuration of CFCM (Milletari et al., "CFCM: Segmentation via Coarse to Fine Context Memory", MICCAI 2018)."""
from __future__ import annotations

import dataclasses

from preprocessing.augmentation import IntensityAugmentation, SpatialAugmentation

RESNET_BLOCKS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
                 50: ("bottleneck", (3, 4, 6, 3)), 101: ("bottleneck", (3, 4, 23, 3))}


@dataclasses.dataclass(frozen=True)
class CFCMConfig:
    """CFCM network, loss and input.

    Attributes:
        resnet_depth: 18, 34 (basic blocks), 50 or 101 (bottleneck blocks).
        memory: True for CFCM ('LSTMResNet'); False for the plain ResNet encoder-decoder ('ResNet') ablation.
        base_filters: filters of the first level (64; bottleneck networks use base_filters / 4 per block
            with 4x expansion); doubled on each of the four levels.
        memory_activation: activation of the ConvLSTM cell input and output ('relu' as in the original).
        num_labels: labels including background (2: lungs merged; 3: left = 1, right = 2).
        image_size: network input side in pixels; images are letterboxed (long side resized, padded).
        loss: 'dice' (original), 'cross_entropy' or 'dice_ce'.
        learning_rate: Adam learning rate.
        epochs: training epochs (150 in the original experiments).
        percentiles: intensity percentiles mapped to [0, 1].
        label_names: names of labels 1..num_labels-1.
        spatial_augmentation, intensity_augmentation: random augmentation of training images (pixels of
            the network input).
    """

    resnet_depth: int = 34
    memory: bool = True
    base_filters: int = 64
    memory_activation: str = "relu"
    num_labels: int = 2
    image_size: int = 512
    loss: str = "dice"
    learning_rate: float = 1e-4
    epochs: int = 150
    percentiles: tuple[float, float] = (1.0, 99.0)
    label_names: tuple[str, ...] = ("lungs",)
    spatial_augmentation: SpatialAugmentation = SpatialAugmentation(
        rotation_degrees=10.0, scale_range=(0.9, 1.1), translation_voxels=20.0, shear=0.03, elastic_control_points=5,
        elastic_magnitude_voxels=3.0)
    intensity_augmentation: IntensityAugmentation = IntensityAugmentation()

    def __post_init__(self) -> None:
        if self.resnet_depth not in RESNET_BLOCKS:
            raise ValueError(f"resnet_depth must be one of {sorted(RESNET_BLOCKS)}, not {self.resnet_depth}")
        if self.loss not in ("dice", "cross_entropy", "dice_ce"):
            raise ValueError(f"loss must be 'dice', 'cross_entropy' or 'dice_ce', not {self.loss!r}")
        if self.image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, not {self.image_size}")
        if len(self.label_names) != self.num_labels - 1:
            raise ValueError("label_names must name labels 1..num_labels-1")
