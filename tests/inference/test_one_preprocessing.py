"""One preprocessing for training and inference: for the same volume, the training loader's crop (no
augmentation) and the inference module's network input are the same array, for the localization (whole
volume) and the SCN (organ box plus the training extension)."""
import functools

import numpy as np
import pytest
import tensorflow as tf

from inference import tf_utils
from localization.config import LocalizationConfig
from preprocessing import intensity
from preprocessing.cases import flare21_cases
from preprocessing.image_io import read_image
from preprocessing.network_grid import lattice_offset, padded_valid_sizes
from preprocessing.orientation import to_canonical
from preprocessing.pipeline import PipelineConfig, RegionCrop, ResampledCaseLoader, make_dataset
from scn.config import SCNConfig


def training_crop(case, spacing_mm: float, sigma_mm: float, crop: RegionCrop, window: tuple) -> np.ndarray:
    loader = ResampledCaseLoader((spacing_mm,) * 3, sigma_mm=sigma_mm)
    normalize = functools.partial(intensity.window, low=window[0], high=window[1])
    config = PipelineConfig(region=crop, spacing_mm=spacing_mm, spatial=None, intensity=None)
    image, _ = next(make_dataset([case], loader, normalize, config, training=True,
                                 image_default=intensity.windowed_value(intensity.AIR_HU, window)).as_numpy_iterator())
    return image[0, ..., 0]


def inference_input(volume, spacing, start, end, base_spacing, config, tolerance) -> np.ndarray:
    return tf_utils.network_input(
        tf.constant(volume, tf.float32), tf.constant(spacing, tf.float32), tf.constant(start, tf.float32),
        tf.constant(end, tf.float32), tf.constant(base_spacing, tf.float32), tf.constant(config.input_sigma_mm),
        tf.constant(config.window_hu, tf.float32), padded_valid_sizes(config.valid_sizes), tf.constant(tolerance),
        tf.constant(config.size_multiple), tf.constant(True))["image"].numpy()[0, ..., 0]


@pytest.fixture(scope="module")
def case_and_volume(flare21_folder):
    case = flare21_cases(flare21_folder)[0]
    image, geometry = read_image(case.image_path)
    volume, canonical, _ = to_canonical(image, geometry)
    return case, volume.astype(np.float32), np.asarray(canonical.array_spacing, np.float32)


def test_localization_training_input_equals_inference_input(case_and_volume):
    case, volume, spacing = case_and_volume
    config = LocalizationConfig()
    trained = training_crop(case, config.spacing_mm, config.input_sigma_mm, RegionCrop("volume", config.valid_sizes),
                            config.window_hu)
    box = tf_utils.whole_volume_box(tf.constant(volume.shape), tf.constant(spacing))
    served = inference_input(volume, spacing, box["start_mm"], box["end_mm"], config.spacing_mm, config,
                             config.spacing_tolerance)
    assert trained.shape == served.shape and trained.shape[1] in config.valid_sizes[1]
    np.testing.assert_allclose(trained, served, atol=1e-5)


def test_scn_training_input_equals_inference_input_for_the_same_box(case_and_volume):
    case, volume, spacing = case_and_volume
    config = SCNConfig(spacing_mm=4.0)
    crop = RegionCrop("foreground", config.valid_sizes, config.box_extension_mm, zoom_to_fit=True)
    trained = training_crop(case, config.spacing_mm, config.input_sigma_mm, crop, config.window_hu)
    _, label = ResampledCaseLoader((config.spacing_mm,) * 3)(case)
    offset = lattice_offset(volume.shape, spacing, config.spacing_mm).numpy()
    points = np.argwhere(label > 0) * config.spacing_mm + offset
    start = points.min(axis=0) - config.box_extension_mm
    end = points.max(axis=0) + config.box_extension_mm
    served = inference_input(volume, spacing, start, end, config.spacing_mm, config, 0.0)
    assert trained.shape == served.shape
    np.testing.assert_allclose(trained, served, atol=1e-5)
