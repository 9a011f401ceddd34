"""One input through one pipeline: read -> segment -> write (atomic), with seconds per stage."""
from __future__ import annotations

import dataclasses
import time

from inference.ct_pipeline import CTSegmenter
from inference.loaded_models import SegmentationResult
from inference.xray_pipeline import XraySegmenter
from preprocessing.image_io import read_image, write_image


def ct_case(segmenter: CTSegmenter, input_path: str, output_path: str) -> SegmentationResult:
    """Segments one CT volume into `output_path` (NIfTI with the input's geometry)."""
    start = time.perf_counter()
    volume, geometry = read_image(input_path, ndim=3)
    read_seconds = time.perf_counter() - start
    result = segmenter.segment(volume, geometry)
    start = time.perf_counter()
    write_image(result.labels, geometry, output_path)
    timings = {"read": read_seconds, **result.timings, "write": time.perf_counter() - start}
    return dataclasses.replace(result, timings=timings)


def xray_case(segmenter: XraySegmenter, input_path: str, output_path: str) -> SegmentationResult:
    """Segments one 2D image into `output_path` (PNG mask at the image's original size)."""
    start = time.perf_counter()
    image, geometry = read_image(input_path, ndim=2)
    read_seconds = time.perf_counter() - start
    result = segmenter.segment(image)
    start = time.perf_counter()
    write_image(segmenter.mask_values(result.labels), geometry, output_path)
    timings = {"read": read_seconds, **result.timings, "write": time.perf_counter() - start}
    return dataclasses.replace(result, timings=timings)
