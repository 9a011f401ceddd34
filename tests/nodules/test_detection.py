"""Whole-volume detection: tiles with context put back together, detections in world mm."""
import dataclasses

import numpy as np
import pytest

from nodules.config import DetectorConfig
from nodules.detection import detect, output_grid
from nodules.preprocess import DetectorVolume
from preprocessing.image_geometry import ImageGeometry

CONFIG = dataclasses.replace(DetectorConfig(), test_side=32, test_margin=16)


def bright_cells(image: np.ndarray, coord: np.ndarray) -> np.ndarray:
    """A stand-in network: per stride-4 cell, logit 5 with the 10 mm anchor where the cell holds a voxel above 0.5
    (in network units), else -9; no offsets, anchor-sized boxes."""
    tile = image[0, ..., 0]
    cells = tile.reshape(tile.shape[0] // 4, 4, tile.shape[1] // 4, 4, tile.shape[2] // 4, 4).max(axis=(1, 3, 5))
    assert coord.shape[1:4] == cells.shape
    out = np.zeros(cells.shape + (3, 5), np.float32)
    out[..., 0] = -9.0
    out[..., 1, 0] = np.where(cells > 0.5, 5.0, -9.0)
    return out[None]


def test_tiles_are_put_back_where_they_belong():
    image = np.full((40, 70, 50), 20, np.uint8)
    image[37, 66, 45] = 255  # in the last tile along every axis
    grid = output_grid(bright_cells, image, CONFIG)
    assert grid.shape == (16, 24, 16, 3, 5)
    assert [tuple(c) for c in np.argwhere(grid[..., 0] > 0)] == [(9, 16, 11, 1)]


def test_detections_are_in_world_mm():
    image = np.full((40, 40, 40), 20, np.uint8)
    image[9, 21, 30] = 255
    geometry = ImageGeometry(size=(40, 40, 40), spacing=(1.0, 1.0, 1.0), origin=(-100.0, 50.0, -300.0),
                             direction=(1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0))
    detections = detect(bright_cells, DetectorVolume(image, geometry, True), CONFIG)
    assert detections.shape == (1, 5)
    probability, x, y, z, diameter = detections[0]
    assert probability == pytest.approx(1 / (1 + np.exp(-5.0)))
    # cell (2, 5, 7) of stride 4 centres at voxel (9.5, 21.5, 29.5)
    np.testing.assert_allclose([x, y, z, diameter], [-100 + 29.5, 50 + 21.5, -300 + 9.5, 10.0])


def test_sides_must_be_multiples_of_the_max_stride():
    with pytest.raises(ValueError, match="multiples of max_stride"):
        output_grid(bright_cells, np.zeros((8, 8, 8), np.uint8), dataclasses.replace(CONFIG, test_margin=6))
