"""SimpleITK-based resampling and cropping: grids, inverses and world positions."""
import numpy as np

from preprocessing.geometry import bounding_box, centered_start, crop_or_pad, paste, resample, resample_to_spacing
from preprocessing.image_geometry import ImageGeometry
from tests.conftest import oblique_geometry


def blob_volume(shape=(20, 40, 44)) -> np.ndarray:
    z, y, x = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    return np.exp(-3 * (x ** 2 + (y - 0.2) ** 2 + z ** 2)).astype(np.float32) * 1000


def test_with_spacing_is_the_centred_ceil_lattice():
    geometry = oblique_geometry((10, 100, 101), spacing=(0.8, 0.8, 5.0))
    coarse = geometry.with_spacing((6.0, 6.0, 6.0))
    assert coarse.size == (14, 14, 9)  # ceil(80.8 / 6), ceil(80 / 6), ceil(50 / 6)
    assert coarse.direction == geometry.direction
    centre = geometry.index_to_physical((np.asarray(geometry.size) - 1) / 2.0)
    assert np.allclose(coarse.index_to_physical((np.asarray(coarse.size) - 1) / 2.0), centre)
    assert geometry.with_spacing((2.0, 2.0, 2.5)).size == (41, 40, 20)  # 300 x 2.5 mm at 2 mm: 375, not 374


def test_resample_to_coarse_spacing_and_back_recovers_smooth_image():
    geometry = oblique_geometry((20, 40, 44), spacing=(1.0, 1.0, 2.0))
    volume = blob_volume()
    coarse, coarse_geometry = resample_to_spacing(volume, geometry, (2.0, 2.0, 2.0))
    assert coarse.shape == (20, 20, 22)
    back = resample(coarse, coarse_geometry, geometry, "linear")
    interior = (slice(2, -2), slice(4, -4), slice(4, -4))
    assert np.abs(back[interior] - volume[interior]).max() < 0.05 * volume.max()


def test_label_resampling_keeps_label_values_and_inverse_overlaps():
    geometry = oblique_geometry((20, 40, 44), spacing=(1.0, 1.0, 2.0))
    label = np.zeros(geometry.shape, np.uint8)
    label[5:15, 10:30, 5:20] = 1
    label[5:15, 10:30, 24:40] = 3
    for mode in ("nearest", "label_linear"):
        coarse, coarse_geometry = resample_to_spacing(label, geometry, (2.0, 2.0, 2.0), mode)
        assert set(np.unique(coarse)) == {0, 1, 3}
        back = resample(coarse, coarse_geometry, geometry, "nearest")
        for value in (1, 3):
            dice = 2 * np.sum((back == value) & (label == value)) / (np.sum(back == value) + np.sum(label == value))
            assert dice > 0.9


def test_crop_geometry_places_voxels_at_their_world_position():
    geometry = oblique_geometry()
    volume = np.arange(np.prod(geometry.shape), dtype=np.float32).reshape(geometry.shape)
    start, shape = (2, -3, 4), (4, 8, 9)
    cropped, cropped_geometry = crop_or_pad(volume, geometry, start, shape, pad_value=-1)
    np.testing.assert_array_equal(cropped[0, 3], volume[2, 0, 4:13].tolist() + [-1] * 2)
    world = cropped_geometry.index_to_physical([0, 3, 0])
    np.testing.assert_allclose(geometry.physical_to_index(world), [4, 0, 2], atol=1e-9)
    resampled = resample(volume, geometry, cropped_geometry, "nearest", default_value=-1)
    np.testing.assert_array_equal(resampled, cropped)


def test_paste_is_inverse_of_crop():
    volume = np.random.default_rng(0).random((9, 10, 11)).astype(np.float32)
    geometry = ImageGeometry((11, 10, 9), (1, 1, 1), (0, 0, 0), (1, 0, 0, 0, 1, 0, 0, 0, 1))
    start = centered_start((4.0, 4.5, 5.0), (5, 6, 7))
    cropped, _ = crop_or_pad(volume, geometry, start, (5, 6, 7))
    restored = paste(cropped, start, volume.shape, fill_value=0)
    box = tuple(slice(s, s + n) for s, n in zip(start, (5, 6, 7)))
    np.testing.assert_array_equal(restored[box], volume[box])
    assert np.count_nonzero(restored) == np.count_nonzero(cropped)


def test_bounding_box_with_margin_and_empty():
    mask = np.zeros((10, 10, 10), bool)
    mask[3:5, 2:8, 6] = True
    assert bounding_box(mask, margin=1) == ((2, 1, 5), (6, 9, 8))
    assert bounding_box(np.zeros((3, 3, 3))) is None
