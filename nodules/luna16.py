"""The LUNA16 release read unchanged: `subset0/` .. `subset9/` with `<seriesuid>.mhd` (+ `.raw`) scans,
`annotations.csv` (nodules >= 3 mm accepted by at least 3 of 4 LIDC readers: seriesuid, coordX, coordY, coordZ,
diameter_mm in world mm), `annotations_excluded.csv` (the other findings, irrelevant to the evaluation; a
diameter of -1 where unknown), `seriesuids.csv` (one uid per line, no header) and `candidates.csv` (seriesuid,
coordX, coordY, coordZ, class). A CAD result is a CSV with seriesuid, coordX, coordY, coordZ, probability.
"""
from __future__ import annotations

import csv
import glob
import os

import numpy as np

from nodules.froc import ScanFindings
from preprocessing.atomic import atomic_path

ANNOTATION_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "diameter_mm")
RESULT_COLUMNS = ("seriesuid", "coordX", "coordY", "coordZ", "probability")


class Luna16Error(ValueError):
    """A LUNA16 file that cannot be used; the message is one line naming it."""


def _rows(path: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise Luna16Error(f"{path}: missing column(s) {', '.join(missing)} (expected {', '.join(columns)})")
            return list(reader)
    except OSError as error:
        raise Luna16Error(f"{path}: cannot be read ({error.strerror})") from error


def _points(path: str, rows: list[dict[str, str]], value: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{seriesuid: (centres [n, 3] (x, y, z) mm, values [n])}."""
    grouped: dict[str, list[list[float]]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            grouped.setdefault(row["seriesuid"], []).append(
                [float(row["coordX"]), float(row["coordY"]), float(row["coordZ"]), float(row[value])])
        except (TypeError, ValueError) as error:
            raise Luna16Error(f"{path}: line {line} is not numeric ({error})") from error
    return {uid: (np.array(v)[:, :3], np.array(v)[:, 3]) for uid, v in grouped.items()}


def read_annotations(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{seriesuid: (centres [n, 3] in mm, diameters [n] in mm)} of annotations.csv or annotations_excluded.csv."""
    return _points(path, _rows(path, ANNOTATION_COLUMNS), "diameter_mm")


def read_results(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{seriesuid: (centres [n, 3] in mm, probabilities [n])} of a CAD result CSV."""
    return _points(path, _rows(path, RESULT_COLUMNS), "probability")


def read_seriesuids(path: str) -> list[str]:
    """The scans of seriesuids.csv (one uid per line, no header)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return [line.strip().split(",")[0] for line in handle if line.strip()]
    except OSError as error:
        raise Luna16Error(f"{path}: cannot be read ({error.strerror})") from error


def luna16_scans(folder: str) -> dict[str, str]:
    """{seriesuid: path of its .mhd} under `folder`'s subset*/ folders (or `folder` itself)."""
    paths = sorted(glob.glob(os.path.join(folder, "subset*", "*.mhd"))) or sorted(glob.glob(os.path.join(folder,
                                                                                                          "*.mhd")))
    return {os.path.basename(p)[:-len(".mhd")]: p for p in paths}


def scan_findings(uids: list[str], annotations: dict, excluded: dict, results: dict) -> list[ScanFindings]:
    """One `ScanFindings` per scan of `uids` (scans without a result have no detections)."""
    empty = (np.zeros((0, 3)), np.zeros(0))
    findings = []
    for uid in uids:
        nodules, diameters = annotations.get(uid, empty)
        irrelevant, irrelevant_diameters = excluded.get(uid, empty)
        detections, probabilities = results.get(uid, empty)
        findings.append(ScanFindings(nodules, diameters, detections, probabilities, irrelevant,
                                     irrelevant_diameters))
    return findings


def write_results(path: str, rows: list[tuple[str, np.ndarray]]) -> None:
    """Writes a CAD result CSV from (seriesuid, detections [n, 5] probability, x, y, z, diameter)."""
    with atomic_path(path) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(RESULT_COLUMNS)
        for uid, detections in rows:
            for probability, x, y, z, _ in detections:
                writer.writerow([uid, f"{x:.6f}", f"{y:.6f}", f"{z:.6f}", f"{probability:.9f}"])
