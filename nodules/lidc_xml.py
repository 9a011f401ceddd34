"""Reads an LIDC-IDRI annotation file (`LidcReadMessage` XML, as TCIA releases it in tcia-lidc-xml/ and beside each
series) into the nodule outlines of its readers.

One `readingSession` per radiologist; each `unblindedReadNodule` with a non-empty `characteristics` block is a
nodule >= 3 mm with its ratings and one `roi` per slice: `imageZposition` (mm), `imageSOP_UID`, `inclusion`
(FALSE: a hole) and the outline's `edgeMap` pixels (`xCoord` = column, `yCoord` = row). As pylidc reads them,
nodules < 3 mm (no characteristics) and nodules with a rating of 0 or blank are left out, outlines of a single
pixel are dropped, and `nonNodule` marks are not read.
"""
from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ElementTree

import numpy as np

CHARACTERISTICS = ("subtlety", "internalStructure", "calcification", "sphericity", "margin", "lobulation",
                   "spiculation", "texture", "malignancy")


class AnnotationError(ValueError):
    """An annotation file cannot be used; the message is one line: '<path>: <problem>'."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclasses.dataclass(frozen=True)
class Outline:
    """One reader's outline of a nodule on one slice.

    Attributes:
        z_mm: the slice's z position (mm, `imageZposition`).
        sop_uid: SOP Instance UID of the slice, None when the file does not name it.
        inclusion: False for an outline that cuts a hole out of the nodule.
        points: [n, 2] outline pixels as (row, column) of the slice.
    """
    z_mm: float
    sop_uid: str | None
    inclusion: bool
    points: np.ndarray


@dataclasses.dataclass(frozen=True)
class ReaderNodule:
    """One radiologist's reading of one nodule >= 3 mm.

    Attributes:
        reader: index of the reading session in the file (0-3).
        nodule_id: the reader's own name for the nodule (`noduleID`).
        characteristics: the nine ratings by name (malignancy 1-5, ...).
        outlines: the outlines, in file order.
    """
    reader: int
    nodule_id: str
    characteristics: dict[str, int]
    outlines: tuple[Outline, ...]


@dataclasses.dataclass(frozen=True)
class LidcReading:
    """The readings of one CT series: its UIDs, the number of reading sessions and their nodules >= 3 mm."""
    study_uid: str | None
    series_uid: str
    readers: int
    nodules: tuple[ReaderNodule, ...]


def _text(element: ElementTree.Element | None) -> str | None:
    return None if element is None or element.text is None or not element.text.strip() else element.text.strip()


def _outline(path: str, roi: ElementTree.Element) -> Outline | None:
    points = []
    for edge in roi.findall("edgeMap"):
        x, y = _text(edge.find("xCoord")), _text(edge.find("yCoord"))
        if x is None or y is None:
            raise AnnotationError(path, "an edgeMap lacks xCoord or yCoord")
        points.append((int(y), int(x)))
    if len(points) <= 1:
        return None
    z = _text(roi.find("imageZposition"))
    if z is None:
        raise AnnotationError(path, "an roi lacks imageZposition")
    inclusion = (_text(roi.find("inclusion")) or "TRUE").upper() == "TRUE"
    return Outline(float(z), _text(roi.find("imageSOP_UID")), inclusion, np.array(points, np.int32))


def _nodule(path: str, reader: int, element: ElementTree.Element) -> ReaderNodule | None:
    block = element.find("characteristics")
    if block is None or len(block) == 0:
        return None
    ratings = {name: _text(block.find(name)) for name in CHARACTERISTICS}
    if any(value is None or value == "0" for value in ratings.values()):
        return None
    try:
        characteristics = {name: int(value) for name, value in ratings.items()}
    except ValueError as error:
        raise AnnotationError(path, f"a characteristic is not an integer ({error})") from error
    outlines = tuple(o for o in (_outline(path, roi) for roi in element.findall("roi")) if o is not None)
    if not outlines:
        return None
    return ReaderNodule(reader, _text(element.find("noduleID")) or "", characteristics, outlines)


def parse_lidc_xml(path: str, text: str) -> LidcReading:
    """Parses the text of an LIDC annotation file (`path` names it in errors)."""
    try:
        root = ElementTree.fromstring(re.sub(r'\sxmlns="[^"]+"', "", text, count=1))
    except ElementTree.ParseError as error:
        raise AnnotationError(path, f"not well-formed XML ({error})") from error
    if root.tag != "LidcReadMessage":
        raise AnnotationError(path, f"not an LIDC CT annotation file (root element {root.tag}, "
                                    "expected LidcReadMessage)")
    header = root.find("ResponseHeader")
    series_uid = _text(header.find("SeriesInstanceUid")) if header is not None else None
    if series_uid is None:
        raise AnnotationError(path, "ResponseHeader has no SeriesInstanceUid")
    sessions = root.findall("readingSession")
    nodules = tuple(n for reader, session in enumerate(sessions)
                    for n in (_nodule(path, reader, e) for e in session.findall("unblindedReadNodule"))
                    if n is not None)
    return LidcReading(_text(header.find("StudyInstanceUID")), series_uid, len(sessions), nodules)


def read_lidc_xml(path: str) -> LidcReading:
    """Reads an LIDC annotation file; any problem raises AnnotationError with one line naming the file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as error:
        raise AnnotationError(path, f"cannot be read ({error.strerror})") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_lidc_xml(path, text)
