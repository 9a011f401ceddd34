"""Small line charts as PNG files (OpenCV, no plotting library): evaluation curves such as Dice against clicks,
FROC and ROC."""
from __future__ import annotations

import dataclasses

import cv2
import numpy as np

from preprocessing.atomic import atomic_path

WIDTH, HEIGHT, MARGIN = 640, 420, 50


@dataclasses.dataclass(frozen=True)
class Line:
    """One curve: x and y values, BGR colour, thickness in pixels."""
    x: np.ndarray
    y: np.ndarray
    color: tuple[int, int, int] = (200, 120, 0)
    thickness: int = 2


def line_chart(lines: list[Line], x_ticks: list[float], y_ticks: list[float], title: str, path: str,
               log_x: bool = False) -> None:
    """Writes a chart of `lines` over the tick ranges (x on a log2 axis with `log_x`) to `path` atomically."""
    canvas = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    scale = np.log2 if log_x else (lambda v: np.asarray(v, np.float64))
    x_low, x_high = float(scale(x_ticks[0])), float(scale(x_ticks[-1]))
    y_low, y_high = y_ticks[0], y_ticks[-1]

    def point(x: float, y: float) -> tuple[int, int]:
        u = (float(scale(x)) - x_low) / (x_high - x_low)
        v = (y - y_low) / (y_high - y_low)
        return MARGIN + int(u * (WIDTH - 2 * MARGIN)), HEIGHT - MARGIN - int(v * (HEIGHT - 2 * MARGIN))

    cv2.line(canvas, point(x_ticks[0], y_low), point(x_ticks[-1], y_low), (0, 0, 0), 1)
    cv2.line(canvas, point(x_ticks[0], y_low), point(x_ticks[0], y_high), (0, 0, 0), 1)
    for tick in x_ticks:
        cv2.putText(canvas, f"{tick:g}", (point(tick, y_low)[0] - 8, HEIGHT - MARGIN + 18), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1)
    for tick in y_ticks:
        cv2.putText(canvas, f"{tick:.1f}", (8, point(x_ticks[0], tick)[1] + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (0, 0, 0), 1)
    for line in lines:
        x, y = np.asarray(line.x, np.float64), np.asarray(line.y, np.float64)
        keep = np.isfinite(x) & np.isfinite(y) & ((x > 0) if log_x else True)
        points = [point(a, b) for a, b in zip(np.clip(x[keep], x_ticks[0], x_ticks[-1]), y[keep])]
        for start, end in zip(points, points[1:]):
            cv2.line(canvas, start, end, line.color, line.thickness, cv2.LINE_AA)
    cv2.putText(canvas, title, (MARGIN, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    with atomic_path(path) as temp:
        cv2.imwrite(temp, canvas)
