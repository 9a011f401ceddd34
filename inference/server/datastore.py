"""The server's datastore: the images of a studies folder, which the server only reads, and a folder of its own
(`--datastore`, never inside the studies folder) holding what clients upload and the labels they submit:
`<store>/images/<id><ext>`, `<store>/labels/<tag>/<id><ext>` (MONAI Label's local layout). A restarted server lists
what was uploaded and labelled before; an uploaded image of a studies image's id takes its place in the listing.

Nothing a request sends becomes a path unchecked: an image id or a tag must match `ID_PATTERN` (no separators, no
leading dot), a file's extension must be one of the readable image suffixes, and every path is built here from
those parts under the studies or the datastore folder. Uploads are written to a temporary name, read back as
images, and renamed into place only when they read (`preprocessing.atomic`).
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import threading

from preprocessing.atomic import atomic_path, full_suffix
from preprocessing.image_geometry import ImageGeometry
from preprocessing.image_io import IMAGE_SUFFIXES, ImageReadError, case_name, read_image

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
LABELS_FOLDER = "labels"
FINAL_TAG = "final"
STRATEGIES = {"first": "the first image (by id) without a final label",
              "random": "a random image without a final label"}


class DatastoreError(ValueError):
    """A datastore request that cannot be served: the HTTP status and a one-line message."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def checked_id(value: str, what: str = "image id") -> str:
    """`value` when it is a usable id or tag (letters, digits, '.', '_', '-'; no leading dot; at most 128
    characters), else DatastoreError 422."""
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise DatastoreError(422, f"{what} {value!r} is not usable: use letters, digits, '.', '_' and '-' "
                                  "(at most 128, not starting with '.')")
    return value


def safe_id(value: str) -> str:
    """An image id as this datastore stores it: `value` itself when usable (`ID_PATTERN`), else `value` with every
    other character replaced by '_' and a short hash of the original appended, so that a name such as Slicer's
    '3: CT Chest' always maps to the same usable id; DatastoreError 422 for an empty or non-text value."""
    if not isinstance(value, str) or not value:
        raise DatastoreError(422, "an image id is required")
    if ID_PATTERN.match(value):
        return value
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", value).lstrip("._")[:100] or "image"
    return f"{stem}-{hashlib.sha1(value.encode()).hexdigest()[:8]}"


def image_suffix(file_name: str) -> str:
    """The image suffix of an uploaded file's name ('.nii.gz', '.nrrd', ...), else DatastoreError 415."""
    suffix = full_suffix(os.path.basename(file_name or "")).lower()
    if suffix not in IMAGE_SUFFIXES:
        raise DatastoreError(415, f"file {os.path.basename(file_name or '')!r} is not an image this server reads "
                                  f"({', '.join(IMAGE_SUFFIXES)})")
    return suffix


def _image_files(folder: str) -> dict[str, str]:
    """{id: file name} of the readable image files directly in `folder`."""
    return {case_name(name): name for name in sorted(os.listdir(folder))
            if not name.startswith(".") and full_suffix(name).lower() in IMAGE_SUFFIXES
            and os.path.isfile(os.path.join(folder, name)) and ID_PATTERN.match(case_name(name))}


def default_store(studies: str) -> str:
    """The datastore folder of a studies folder when none is given: one per studies folder under the user's cache."""
    key = hashlib.sha1(os.path.realpath(studies).encode()).hexdigest()[:12]
    return os.path.join(os.path.expanduser("~"), ".cache", "medseg-server", key)


class Datastore:
    """The images of `studies` (read only) and of `store` (uploads), and the labels in `store`; safe to use from
    several request threads. A `store` inside `studies` is refused (ValueError)."""

    def __init__(self, studies: str, store: str):
        if not os.path.isdir(studies):
            raise FileNotFoundError(f"{studies}: studies folder not found")
        self.studies, self.store = os.path.realpath(studies), os.path.realpath(store)
        if os.path.commonpath([self.studies, self.store]) in (self.studies, self.store):
            raise ValueError(f"{store}: the datastore folder must not be inside the studies folder {studies} nor "
                             "hold it (the server never writes into the studies folder)")
        self.uploads = os.path.join(self.store, "images")
        os.makedirs(self.uploads, exist_ok=True)
        self._lock = threading.Lock()

    def images(self) -> dict[str, str]:
        """{image id: file} (read on each call: files added beside the server count; uploads first)."""
        found = {i: os.path.join(self.studies, n) for i, n in _image_files(self.studies).items()}
        found.update({i: os.path.join(self.uploads, n) for i, n in _image_files(self.uploads).items()})
        return dict(sorted(found.items()))

    def image_path(self, image_id: str) -> str:
        """The file of image `image_id`, else DatastoreError 404."""
        path = self.images().get(safe_id(image_id))
        if path is None:
            raise DatastoreError(404, f"unknown image '{image_id}'")
        return path

    def all_labels(self) -> dict[str, dict[str, str]]:
        """{image id: {tag: file name}} of every stored label (each tag folder read once)."""
        root = os.path.join(self.store, LABELS_FOLDER)
        tags = sorted(t for t in os.listdir(root) if ID_PATTERN.match(t)) if os.path.isdir(root) else []
        found: dict[str, dict[str, str]] = {}
        for tag in tags:
            for image_id, name in _image_files(os.path.join(root, tag)).items():
                found.setdefault(image_id, {})[tag] = name
        return found

    def labels(self, image_id: str) -> dict[str, str]:
        """{tag: file name} of the labels stored for `image_id`."""
        return self.all_labels().get(image_id, {})

    def label_path(self, image_id: str, tag: str) -> str:
        """The file of the `tag` label of `image_id`, else DatastoreError 404."""
        name = self.labels(safe_id(image_id)).get(checked_id(tag, "tag"))
        if name is None:
            raise DatastoreError(404, f"no '{tag}' label for image '{image_id}'")
        return os.path.join(self.store, LABELS_FOLDER, tag, name)

    def add_image(self, image_id: str, source, file_name: str) -> str:
        """Stores the uploaded stream `source` as image `image_id` (replacing one of that id), after checking that
        it reads as an image; returns the id."""
        image_id = safe_id(image_id)
        suffix = image_suffix(file_name)
        with self._lock:
            self._store(source, os.path.join(self.uploads, image_id + suffix))
            for name in self._other_files(self.uploads, image_id, image_id + suffix):
                os.remove(os.path.join(self.uploads, name))
        return image_id

    def save_label(self, image_id: str, tag: str, source, file_name: str, info: dict) -> str:
        """Stores the uploaded label `source` as the `tag` label of `image_id`, after checking that it reads and
        lies on the image's grid; writes `info` (the request's params) beside it; returns the label id."""
        path = self.image_path(image_id)
        try:
            geometry = read_image(path)[1]
        except ImageReadError as error:
            raise DatastoreError(422, f"{os.path.basename(path)}: {error.problem}") from error
        image_id = safe_id(image_id)
        checked_id(tag, "tag")
        suffix = image_suffix(file_name)
        folder = os.path.join(self.store, LABELS_FOLDER, tag)
        with self._lock:
            os.makedirs(folder, exist_ok=True)
            self._store(source, os.path.join(folder, image_id + suffix), geometry)
            for name in self._other_files(folder, image_id, image_id + suffix):
                os.remove(os.path.join(folder, name))
            with atomic_path(os.path.join(folder, f".{image_id}.info.json")) as temp, \
                    open(temp, "w", encoding="utf-8") as handle:
                json.dump(info, handle)
        return image_id

    @staticmethod
    def _other_files(folder: str, image_id: str, keep: str) -> list[str]:
        """Image files of `image_id` in `folder` with another suffix than `keep` (replaced by an upload)."""
        return [name for name in os.listdir(folder)
                if name != keep and case_name(name) == image_id and full_suffix(name).lower() in IMAGE_SUFFIXES]

    @staticmethod
    def _store(source, path: str, grid: ImageGeometry | None = None) -> None:
        """Copies `source` to `path` atomically, refusing (DatastoreError 422, nothing written) what does not read
        as an image, or as a label on `grid` when given."""
        with atomic_path(path) as temp:
            with open(temp, "wb") as handle:
                shutil.copyfileobj(source, handle)
            try:
                _, geometry = read_image(temp)
            except ImageReadError as error:
                raise DatastoreError(422, f"{os.path.basename(path)}: {error.problem}") from error
            if grid is not None and not geometry.same_grid(grid):
                raise DatastoreError(422, f"{os.path.basename(path)}: the label is not on the image's grid "
                                          f"(size {list(geometry.size)} vs {list(grid.size)}, or spacing, origin or "
                                          "direction differ)")

    def listing(self, output: str) -> dict:
        """`GET /datastore/`: counts (`stats`) or every object with its image and labels (`all`), as MONAI Label's
        local datastore answers."""
        images, every = self.images(), self.all_labels()
        labels = {image_id: every.get(image_id, {}) for image_id in images}
        if output == "all":
            objects = {image_id: {"image": {"ext": full_suffix(path), "info": {"name": os.path.basename(path)}},
                                  "labels": {tag: {"ext": full_suffix(file), "info": self._label_info(tag, image_id)}
                                             for tag, file in labels[image_id].items()}}
                       for image_id, path in images.items()}
            return {"name": os.path.basename(self.studies), "description": "medseg-tf studies folder",
                    "images_dir": "", "labels_dir": LABELS_FOLDER, "objects": objects}
        tags: dict[str, int] = {}
        for found in labels.values():
            for tag in found:
                tags[tag] = tags.get(tag, 0) + 1
        return {"total": len(images), "completed": sum(FINAL_TAG in found for found in labels.values()),
                "label_tags": tags}

    def _label_info(self, tag: str, image_id: str) -> dict:
        path = os.path.join(self.store, LABELS_FOLDER, tag, f".{image_id}.info.json")
        return json.load(open(path, encoding="utf-8")) if os.path.isfile(path) else {}

    def next_sample(self, strategy: str) -> dict:
        """`POST /activelearning/{strategy}`: the next image without a final label ({} when every image has one)."""
        if strategy not in STRATEGIES:
            raise DatastoreError(404, f"unknown strategy '{strategy}' (this server has {', '.join(STRATEGIES)})")
        images, labels = self.images(), self.all_labels()
        waiting = [image_id for image_id in images if FINAL_TAG not in labels.get(image_id, {})]
        if not waiting:
            return {}
        image_id = waiting[0] if strategy == "first" else random.choice(waiting)
        return {"id": image_id, "name": os.path.basename(images[image_id]), "path": images[image_id]}
