"""Configuration of RSTN (Yu, Xie et al., "Recurrent Saliency Transformation Network: Incorporating Multi-Stage
Visual Cues for Small Organ Segmentation", CVPR 2018), defaults as OrganSegRSTN_PyTorch v1.2 trains and tests it
(`OrganSegRSTN/run.sh`, `model.py`, `training.py`, `Data.py`, `coarse2fine_testing.py`, `utils.py`)."""
from __future__ import annotations

import dataclasses

PLANES = ("X", "Y", "Z")
MODES = ("S", "I", "J")


@dataclasses.dataclass(frozen=True)
class RSTNConfig:
    """RSTN networks, data, training schedule and testing.

    Planes follow the original's names for the axes of its (row, column, slice) arrays: X slices rows (coronal
    images), Y slices columns (sagittal images), Z slices the slices (axial images). Images are 2D slices
    [rows, columns] of that plane with `slice_thickness` adjacent slices as channels; the three output channels
    are the organ probabilities of those same slices.

    Attributes:
        organ_ids: label values that make the target organ (the original's ORGAN_ID; several are merged).
        organ_name: name of the segmented organ (label 1 of the outputs).
        window_hu: CT intensities clipped to (low, high) HU and scaled to [0, 1].
        slice_thickness: adjacent slices per network input (3; 1 repeats the slice three times).
        slice_threshold: training slices are those whose organ area is at least the area at this rank among the
            slices that show the organ (<= 1), or at least this many pixels (> 1).
        base_filters: filters of the first VGG-16 block (64), doubled per block up to 8x.
        fc_filters: filters of the fully convolutional fc6 / fc7 layers (4096).
        input_padding: zero padding (pixels) before the first convolution (100, the classic FCN-8s).
        dropout: channel dropout after fc6 and fc7.
        saliency_bias: initial biases of the saliency module's second convolution (its weights start at 0).
        prior_probability: an addition: the coarse and fine networks' `score_fr` biases start at
            log(p / (1 - p)), so that every pixel starts at organ probability p instead of 0.5 (RetinaNet's prior,
            Lin et al. 2017); 0 (the default): off, the score layers start at zero as the original's.
        crop_margin: pixels added on each side of the organ box before the fine network (training and testing).
        crop_random_probability: in training, the probability that the four margins are drawn uniformly from
            0..2 x crop_margin instead of being crop_margin.
        coarse_loss_weight: weight of the coarse DSC loss; the fine loss has 1 - this.
        dsc_epsilon: added to the numerator and denominator of the soft DSC.
        learning_rate: SGD learning rate of the coarse network's weights.
        fine_lr_multiplier: learning-rate factor of the saliency module and the fine network.
        bias_lr_multiplier: extra learning-rate factor of biases (which have no weight decay).
        momentum: SGD momentum.
        weight_decay: L2 weight decay of the convolution weights (coupled, through the momentum).
        epochs: training epochs of the modes S (separate), I (individual), J (joint), in that order.
        lr_decay_epochs: in mode J the learning rates are multiplied by `lr_decay_factor` every this many epochs.
        lr_decay_factor: see `lr_decay_epochs`.
        batch_size: slices per step.
        coarse_threshold: the original's COARSE_FUSION_THRESHOLD, kept for the record: its coarse-to-fine testing
            only names its results with it, and nothing here uses it (round 0 is thresholded at `fine_threshold`).
        fine_threshold: probability threshold of the mean of the planes' probabilities in every coarse-to-fine round,
            round 0 (the coarse fusion) included, as the original's `coarse2fine_testing.py`.
        postprocess_threshold: after each fine round, connected components (6-neighbourhood) smaller than this
            fraction of the largest are removed.
        max_rounds: fine rounds of coarse-to-fine testing.
        stop_dsc: coarse-to-fine testing stops at the first round whose DSC with the previous round reaches this.
    """

    organ_ids: tuple[int, ...] = (1,)
    organ_name: str = "pancreas"
    window_hu: tuple[float, float] = (-100.0, 240.0)
    slice_thickness: int = 3
    slice_threshold: float = 0.98
    base_filters: int = 64
    fc_filters: int = 4096
    input_padding: int = 100
    dropout: float = 0.5
    saliency_bias: tuple[float, float, float] = (1.0, 1.5, 2.0)
    prior_probability: float = 0.0
    crop_margin: int = 20
    crop_random_probability: float = 0.5
    coarse_loss_weight: float = 1.0 / 3.0
    dsc_epsilon: float = 1e-6
    learning_rate: float = 1e-5
    fine_lr_multiplier: float = 10.0
    bias_lr_multiplier: float = 2.0
    momentum: float = 0.99
    weight_decay: float = 5e-4
    epochs: tuple[int, int, int] = (2, 6, 8)
    lr_decay_epochs: int = 2
    lr_decay_factor: float = 0.5
    batch_size: int = 1
    coarse_threshold: float = 0.5
    fine_threshold: float = 0.5
    postprocess_threshold: float = 0.5
    max_rounds: int = 10
    stop_dsc: float = 0.99

    def __post_init__(self) -> None:
        if self.slice_thickness not in (1, 3):
            raise ValueError(f"slice_thickness must be 1 or 3, not {self.slice_thickness}")
        if not self.organ_ids or 0 in self.organ_ids:
            raise ValueError(f"organ_ids must name non-zero labels, not {self.organ_ids}")
        if len(self.epochs) != len(MODES) or min(self.epochs) < 0:
            raise ValueError(f"epochs must give the epochs of the modes {MODES}, not {self.epochs}")
        if not 0.0 <= self.prior_probability < 1.0:
            raise ValueError(f"prior_probability must be in [0, 1), not {self.prior_probability}")
        if self.window_hu[1] <= self.window_hu[0]:
            raise ValueError(f"window_hu must be (low, high) with low < high, not {self.window_hu}")
        if not 0.0 < self.fine_threshold <= 1.0:
            raise ValueError(f"fine_threshold must be in (0, 1], not {self.fine_threshold}")
