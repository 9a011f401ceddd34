"""Chest CT phantoms with simulated LIDC readings, in the LIDC-IDRI (TCIA) layout.

CT (int16 HU): a body of soft tissue and fat, two lungs, a spine, vessels branching through the lungs (some
running across the slices, round in every slice like a nodule but long in 3D), and 0 to `max_nodules` nodules
(solid or ground-glass, some with a cavity, some touching the pleura), plus micronodules under 3 mm. Each scan has
an LIDC annotation file written the way the LIDC readers' tool wrote them: 1-4 reading sessions; per nodule >= 3 mm
that a reader saw, one outline per slice through the first pixels outside the nodule, drawn on the reader's own,
slightly different idea of its border, a cavity as an exclusion outline, and the reader's nine ratings (malignancy
from the nodule's size and a reader's spread); micronodules as a single marked pixel without ratings; a few
vessels marked as `nonNodule`. Layout::

    LIDC-IDRI/LIDC-IDRI-0001/01-01-2000-NA-NA-12345/3000566.000000-NA-67890/1-001.dcm ... 069.xml

or the LUNA16 layout (`write_luna16_dataset`): `subset0/<seriesuid>.mhd` + `.raw` .. (scans dealt over ten
subsets), `annotations.csv` (the nodules >= 3 mm at least 3 of 4 simulated readers marked, centre and diameter in
world mm), `annotations_excluded.csv` (the other nodules, micronodules and the nodule-like vessels, diameter -1
where unknown), `seriesuids.csv` and `candidates.csv` (class 1 at the nodules, 0 at vessels and random lung
points).

World coordinates follow DICOM/ITK LPS, direction identity, slices stored from the top (Instance Number 1 at the
highest z).
"""
from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import xml.etree.ElementTree as ElementTree

import cv2
import numpy as np
import SimpleITK as sitk

from preprocessing.atomic import atomic_path
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import to_sitk
from preprocessing.synthetic.dicom import series_uids, write_ct_series
from preprocessing.synthetic.shapes import deformed_ellipsoid, world_axes

LIDC_NAMESPACE = "http://www.nih.gov"
RATING_NAMES = ("subtlety", "internalStructure", "calcification", "sphericity", "margin", "lobulation",
                "spiculation", "texture", "malignancy")


@dataclasses.dataclass(frozen=True)
class LidcPhantomConfig:
    """Size, acquisition and content of the phantoms (defaults: LIDC-IDRI's typical acquisitions).

    Attributes:
        in_plane_size: pixels per slice axis (x and y).
        field_of_view_mm: range of the reconstruction field of view (mm); the anatomy scales with it.
        slice_thickness_mm: range of the slice spacing (mm).
        axial_extent_mm: range of the scanned length (mm).
        max_nodules: largest number of nodules >= 3 mm in a scan.
        nodule_free_probability: probability that a scan has no nodule >= 3 mm.
        nodule_diameter_mm: range of nodule diameters (mm).
        juxtapleural_probability: probability that a nodule touches the pleura.
        ground_glass_probability: probability that a nodule is ground-glass (-700 to -300 HU) rather than solid.
        cavity_probability: probability that a solid nodule >= 8 mm has an air-filled cavity.
        max_micronodules: largest number of nodules < 3 mm.
        vessels: number of branching vessels per lung; vessels_across: vessels running across the slices.
        noise_hu: standard deviation of the image noise (HU).
    """

    in_plane_size: int = 512
    field_of_view_mm: tuple[float, float] = (300.0, 400.0)
    slice_thickness_mm: tuple[float, float] = (1.25, 2.5)
    axial_extent_mm: tuple[float, float] = (260.0, 340.0)
    max_nodules: int = 4
    nodule_free_probability: float = 0.2
    nodule_diameter_mm: tuple[float, float] = (3.5, 25.0)
    juxtapleural_probability: float = 0.25
    ground_glass_probability: float = 0.15
    cavity_probability: float = 0.15
    max_micronodules: int = 2
    vessels: int = 6
    vessels_across: int = 3
    noise_hu: float = 20.0


@dataclasses.dataclass(frozen=True)
class PhantomNodule:
    """A simulated nodule: centre (x, y, z) in mm, diameter in mm, its mask in the box `box` of the volume
    ([z, y, x] slices), the cavity inside it (bool, same box; all False without one), and its malignancy (1-5)."""
    centre_mm: tuple[float, float, float]
    diameter_mm: float
    box: tuple[slice, slice, slice]
    mask: np.ndarray
    cavity: np.ndarray
    malignancy: float
    juxtapleural: bool


@dataclasses.dataclass(frozen=True)
class LidcPhantom:
    """A phantom scan: HU [z, y, x] (z increasing with the index), its geometry, nodules >= 3 mm, micronodules
    (centre mm, diameter mm) and vessel points a reader could mistake for a nodule (centre mm)."""
    hu: np.ndarray
    geometry: ImageGeometry
    nodules: tuple[PhantomNodule, ...]
    micronodules: tuple[tuple[tuple[float, float, float], float], ...]
    vessel_points: tuple[tuple[float, float, float], ...]


def _tube(axes: list[np.ndarray], start: np.ndarray, end: np.ndarray, radius: float) -> tuple[tuple[slice, ...],
                                                                                           np.ndarray]:
    """Voxels within `radius` (mm) of the segment start-end (points in array order z, y, x, mm), in its box."""
    low, high = np.minimum(start, end) - radius, np.maximum(start, end) + radius
    box = tuple(slice(int(np.searchsorted(a, lo)), int(np.searchsorted(a, hi, "right")))
                for a, lo, hi in zip(axes, low, high))
    coords = np.stack(np.meshgrid(*[a[b] for a, b in zip(axes, box)], indexing="ij"), axis=-1)
    direction = end - start
    t = np.clip(((coords - start) @ direction) / max(float(direction @ direction), 1e-6), 0.0, 1.0)
    closest = start + t[..., None] * direction
    return box, ((coords - closest) ** 2).sum(axis=-1) <= radius ** 2


def _anatomy(axes: list[np.ndarray], fov: float, extent: float, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray]:
    """(HU without nodules and noise, lung mask) of a chest whose size follows the field of view."""
    z, y, x = np.meshgrid(*axes, indexing="ij", sparse=True)
    zc = (axes[0][0] + axes[0][-1]) / 2
    body = ((x / (0.45 * fov)) ** 2 + (y / (0.32 * fov)) ** 2) <= 1.0
    fat = body & ~(((x / (0.41 * fov)) ** 2 + (y / (0.28 * fov)) ** 2) <= 1.0)
    hu = np.where(body, 40.0, -1000.0) + np.where(fat, -140.0, 0.0)
    hu = np.broadcast_to(hu, tuple(len(a) for a in axes)).astype(np.float32)
    lungs = np.zeros(hu.shape, bool)
    for side in (-1.0, 1.0):
        centre = np.array([zc + 0.05 * extent, -0.02 * fov, side * 0.2 * fov])
        radii = np.array([0.55 * extent, 0.22 * fov * rng.uniform(0.9, 1.05), 0.16 * fov * rng.uniform(0.9, 1.05)])
        box, mask = deformed_ellipsoid(axes, centre, radii, rng, amplitude=0.04, wavelength=(80.0, 160.0))
        lungs[box] |= mask
    lungs &= body
    hu[lungs] = -850.0
    spine = (x ** 2 + (y - 0.22 * fov) ** 2) <= (0.05 * fov) ** 2
    hu[np.broadcast_to(spine, hu.shape)] = 400.0
    return hu, lungs


def _vessels(hu: np.ndarray, lungs: np.ndarray, axes: list[np.ndarray], config: LidcPhantomConfig, fov: float,
             rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """Draws vessels into `hu` (inside the lungs); returns world points (x, y, z) of the vessels that run across
    the slices (round in a slice: nodule look-alikes)."""
    inside = np.argwhere(lungs[::4, ::4, ::4]) * 4
    if len(inside) == 0:
        return []
    look_alikes = []
    for number in range(2 * config.vessels + config.vessels_across):
        across = number >= 2 * config.vessels
        start = np.array([a[i] for a, i in zip(axes, inside[rng.integers(len(inside))])])
        if across:
            end = start + np.array([rng.uniform(25.0, 50.0), rng.normal(0, 1.0), rng.normal(0, 1.0)])
        else:
            direction = rng.normal(size=3)
            end = start + direction / np.linalg.norm(direction) * rng.uniform(0.15, 0.3) * fov
        radius = rng.uniform(1.5, 3.0) if across else rng.uniform(0.8, 2.5)
        box, tube = _tube(axes, start, end, radius)
        region = hu[box]
        region[tube & lungs[box]] = 40.0
        if across:
            look_alikes.append((float(start[2]), float(start[1]), float(start[0])))
    return look_alikes


def _place_nodule(lungs: np.ndarray, axes: list[np.ndarray], diameter: float, juxtapleural: bool,
                  rng: np.random.Generator, taken: np.ndarray) -> tuple[np.ndarray, tuple[slice, ...],
                                                                           np.ndarray] | None:
    """(centre in array order mm, box, mask) of a nodule inside the lungs (touching the lung's border when
    `juxtapleural`), away from nodules already placed (`taken`); None when no place was found."""
    inside = np.argwhere(lungs[::2, ::2, ::2]) * 2
    for _ in range(200):
        centre = np.array([a[i] for a, i in zip(axes, inside[rng.integers(len(inside))])], np.float64)
        radii = diameter / 2 * rng.uniform(0.85, 1.15, size=3)
        box, mask = deformed_ellipsoid(axes, centre, radii, rng, amplitude=0.08, wavelength=(8.0, 20.0))
        if any(b.start == 0 or b.stop >= len(a) for a, b in zip(axes, box)):
            continue
        in_lung = lungs[box][mask].mean()
        if (juxtapleural and not 0.55 <= in_lung <= 0.9) or (not juxtapleural and in_lung < 1.0):
            continue
        if taken[box][mask].any():
            continue
        return centre, box, np.array(mask)
    return None


def phantom(rng: np.random.Generator, config: LidcPhantomConfig = LidcPhantomConfig()) -> LidcPhantom:
    """One chest CT phantom with its nodules."""
    fov = rng.uniform(*config.field_of_view_mm)
    spacing = fov / config.in_plane_size
    thickness = float(rng.choice(np.arange(config.slice_thickness_mm[0], config.slice_thickness_mm[1] + 1e-6,
                                           0.25)))
    slices = int(round(rng.uniform(*config.axial_extent_mm) / thickness))
    origin = (-spacing * (config.in_plane_size - 1) / 2, -spacing * (config.in_plane_size - 1) / 2,
              round(float(rng.uniform(-350.0, -150.0)), 2))
    geometry = ImageGeometry(size=(config.in_plane_size, config.in_plane_size, slices),
                             spacing=(spacing, spacing, thickness), origin=origin,
                             direction=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    axes = world_axes(geometry)
    hu, lungs = _anatomy(axes, fov, slices * thickness, rng)
    look_alikes = _vessels(hu, lungs, axes, config, fov, rng)
    count = 0 if rng.uniform() < config.nodule_free_probability else int(rng.integers(1, config.max_nodules + 1))
    taken = np.zeros(hu.shape, bool)
    nodules = []
    for _ in range(count):
        diameter = float(np.exp(rng.uniform(*np.log(config.nodule_diameter_mm))))
        juxtapleural = bool(rng.uniform() < config.juxtapleural_probability)
        placed = _place_nodule(lungs, axes, diameter, juxtapleural, rng, taken)
        if placed is None:
            continue
        centre, box, mask = placed
        taken[box] |= mask
        ground_glass = rng.uniform() < config.ground_glass_probability
        region = hu[box]
        region[mask] = rng.uniform(-700.0, -300.0) if ground_glass else rng.uniform(0.0, 80.0)
        cavity = np.zeros(mask.shape, bool)
        if not ground_glass and diameter >= 8.0 and rng.uniform() < config.cavity_probability:
            coords = np.meshgrid(*[a[b] for a, b in zip(axes, box)], indexing="ij", sparse=True)
            radius = diameter * rng.uniform(0.15, 0.25)
            cavity = mask & (sum((c - m) ** 2 for c, m in zip(coords, centre)) <= radius ** 2)
            region[cavity] = -1000.0
        malignancy = float(np.clip(1.0 + 4.0 * (np.log(diameter) - np.log(3.0)) / (np.log(30.0) - np.log(3.0))
                                   + rng.normal(0, 0.6), 1.0, 5.0))
        nodules.append(PhantomNodule((float(centre[2]), float(centre[1]), float(centre[0])), diameter, box,
                                     mask, cavity, malignancy, juxtapleural))
    micronodules = []
    inside = np.argwhere(lungs[::2, ::2, ::2] & ~taken[::2, ::2, ::2]) * 2
    for _ in range(int(rng.integers(0, config.max_micronodules + 1)) if len(inside) else 0):
        centre = np.array([a[i] for a, i in zip(axes, inside[rng.integers(len(inside))])], np.float64)
        diameter = float(rng.uniform(1.5, 2.8))
        box, mask = deformed_ellipsoid(axes, centre, np.full(3, diameter / 2), rng, amplitude=0.0)
        hu[box][mask] = 30.0
        micronodules.append(((float(centre[2]), float(centre[1]), float(centre[0])), diameter))
    hu = hu + rng.normal(0.0, config.noise_hu, hu.shape).astype(np.float32)
    return LidcPhantom(np.clip(np.round(hu), -1024, 3071).astype(np.int16), geometry, tuple(nodules),
                       tuple(micronodules), tuple(look_alikes))


def _outer_outlines(mask: np.ndarray) -> list[np.ndarray]:
    """Outlines (row, column) [n, 2] through the first pixels outside each piece of a 2D mask, in order along
    the border, as the LIDC readers drew them."""
    grown = cv2.dilate(np.pad(mask, 2).astype(np.uint8), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(grown, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return [c.reshape(-1, 2)[:, ::-1] - 2 for c in contours if len(c) > 1]


def _reader_view(nodule: PhantomNodule, rng: np.random.Generator) -> np.ndarray:
    """A reader's idea of a nodule (bool, the nodule's box grown by 2 voxels in-plane): its border one pixel in
    (where the slice keeps a pixel) or out, shifted by up to a pixel, the first or last slice sometimes left
    out."""
    mask = np.pad(nodule.mask, ((0, 0), (2, 2), (2, 2)))
    bias = int(rng.choice([-1, 0, 0, 1]))
    kernel = np.ones((3, 3), np.uint8)
    view = np.zeros_like(mask)
    for k in range(len(mask)):
        piece = mask[k].astype(np.uint8)
        if bias > 0:
            piece = cv2.dilate(piece, kernel)
        elif bias < 0 and cv2.erode(piece, kernel).any():
            piece = cv2.erode(piece, kernel)
        view[k] = np.roll(piece.astype(bool), tuple(rng.integers(-1, 2, size=2)) if rng.uniform() < 0.3
                          else (0, 0), axis=(0, 1))
    present = np.flatnonzero(view.any(axis=(1, 2)))
    if len(present) > 2 and rng.uniform() < 0.3:
        view[present[0] if rng.uniform() < 0.5 else present[-1]] = False
    return view


def _ratings(nodule: PhantomNodule, rng: np.random.Generator) -> dict[str, int]:
    """A reader's nine ratings of a nodule (LIDC scales; malignancy around the nodule's own value)."""
    def scale(value: float, high: int = 5) -> int:
        return int(np.clip(round(value + rng.normal(0, 0.7)), 1, high))

    cavity = bool(nodule.cavity.any())
    return {"subtlety": scale(2.0 + nodule.diameter_mm / 6.0), "internalStructure": 4 if cavity else 1,
            "calcification": 6 if rng.uniform() < 0.9 else int(rng.integers(1, 6)),
            "sphericity": scale(4.0), "margin": scale(4.5 - nodule.malignancy / 2),
            "lobulation": scale(nodule.malignancy / 2), "spiculation": scale(nodule.malignancy / 2),
            "texture": scale(5.0), "malignancy": scale(nodule.malignancy)}


def sightings(scan: LidcPhantom, rng: np.random.Generator) -> np.ndarray:
    """bool [readers, nodules]: which of 1-4 simulated readers saw which nodule >= 3 mm (each nodule by one at
    least; a small one is missed more often)."""
    readers = int(rng.choice([1, 2, 3, 4], p=[0.05, 0.1, 0.15, 0.7]))
    seen = rng.uniform(size=(readers, len(scan.nodules))) < np.array(
        [0.95 if n.diameter_mm >= 6.0 else 0.75 for n in scan.nodules])
    seen[rng.integers(readers), ~seen.any(axis=0)] = True
    return seen


def reading(nodule: PhantomNodule, rng: np.random.Generator) -> tuple[dict[str, int], np.ndarray]:
    """A reader's ratings of a nodule and the region they outline (`_reader_view`, cavity not yet cut out)."""
    return _ratings(nodule, rng), _reader_view(nodule, rng)


def _sub(parent: ElementTree.Element, tag: str, text: object = None) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    if text is not None:
        element.text = str(text)
    return element


def _roi(parent: ElementTree.Element, z_mm: float, sop_uid: str, inclusion: bool, points: np.ndarray) -> None:
    roi = _sub(parent, "roi")
    _sub(roi, "imageZposition", f"{z_mm:.6f} ")
    _sub(roi, "imageSOP_UID", sop_uid)
    _sub(roi, "inclusion", "TRUE" if inclusion else "FALSE")
    for row, column in points:
        edge = _sub(roi, "edgeMap")
        _sub(edge, "xCoord", int(column))
        _sub(edge, "yCoord", int(row))


def readings_xml(scan: LidcPhantom, study_uid: str, series_uid: str, sop_uids: list[str],
                 rng: np.random.Generator) -> str:
    """The LIDC annotation file of a phantom: 1-4 reading sessions (see the module docstring)."""
    axes = world_axes(scan.geometry)
    seen = sightings(scan, rng)
    readers = len(seen)
    root = ElementTree.Element("LidcReadMessage", {
        "uid": f"{series_uid}.{rng.integers(10 ** 9)}", "xmlns": LIDC_NAMESPACE,
        "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "xsi:schemaLocation": "http://www.nih.gov http://troll.rad.med.umich.edu/lidc/LidcReadMessage.xsd"})
    header = _sub(root, "ResponseHeader")
    for tag, text in (("Version", "1.8.1"), ("MessageId", int(rng.integers(-2 ** 31, 2 ** 31))),
                      ("DateRequest", "2007-11-01"), ("TimeRequest", "12:30:52"), ("RequestingSite", "removed"),
                      ("ServicingSite", "removed"), ("TaskDescription", "Second unblinded read"),
                      ("CtImageFile", "removed"), ("SeriesInstanceUid", series_uid), ("DateService", "2000-01-01"),
                      ("TimeService", "12:00:00"), ("ResponseDescription", "1 - Reading complete"),
                      ("StudyInstanceUID", study_uid)):
        _sub(header, tag, text)
    z_of = axes[0]
    for reader in range(readers):
        session = _sub(root, "readingSession")
        _sub(session, "annotationVersion", "3.12")
        _sub(session, "servicingRadiologistID", int(rng.integers(10 ** 8, 10 ** 9)))
        for number, nodule in enumerate(scan.nodules):
            if not seen[reader, number]:
                continue
            element = _sub(session, "unblindedReadNodule")
            _sub(element, "noduleID", f"Nodule {number + 1:03d}")
            block = _sub(element, "characteristics")
            ratings, view = reading(nodule, rng)
            for name, value in ratings.items():
                _sub(block, name, value)
            cavity = np.pad(nodule.cavity, ((0, 0), (2, 2), (2, 2)))
            offset = np.array([nodule.box[1].start - 2, nodule.box[2].start - 2])
            for k in range(len(view)):
                z = nodule.box[0].start + k
                for outline in _outer_outlines(view[k]):
                    _roi(element, float(z_of[z]), sop_uids[z], True, outline + offset)
                for outline in _outer_outlines(cavity[k] & view[k]):
                    _roi(element, float(z_of[z]), sop_uids[z], False, outline + offset)
        for number, (centre, _) in enumerate(scan.micronodules):
            if rng.uniform() < 0.5:
                index = _index(scan.geometry, centre)
                element = _sub(session, "unblindedReadNodule")
                _sub(element, "noduleID", f"Small {number + 1}")
                _roi(element, float(z_of[index[2]]), sop_uids[index[2]], True, np.array([[index[1], index[0]]]))
        for number, centre in enumerate(scan.vessel_points):
            if rng.uniform() < 0.3:
                index = _index(scan.geometry, centre)
                element = _sub(session, "nonNodule")
                _sub(element, "nonNoduleID", f"Non-nodule {number + 1}")
                _sub(element, "imageZposition", f"{float(z_of[index[2]]):.6f} ")
                _sub(element, "imageSOP_UID", sop_uids[index[2]])
                locus = _sub(element, "locus")
                _sub(locus, "xCoord", index[0])
                _sub(locus, "yCoord", index[1])
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _index(geometry: ImageGeometry, point_mm: tuple[float, float, float]) -> tuple[int, int, int]:
    """Nearest voxel index (x, y, z) of a world point, inside the grid."""
    index = np.round(geometry.physical_to_index(point_mm)).astype(int)
    return tuple(int(v) for v in np.clip(index, 0, np.asarray(geometry.size) - 1))


def write_scan(folder: str, scan: LidcPhantom, patient: str, uid_suffix: str, rng: np.random.Generator) -> str:
    """Writes a phantom as a DICOM series into `folder` with its LIDC annotation file inside; returns the file."""
    write_ct_series(folder, scan.hu, scan.geometry, patient, uid_suffix)
    study_uid, series_uid, sop_uids = series_uids(uid_suffix, scan.hu.shape[0])
    xml = readings_xml(scan, study_uid, series_uid, sop_uids, rng)
    target = os.path.join(folder, f"{rng.integers(0, 1000):03d}.xml")
    with atomic_path(target) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        handle.write(xml)
    return target


def write_dataset(output_folder: str, num_cases: int, seed: int = 0, config: LidcPhantomConfig | None = None,
                  progress: bool = True) -> list[str]:
    """Writes scans LIDC-IDRI-0001.. (a series folder each, its annotation file inside); returns the series
    folders."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    config = config or LidcPhantomConfig()
    written = []
    for number in tqdm(range(1, num_cases + 1), desc="LIDC phantoms", disable=not progress):
        scan = phantom(rng, config)
        patient = f"LIDC-IDRI-{number:04d}"
        study = f"01-01-2000-NA-NA-{rng.integers(10000, 99999)}"
        series = f"{rng.integers(3000000, 3999999)}.000000-NA-{rng.integers(10000, 99999)}"
        folder = os.path.join(output_folder, "LIDC-IDRI", patient, study, series)
        write_scan(folder, scan, patient, f"6279.6001.{seed}.{number}", rng)
        written.append(folder)
    return written


def _write_csv(path: str, header: list[str] | None, rows: list[list]) -> None:
    with atomic_path(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def _write_mhd(folder: str, name: str, scan: LidcPhantom) -> str:
    """Writes `<folder>/<name>.mhd` + `.raw` (uncompressed, as LUNA16), both complete or neither."""
    staging = os.path.join(folder, f".tmp-{name}")
    os.makedirs(staging, exist_ok=True)
    try:
        sitk.WriteImage(to_sitk(scan.hu, scan.geometry), os.path.join(staging, f"{name}.mhd"), useCompression=False)
        os.replace(os.path.join(staging, f"{name}.raw"), os.path.join(folder, f"{name}.raw"))
        os.replace(os.path.join(staging, f"{name}.mhd"), os.path.join(folder, f"{name}.mhd"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return os.path.join(folder, f"{name}.mhd")


def write_luna16_dataset(output_folder: str, num_cases: int, seed: int = 0, config: LidcPhantomConfig | None = None,
                         progress: bool = True) -> list[str]:
    """Writes phantoms in the LUNA16 layout (see the module docstring); returns the .mhd paths."""
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    config = config or LidcPhantomConfig()
    written, annotations, excluded, candidates, uids = [], [], [], [], []
    for number in tqdm(range(1, num_cases + 1), desc="LUNA16 phantoms", disable=not progress):
        scan = phantom(rng, config)
        uid = f"1.3.6.1.4.1.14519.5.2.1.6279.6001.{seed}{number:06d}"
        folder = os.path.join(output_folder, f"subset{(number - 1) % 10}")
        os.makedirs(folder, exist_ok=True)
        written.append(_write_mhd(folder, uid, scan))
        uids.append([uid])
        for nodule in scan.nodules:
            readers = int(rng.binomial(4, 0.95 if nodule.diameter_mm >= 6.0 else 0.75))
            row = [uid, *(f"{c:.6f}" for c in nodule.centre_mm), f"{nodule.diameter_mm:.6f}"]
            (annotations if readers >= 3 else excluded).append(row)
            candidates.append([uid, *(f"{c:.6f}" for c in nodule.centre_mm), 1])
        for centre, diameter in scan.micronodules:
            excluded.append([uid, *(f"{c:.6f}" for c in centre), f"{diameter:.6f}"])
        for centre in scan.vessel_points:
            excluded.append([uid, *(f"{c:.6f}" for c in centre), "-1"])
            candidates.append([uid, *(f"{c:.6f}" for c in centre), 0])
    header = ["seriesuid", "coordX", "coordY", "coordZ", "diameter_mm"]
    _write_csv(os.path.join(output_folder, "annotations.csv"), header, annotations)
    _write_csv(os.path.join(output_folder, "annotations_excluded.csv"), header, excluded)
    _write_csv(os.path.join(output_folder, "seriesuids.csv"), None, uids)
    _write_csv(os.path.join(output_folder, "candidates.csv"), ["seriesuid", "coordX", "coordY", "coordZ", "class"],
               candidates)
    return written
