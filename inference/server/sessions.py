"""Upload sessions (`PUT /session/`, MONAI Label's way for a client to send a volume it opened locally): the files
are kept in a private temporary folder under a random id until the session has been idle for its expiry.

File names a client sends are reduced to their base name and checked (`datastore.checked_id` on the stem and a
readable image suffix, or a DICOM slice); the session's image is the one file, or the folder when several files
(a DICOM series) were sent.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
import threading
import time
import uuid

from inference.server.datastore import DatastoreError, checked_id, image_suffix


@dataclasses.dataclass
class UploadSession:
    """One session: its id, the folder holding its files, its image (a file, or that folder for a series), its
    expiry in seconds of idleness, and when it was created and last used (Unix time)."""

    session_id: str
    folder: str
    image: str
    expiry: int
    created: float
    last_used: float

    def info(self) -> dict:
        """The session as `GET /session/{id}` answers (MONAI Label's SessionInfo fields)."""
        return {"name": self.session_id, "path": self.folder, "image": self.image,
                "meta": {"files": sorted(os.listdir(self.folder))}, "create_ts": int(self.created),
                "last_access_ts": int(self.last_used), "expiry": self.expiry}


def _upload_name(file_name: str, index: int) -> str:
    """A safe base name for the `index`th uploaded file: its own when usable, else `upload_<index>` with its image
    suffix, or `.dcm` (DICOM slices may come without a suffix)."""
    base = os.path.basename((file_name or "").replace("\\", "/"))
    try:
        suffix = image_suffix(base)
    except DatastoreError:
        return f"slice_{index:05d}.dcm"
    try:
        return checked_id(base[: -len(suffix)], "file name") + suffix
    except DatastoreError:
        return f"upload_{index:05d}{suffix}"


class SessionStore:
    """Sessions by id; each expires `expiry_s` seconds after its last use (checked on every call)."""

    def __init__(self, expiry_s: int = 3600):
        self.expiry_s = expiry_s
        self._sessions: dict[str, UploadSession] = {}
        self._lock = threading.Lock()

    def create(self, uploads: list, expiry_s: int | None = None) -> UploadSession:
        """A session holding `uploads` (objects with `.filename` and `.stream`, e.g. werkzeug's FileStorage)."""
        if not uploads:
            raise DatastoreError(422, "no files: send the volume (or a DICOM series) as multipart field 'files'")
        folder = tempfile.mkdtemp(prefix="medseg-session-")
        names: list[str] = []
        try:
            for index, upload in enumerate(uploads):
                name = _upload_name(upload.filename, index)
                name = name if name not in names else f"{index:05d}_{name}"
                with open(os.path.join(folder, name), "wb") as handle:
                    shutil.copyfileobj(upload.stream, handle)
                names.append(name)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        now = time.time()
        expiry = self.expiry_s if not expiry_s or expiry_s <= 0 else min(int(expiry_s), self.expiry_s)
        session = UploadSession(uuid.uuid4().hex, folder, os.path.join(folder, names[0]) if len(names) == 1
                                else folder, expiry, now, now)
        with self._lock:
            self._expire(now)
            self._sessions[session.session_id] = session
        return session

    def get(self, session_id: str) -> UploadSession:
        """The session `session_id` (its idle time restarts), else DatastoreError 404."""
        now = time.time()
        with self._lock:
            self._expire(now)
            session = self._sessions.get(session_id)
            if session is None:
                raise DatastoreError(404, f"session '{session_id}' not found (it may have expired)")
            session.last_used = now
            return session

    def remove(self, session_id: str) -> dict:
        """Removes session `session_id` and its files; returns its info as it was (DatastoreError 404 when
        unknown)."""
        with self._lock:
            self._expire(time.time())
            session = self._sessions.pop(session_id, None)
        if session is None:
            raise DatastoreError(404, f"session '{session_id}' not found (it may have expired)")
        info = session.info()
        shutil.rmtree(session.folder, ignore_errors=True)
        return info

    def close(self) -> None:
        """Removes every session's files (server shutdown)."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            shutil.rmtree(session.folder, ignore_errors=True)

    def _expire(self, now: float) -> None:
        for session_id in [s for s, v in self._sessions.items() if now - v.last_used > v.expiry]:
            shutil.rmtree(self._sessions.pop(session_id).folder, ignore_errors=True)
