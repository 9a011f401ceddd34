"""A PET (and CT) volume onto the network grid, as the original prepares it: canonical orientation, resampling to
the configured spacing (linear for images, nearest for the lesion mask), then per-channel intensity scaling to
[0, 1] on the resampled volume (PET: its 0.05 / 99.95 percentiles or a fixed SUV range; CT: a HU range)."""
from __future__ import annotations

import numpy as np

from interactive.config import InteractiveConfig
from preprocessing.geometry import resample_to_spacing
from preprocessing.image_geometry import ImageGeometry
from preprocessing.intensity import clip_shift_scale
from preprocessing.orientation import to_canonical


def scale_channel(volume: np.ndarray, modality: str, config: InteractiveConfig) -> np.ndarray:
    """One channel [z, y, x] scaled to [0, 1] (float32): PET ('PT') by `config.intensity` (percentiles with linear
    interpolation, as MONAI's ScaleIntensityRangePercentiles), CT by its HU range."""
    if modality == "CT":
        low, high = config.ct_range_hu
    elif config.intensity == "percentile":
        low, high = (float(v) for v in np.percentile(volume, config.percentiles))
        high = max(high, low + 1e-6)
    else:
        low, high = config.suv_range
    return clip_shift_scale(volume, low, high, -low, 1.0 / (high - low)).numpy()


def network_input(channels: list[np.ndarray], geometry: ImageGeometry, config: InteractiveConfig
                  ) -> tuple[np.ndarray, ImageGeometry]:
    """The network's image [z, y, x, channels] (float32, scaled) on its grid, and that grid."""
    scaled = []
    grid = geometry
    for volume, modality in zip(channels, config.input_channels):
        canonical, canonical_geometry, _ = to_canonical(volume.astype(np.float32), geometry)
        resampled, grid = resample_to_spacing(canonical, canonical_geometry, tuple(reversed(config.spacing_mm)))
        scaled.append(scale_channel(resampled, modality, config))
    return np.stack(scaled, axis=-1), grid


def network_label(label: np.ndarray, geometry: ImageGeometry, config: InteractiveConfig) -> np.ndarray:
    """The lesion mask (uint8, 0 / 1) on the network's grid."""
    canonical, canonical_geometry, _ = to_canonical(label.astype(np.uint8), geometry)
    resampled, _ = resample_to_spacing((canonical > 0).astype(np.uint8), canonical_geometry,
                                       tuple(reversed(config.spacing_mm)), "nearest")
    return resampled
