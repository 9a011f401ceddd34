"""Configuration of CFCM (Milletari et al., "CFCM: Segmentation via Coarse to Fine Context Memory", MICCAI 2018)."""
from __future__ import annotations

import dataclasses

from preprocessing.augmentation import IntensityAugmentation, SpatialAugmentation

RESNET_BLOCKS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)),
                 50: ("bottleneck", (3, 4, 6, 3)), 101: ("bottleneck", (3, 4, 23, 3))}


# Augmentation of the earlier releases, kept as an addition (`--augment`): the original trains without any.
ADDED_SPATIAL_AUGMENTATION = SpatialAugmentation(translation_mm=20.0, rotation_rad=0.1745, uniform_scale=0.1,
                                                 axis_scale=0.0, shear=0.03, deformation_nodes=7, deformation_mm=3.0,
                                                 spline_order=3)
ADDED_INTENSITY_AUGMENTATION = IntensityAugmentation()


@dataclasses.dataclass(frozen=True)
class CFCMConfig:
    """CFCM network, loss and input; defaults as CFCM-2D trains `LSTMResNet` on Montgomery
    (`cfcm/zoo/fitrunners.py`, `cfcm/zoo/tf_resnet.py`, `cfcm/layers/losses.py`, `cfcm/data/transforms.py`).

    Attributes:
        resnet_depth: 18, 34 (basic blocks), 50 or 101 (bottleneck blocks).
        memory: True for CFCM ('LSTMResNet'); False for the plain ResNet encoder-decoder ('ResNet') ablation.
        base_filters: filters of the first level (64; bottleneck networks use base_filters / 4 per block
            with 4x expansion); doubled on each of the four levels.
        memory_activation: activation of the ConvLSTM cell input and output ('relu' as in the original).
        batch_norm_decay: decay of the batch-normalisation moving statistics used at inference (TF-slim's 0.999;
            a short run needs less, e.g. 0.99 for a few hundred steps, or they stay near their initial values).
        num_labels: labels including background (2: lungs merged; 3: left = 1, right = 2).
        head: 'sigmoid' (one channel per foreground label, the original) or 'softmax' (background + labels,
            an addition).
        image_size: network input side in pixels.
        resize: 'square' (the image cropped to its non-zero extent and resized to image_size x image_size,
            aspect not kept, the original) or 'letterbox' (long side resized, aspect kept, padded; an addition).
        normalization: 'raw' (the file's grey values, the original) or 'percentile' (`percentiles` mapped to
            [0, 1]; an addition).
        percentiles: intensity percentiles mapped to [0, 1] with normalization 'percentile'.
        loss: 'dice' (per-image squared soft Dice, the original), 'cross_entropy' or 'dice_ce' (additions).
        learning_rate: Adam learning rate.
        epochs: training epochs (150 in the original experiments).
        label_names: names of labels 1..num_labels-1.
        spatial_augmentation, intensity_augmentation: random augmentation of training images (None: none,
            as the original; `ADDED_*_AUGMENTATION` with --augment).
    """

    resnet_depth: int = 34
    memory: bool = True
    base_filters: int = 64
    memory_activation: str = "relu"
    batch_norm_decay: float = 0.999
    num_labels: int = 2
    head: str = "sigmoid"
    image_size: int = 256
    resize: str = "square"
    normalization: str = "raw"
    percentiles: tuple[float, float] = (1.0, 99.0)
    loss: str = "dice"
    learning_rate: float = 1e-5
    epochs: int = 150
    label_names: tuple[str, ...] = ("lungs",)
    spatial_augmentation: SpatialAugmentation | None = None
    intensity_augmentation: IntensityAugmentation | None = None

    def __post_init__(self) -> None:
        choices = {"resnet_depth": tuple(RESNET_BLOCKS), "head": ("sigmoid", "softmax"),
                   "resize": ("square", "letterbox"), "normalization": ("raw", "percentile"),
                   "loss": ("dice", "cross_entropy", "dice_ce")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        if self.image_size % 16:
            raise ValueError(f"image_size must be a multiple of 16, not {self.image_size}")
        if len(self.label_names) != self.num_labels - 1:
            raise ValueError("label_names must name labels 1..num_labels-1")

    @property
    def output_channels(self) -> int:
        """Network output channels: foreground labels (sigmoid) or all labels (softmax)."""
        return self.num_labels - 1 if self.head == "sigmoid" else self.num_labels
