"""LIDC XML reading, outline placement and filling, reader clustering, consensus and malignancy labels, on
hand-written annotation files."""
import numpy as np
import pytest

from nodules import lidc_annotations as la
from nodules.lidc_xml import AnnotationError, parse_lidc_xml, read_lidc_xml

SERIES = "1.3.6.1.4.1.14519.5.2.1.6279.6001.100"


def _roi(z: float, sop: str | None, points: list[tuple[int, int]], inclusion: str = "TRUE") -> str:
    uid = f"<imageSOP_UID>{sop}</imageSOP_UID>" if sop else ""
    edges = "".join(f"<edgeMap><xCoord>{x}</xCoord><yCoord>{y}</yCoord></edgeMap>" for x, y in points)
    return f"<roi><imageZposition>{z:.6f} </imageZposition>{uid}<inclusion>{inclusion}</inclusion>{edges}</roi>"


def _square(x0: int, y0: int, x1: int, y1: int) -> list[tuple[int, int]]:
    """Outline pixels (x, y) of the rectangle [x0, x1] x [y0, y1], one pixel apart."""
    top = [(x, y0) for x in range(x0, x1 + 1)]
    right = [(x1, y) for y in range(y0 + 1, y1 + 1)]
    bottom = [(x, y1) for x in range(x1 - 1, x0 - 1, -1)]
    left = [(x0, y) for y in range(y1 - 1, y0, -1)]
    return top + right + bottom + left


def _nodule(nodule_id: str, malignancy: int, rois: str, characteristics: bool = True) -> str:
    block = ("<characteristics><subtlety>4</subtlety><internalStructure>1</internalStructure><calcification>6"
             "</calcification><sphericity>4</sphericity><margin>4</margin><lobulation>2</lobulation><spiculation>1"
             f"</spiculation><texture>5</texture><malignancy>{malignancy}</malignancy></characteristics>"
             if characteristics else "")
    return f"<unblindedReadNodule><noduleID>{nodule_id}</noduleID>{block}{rois}</unblindedReadNodule>"


def _file(*sessions: str, series: str = SERIES) -> str:
    body = "".join(f"<readingSession><annotationVersion>3.12</annotationVersion>"
                   f"<servicingRadiologistID>{i}</servicingRadiologistID>{s}</readingSession>"
                   for i, s in enumerate(sessions))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<LidcReadMessage uid="1.2" xmlns="http://www.nih.gov" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ResponseHeader><Version>1.8.1</Version>'
            f"<SeriesInstanceUid>{series}</SeriesInstanceUid><StudyInstanceUID>1.3.6.9</StudyInstanceUID>"
            f"</ResponseHeader>{body}</LidcReadMessage>")


# Slices at z = -100, -97.5, ..., -90 mm (5 slices), SOP UIDs sop.0 .. sop.4.
SLICES = la.SeriesSlices(tuple(f"sop.{k}" for k in range(5)), np.arange(5) * 2.5 - 100.0)

# Reader 0: nodule A on slices 1-2 (by SOP UID) with a hole on slice 2; reader 1: nodule A shifted by a pixel, its
# slice 1 outline without a SOP UID (placed by z); reader 1 also a far nodule B; reader 2: a < 3 mm nodule (no
# characteristics) and a single-pixel outline, both ignored.
TEXT = _file(
    _nodule("A0", 4, _roi(-97.5, "sop.1", _square(10, 10, 20, 20)) + _roi(-95.0, "sop.2", _square(10, 10, 20, 20))
            + _roi(-95.0, "sop.2", _square(13, 13, 17, 17), "FALSE")),
    _nodule("A1", 5, _roi(-97.5, None, _square(11, 11, 21, 21)) + _roi(-95.0, "sop.2", _square(11, 11, 21, 21)))
    + _nodule("B1", 2, _roi(-92.5, "sop.3", _square(40, 40, 46, 46))),
    _nodule("small", 0, _roi(-95.0, "sop.2", _square(30, 30, 31, 31)), characteristics=False)
    + _nodule("dot", 3, _roi(-95.0, "sop.2", [(30, 30)])),
)


def test_reads_readers_nodules_outlines_and_ratings():
    reading = parse_lidc_xml("a.xml", TEXT)
    assert reading.series_uid == SERIES and reading.readers == 3
    assert [(n.reader, n.nodule_id) for n in reading.nodules] == [(0, "A0"), (1, "A1"), (1, "B1")]
    a0 = reading.nodules[0]
    assert a0.characteristics["malignancy"] == 4 and a0.characteristics["calcification"] == 6
    assert [(o.z_mm, o.sop_uid, o.inclusion) for o in a0.outlines] == [
        (-97.5, "sop.1", True), (-95.0, "sop.2", True), (-95.0, "sop.2", False)]
    assert tuple(a0.outlines[0].points[0]) == (10, 10) and tuple(a0.outlines[0].points[11]) == (11, 20)
    assert reading.nodules[1].outlines[0].sop_uid is None


def test_filled_mask_excludes_outline_pixels_and_cuts_holes():
    reading = parse_lidc_xml("a.xml", TEXT)
    box = la.reader_mask(reading.nodules[0], SLICES, (5, 64, 64))
    assert box.start == (1, 10, 10) and box.mask.shape == (2, 11, 11)
    # rows / columns 11..19 inside the outline: 81 pixels on slice 1; the hole's inside (14..16) removed on slice 2
    assert box.mask[0].sum() == 81 and box.mask[1].sum() == 81 - 9
    assert not box.mask[1, 14 - 10, 14 - 10] and box.mask[1, 13 - 10, 13 - 10]


def test_outline_without_sop_uid_is_placed_by_z():
    outline = parse_lidc_xml("a.xml", TEXT).nodules[1].outlines[0]
    assert la.outline_slice(outline, SLICES) == 1


def test_outline_of_another_series_is_one_line_error():
    text = _file(_nodule("X", 3, _roi(-300.0, "other.7", _square(1, 1, 5, 5))))
    nodule = parse_lidc_xml("other.xml", text).nodules[0]
    with pytest.raises(AnnotationError, match=r"^other\.xml: an outline at z = -300 mm lies on no slice"):
        la.reader_mask(nodule, SLICES, (5, 64, 64), "other.xml")


def test_readers_of_one_nodule_cluster_and_others_stay_apart():
    reading = parse_lidc_xml("a.xml", TEXT)
    points = [la.outline_points_ijk(n, SLICES) for n in reading.nodules]
    assert la.cluster_readings(points, tolerance=2.5) == [[0, 1], [2]]
    assert la.cluster_readings(points, tolerance=30.0) == [[0, 1, 2]]


def test_clusters_above_four_readings_shrink_the_tolerance():
    # five readings in a row 1 apart except one gap of 0.75: at 1.0 all five join; at 0.9 only the close pair
    points = [np.array([[0.0, 0, 0]]), np.array([[1.0, 0, 0]]), np.array([[1.75, 0, 0]]),
              np.array([[2.75, 0, 0]]), np.array([[3.75, 0, 0]])]
    assert la.cluster_readings(points, tolerance=1.0) == [[0], [1, 2], [3], [4]]
    assert la.cluster_readings(points[:4], tolerance=1.0) == [[0, 1, 2, 3]]


def test_consensus_is_half_of_the_group_in_the_union_box():
    first = la.BoxMask((0, 0, 0), np.array([[[1, 1, 0]]], bool))
    second = la.BoxMask((0, 0, 1), np.array([[[1, 1]]], bool))
    third = la.BoxMask((0, 0, 2), np.array([[[1]]], bool))
    both = la.consensus_mask([first, second])
    assert both.start == (0, 0, 0) and both.mask.tolist() == [[[True, True, True]]]
    assert la.consensus_mask([first, second, third]).mask.tolist() == [[[False, True, True]]]


@pytest.mark.parametrize("ratings,label", [([4, 5], 1), ([1, 2, 3], 0), ([3, 3], None), ([2, 4], None),
                                           ([], None), ([3, 4], 1)])
def test_malignancy_label_from_mean_rating(ratings, label):
    assert la.malignancy_label(ratings) == label


@pytest.mark.parametrize("text,problem", [
    ("<LidcReadMessage><ResponseHeader>", "not well-formed XML"),
    ("<IdriReadMessage><ResponseHeader/></IdriReadMessage>", "not an LIDC CT annotation file"),
    ("<LidcReadMessage><ResponseHeader/></LidcReadMessage>", "ResponseHeader has no SeriesInstanceUid"),
])
def test_bad_files_give_one_line_errors(tmp_path, text, problem):
    path = tmp_path / "069.xml"
    path.write_text(text)
    with pytest.raises(AnnotationError) as error:
        read_lidc_xml(str(path))
    message = str(error.value)
    assert message.startswith(f"{path}: {problem}") and "\n" not in message
