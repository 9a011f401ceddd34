"""The PNG line charts draw each curve through its points: a rising line on a linear axis, a curve on a log2 axis
with its non-positive and non-finite points left out, a single point without a crash."""
import cv2
import numpy as np

from evaluation.plots import HEIGHT, MARGIN, WIDTH, Line, line_chart

BLUE = (200, 120, 0)


def drawn(path) -> np.ndarray:
    """bool [HEIGHT, WIDTH]: pixels of the curve's colour."""
    image = cv2.imread(str(path)).astype(int)
    return np.abs(image - np.array(BLUE)).sum(-1) < 60


def test_a_linear_chart_draws_the_line_from_its_first_to_its_last_point(tmp_path):
    path = tmp_path / "line.png"
    line_chart([Line(np.arange(11.0), np.linspace(0.0, 1.0, 11))], list(range(11)), [0.0, 0.5, 1.0], "t", str(path))
    pixels = drawn(path)
    assert pixels[HEIGHT - MARGIN - 3:HEIGHT - MARGIN + 3, MARGIN:MARGIN + 6].any(), "starts at (0, 0)"
    assert pixels[MARGIN - 3:MARGIN + 3, WIDTH - MARGIN - 6:WIDTH - MARGIN + 1].any(), "ends at (10, 1)"
    middle = (HEIGHT - 2 * MARGIN) // 2 + MARGIN
    assert pixels[middle - 4:middle + 4, WIDTH // 2 - 4:WIDTH // 2 + 4].any(), "passes (5, 0.5)"


def test_a_log_chart_skips_points_it_cannot_place_and_one_point_draws_nothing(tmp_path):
    path = tmp_path / "log.png"
    x, y = np.array([0.0, 0.125, 1.0, 8.0, np.nan]), np.array([0.9, 0.0, 0.5, 1.0, 0.2])
    line_chart([Line(x, y)], [0.125, 1.0, 8.0], [0.0, 0.5, 1.0], "t", str(path), log_x=True)
    pixels = drawn(path)
    assert pixels[HEIGHT - MARGIN - 3:HEIGHT - MARGIN + 3, MARGIN:MARGIN + 6].any(), "starts at (0.125, 0)"
    assert pixels[MARGIN - 3:MARGIN + 3, WIDTH - MARGIN - 6:WIDTH - MARGIN + 1].any(), "ends at (8, 1)"
    assert not pixels[MARGIN - 3:MARGIN + 8, MARGIN:MARGIN + 20].any(), "x = 0 (0.9) left out"
    single = tmp_path / "single.png"
    line_chart([Line(np.array([0.0]), np.array([0.5]))], [0, 1], [0.0, 0.5, 1.0], "t", str(single))
    assert not drawn(single).any()
