"""Configurations of the nodule models, with the defaults of the originals they re-implement."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class DetectorConfig:
    """The 3D nodule detector of DeepLung (Zhu et al., WACV 2018; wentaozhu/DeepLung), its 3D Res18 variant
    (detector/res18.py, LUNA16 CPM 0.834 in its README): a single-stage region proposal network on 96^3 crops at
    1 mm, three cubic anchors per cell of the stride-4 output grid, each with a score and the offsets (z, y, x) and
    log size of the nodule relative to the anchor. Defaults from detector/res18.py (config), detector/main.py
    (optimizer, schedule, test split), run_training.sh (epochs, batch), detector/data.py (crops, labels),
    prepare.py (intensities) and evaluationScript/frocwrtdetpepchluna16.py (thresholds, NMS).

    Attributes:
        spacing_mm: isotropic voxel size the detector works at (res18 `reso`).
        hu_window: HU range mapped to [0, 255] (prepare.py lumTrans), then (x - 128) / 128 as network input.
        pad_value: value (of [0, 255]) outside the lungs and beyond the scan (res18 `pad_value`).
        anchors_mm: anchor cube sides (mm).
        crop_size: training crop (z, y, x) in voxels.
        stride: output grid stride (voxels); max_stride: the input size must be a multiple of it.
        num_neg: random negatives kept per crop before hard mining; num_hard: hardest negatives per crop in the
            loss.
        th_neg: anchors overlapping a nodule with an IoU at or above this are neither positive nor negative.
        th_pos_train: IoU of a positive anchor in training.
        bound_size: margin (voxels) around the nodule within which a crop's placement is drawn.
        size_oversampling_mm: nodules larger than each of these diameters are sampled once more, twice more and
            four times more (res18 `sizelim`, `sizelim2`, `sizelim3`).
        random_crop_fraction: fraction of training crops placed at random in a scan (`r_rand_crop`).
        scale_augmentation: scale crops by `scale_range`; scale_radius_mm: the scaled nodule stays within this
            range of sizes.
        flip: random flips of the y and x axes.
        filters_pre: filters of the two plain convolutions at full resolution.
        filters_forward: filters of the four residual groups on the way down; blocks_forward: blocks per group.
        filters_backward: filters of the two residual groups on the way up (stride 8, then 4); blocks_backward.
        head_filters: filters of the 1x1 convolution before the output; dropout: before the head.
        prior_probability: an addition: the output's logit biases start at log(p / (1 - p)) (RetinaNet's prior,
            Lin et al. 2017), so that the hard negatives' first gradients do not silence the head; 0 (the default):
            off, the biases start at zero.
        learning_rate: SGD learning rate; the schedule multiplies it by 0.1 after 1/3, 0.05 after 2/3 and 0.01
            after 0.8 of the epochs.
        momentum, weight_decay: SGD momentum and L2 weight decay.
        epochs, batch_size: training length and crops per step.
        test_side, test_margin: inference splits the volume into cubes of `test_side` voxels with `test_margin`
            voxels of context on each side.
        score_threshold_logit: detections with a logit at or below this are dropped before NMS (the lower of the
            two thresholds the evaluation script tries).
        min_diameter_mm: detections of this size or smaller are dropped.
        nms_iou: cube IoU at or above which the less probable of two detections is suppressed.
        nms_candidates: the most probable detections that enter NMS (an addition bounding its time; the original
            suppresses all).
    """

    spacing_mm: float = 1.0
    hu_window: tuple[float, float] = (-1200.0, 600.0)
    pad_value: float = 170.0
    anchors_mm: tuple[float, ...] = (5.0, 10.0, 20.0)
    crop_size: tuple[int, int, int] = (96, 96, 96)
    stride: int = 4
    max_stride: int = 16
    num_neg: int = 800
    num_hard: int = 2
    th_neg: float = 0.02
    th_pos_train: float = 0.5
    bound_size: int = 12
    size_oversampling_mm: tuple[float, float, float] = (2.5, 10.0, 20.0)
    random_crop_fraction: float = 0.3
    scale_augmentation: bool = True
    scale_range: tuple[float, float] = (0.75, 1.25)
    scale_radius_mm: tuple[float, float] = (8.0, 120.0)
    flip: bool = True
    filters_pre: int = 24
    filters_forward: tuple[int, int, int, int] = (32, 64, 64, 64)
    blocks_forward: tuple[int, int, int, int] = (2, 2, 3, 3)
    filters_backward: tuple[int, int] = (128, 64)
    blocks_backward: tuple[int, int] = (3, 3)
    head_filters: int = 64
    dropout: float = 0.5
    prior_probability: float = 0.0
    learning_rate: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    epochs: int = 150
    batch_size: int = 64
    test_side: int = 144
    test_margin: int = 32
    score_threshold_logit: float = -1.5
    min_diameter_mm: float = 3.0
    nms_iou: float = 0.1
    nms_candidates: int = 3000

    def learning_rate_at(self, epoch: int) -> float:
        """The step schedule of detector/main.py for epoch 1..epochs."""
        if epoch <= self.epochs / 3:
            return self.learning_rate
        if epoch <= self.epochs * 2 / 3:
            return 0.1 * self.learning_rate
        if epoch <= self.epochs * 0.8:
            return 0.05 * self.learning_rate
        return 0.01 * self.learning_rate


@dataclasses.dataclass(frozen=True)
class CropModelConfig:
    """Per-nodule segmentation and malignancy on a fixed crop around each nodule: one DynUNet (nnU-Net's residual
    U-Net, `networks.dynunet`) whose decoder gives the nodule mask and whose bottleneck, averaged over space,
    feeds a logistic malignancy head (a shared encoder). The upstream project names no architecture or
    hyperparameters; these are nnU-Net's defaults for a 64^3 patch (its 3d_fullres plans: five levels of 32-320
    filters, SGD with Nesterov momentum 0.99, learning rate 0.01 decayed by (1 - epoch / epochs)^0.9, weight decay
    3e-5, Dice + cross-entropy, batch 2).

    Attributes:
        crop_size: crop (z, y, x) in voxels around the nodule's centre.
        spacing_mm: isotropic voxel size of the crop (mm).
        hu_window: HU range mapped to [0, 1].
        context_mm: the cache keeps this much more around each crop, for the centre jitter.
        centre_jitter_mm: training crops are centred up to this far (per axis, uniform) from the nodule's centre,
            as a detection would be.
        flip: random flips along each axis in training.
        kernel_sizes, strides, filters: the DynUNet's levels.
        malignancy_weight: weight of the malignancy cross-entropy next to the segmentation loss.
        learning_rate, momentum, weight_decay, poly_exponent: SGD (Nesterov) and its polynomial decay per epoch.
        epochs, batch_size: training length and crops per step.
        mask_threshold: probability above which a voxel is nodule.
    """

    crop_size: tuple[int, int, int] = (64, 64, 64)
    spacing_mm: float = 1.0
    hu_window: tuple[float, float] = (-1200.0, 600.0)
    context_mm: float = 8.0
    centre_jitter_mm: float = 4.0
    flip: bool = True
    kernel_sizes: tuple[int, ...] = (3, 3, 3, 3, 3)
    strides: tuple[tuple[int, int, int], ...] = ((1, 1, 1), (2, 2, 2), (2, 2, 2), (2, 2, 2), (2, 2, 2))
    filters: tuple[int, ...] = (32, 64, 128, 256, 320)
    malignancy_weight: float = 1.0
    learning_rate: float = 0.01
    momentum: float = 0.99
    weight_decay: float = 3e-5
    poly_exponent: float = 0.9
    epochs: int = 100
    batch_size: int = 2
    mask_threshold: float = 0.5
