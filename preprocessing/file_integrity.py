"""Is an image file complete and sound? Checks the native readers skip: they fill a truncated gzip stream, raw
voxel data shorter than the header says, or a truncated JPEG with zeros or grey; SimpleITK reads a NIfTI slice
spacing of 0 as 1 mm and NaN voxels as 0. Each function returns the problem as a phrase, or None.

Costs: a .nii.gz is decompressed once, by `gunzip_problem` (ISA-L's igzip, CRC and length verified), into a raw
file that the reader then reads: together about as fast as SimpleITK's own .nii.gz reader, which checks nothing;
the NIfTI check compares the raw voxel data's length with the header and, for float voxels only, streams them once
more in 1 MiB pieces (`preprocessing.image_io` runs it beside the reader); the others read the header or the last
bytes only.
"""
from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np
from isal import igzip, isal_zlib

_CHUNK = 1 << 20
_JPEG_END = b"\xff\xd9"
_PNG_END = b"IEND\xaeB`\x82"
TRUNCATED_GZIP = "compressed data is truncated (the gzip stream ends early)"
FLOAT_DATATYPES = {16: np.float32, 64: np.float64}  # NIfTI datatype codes of float voxels


def spacing_problem(spacing, where: str = "") -> str | None:
    """'voxel spacing a, b, c mm<where> is not positive and finite' when a value (mm) is zero, negative, NaN or
    infinite, else None."""
    values = np.asarray(spacing, np.float64)
    if np.isfinite(values).all() and (values > 0).all():
        return None
    return f"voxel spacing {', '.join(f'{v:g}' for v in values)} mm{where} is not positive and finite"


_GZIP_ERRORS = (gzip.BadGzipFile, zlib.error, isal_zlib.error)


def _opener(path: str):
    return igzip.open if path.lower().endswith(".gz") else open


def _header_fields(header: bytes) -> tuple[str, tuple, int, int, tuple, int] | str:
    """(byte order, dims, datatype, bitpix, pixdim, voxel offset) of a NIfTI-1 / NIfTI-2 header, or the problem."""
    if len(header) < 348:
        return f"not a NIfTI file (too short for a NIfTI header: {len(header)} bytes)"
    for order in "<>":
        size = struct.unpack(order + "i", header[:4])[0]
        if size in (348, 540):
            break
    else:
        return "not a NIfTI file (sizeof_hdr is neither 348 nor 540)"
    if size == 348:
        return (order, struct.unpack(order + "8h", header[40:56]), struct.unpack(order + "h", header[70:72])[0],
                struct.unpack(order + "h", header[72:74])[0], struct.unpack(order + "8f", header[76:108]),
                int(struct.unpack(order + "f", header[108:112])[0]))
    if len(header) < 540:
        return f"not a NIfTI file (too short for a NIfTI-2 header: {len(header)} bytes)"
    return (order, struct.unpack(order + "8q", header[16:80]), struct.unpack(order + "h", header[12:14])[0],
            struct.unpack(order + "h", header[14:16])[0], struct.unpack(order + "8d", header[104:168]),
            struct.unpack(order + "q", header[168:176])[0])


def gunzip_problem(path: str, target: str) -> str | None:
    """Decompresses the gzip file `path` into the file `target` in 1 MiB pieces; the problem of a stream that ends
    early, fails its CRC or length check or is not gzip, else None."""
    try:
        with igzip.open(path, "rb") as stream, open(target, "wb") as output:
            while chunk := stream.read(_CHUNK):
                output.write(chunk)
    except EOFError:
        return TRUNCATED_GZIP
    except _GZIP_ERRORS as error:
        return f"compressed data is corrupt ({error})"
    return None


def _voxel_problem(path: str, offset: int, needed: int, dtype: np.dtype | None) -> str | None:
    """Fewer bytes than `needed` after `offset`, a gzip stream that ends early or fails its CRC, or (float `dtype`)
    NaN / infinite values. A raw file of integer voxels is judged by its size; otherwise the data are streamed."""
    if dtype is None and _opener(path) is open:
        received = os.path.getsize(path) - offset
        return None if received >= needed else \
            f"voxel data is truncated ({received} bytes after the header, it needs {needed})"
    received, carry, bad = 0, b"", 0
    try:
        with _opener(path)(path, "rb") as stream:
            stream.read(offset)
            while chunk := stream.read(_CHUNK):
                if dtype is not None and received < needed:
                    data = carry + chunk[:needed - received]
                    usable = len(data) - len(data) % dtype.itemsize
                    bad += int(np.size(values := np.frombuffer(data[:usable], dtype)) - np.isfinite(values).sum())
                    carry = data[usable:]
                received += len(chunk)
    except EOFError:
        return TRUNCATED_GZIP
    except (*_GZIP_ERRORS, OSError) as error:
        return f"compressed data is corrupt ({error})"
    if received < needed:
        return f"voxel data is truncated ({received} bytes after the header, it needs {needed})"
    if bad:
        return f"{bad} voxel(s) are NaN or infinite"
    return None


def nifti_problem(path: str) -> str | None:
    """The problem of a NIfTI-1 / NIfTI-2 file (.nii, .nii.gz): a spacing (pixdim of a used axis) that is not
    positive and finite; voxel data shorter than the header says, a gzip stream truncated or failing its CRC;
    NaN or infinite float voxels (SimpleITK would read them as 0)."""
    try:
        with _opener(path)(path, "rb") as handle:
            fields = _header_fields(handle.read(540))
    except EOFError:
        return TRUNCATED_GZIP
    except (*_GZIP_ERRORS, OSError) as error:
        return f"compressed data is corrupt ({error})"
    if isinstance(fields, str):
        return fields
    order, dims, datatype, bitpix, pixdim, offset = fields
    rank = min(max(int(dims[0]), 1), 7)
    problem = spacing_problem(pixdim[1:min(rank, 3) + 1], " in the header")
    if problem:
        return problem
    needed = int(np.prod([max(int(d), 1) for d in dims[1:rank + 1]])) * bitpix // 8
    dtype = FLOAT_DATATYPES.get(datatype)
    return _voxel_problem(path, offset, needed, np.dtype(dtype).newbyteorder(order) if dtype else None)


def tail_problem(path: str, suffix: str) -> str | None:
    """The problem of a PNG without its IEND chunk or a JPEG without its end-of-image marker (truncated)."""
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(handle.tell() - 1024, 0))
        tail = handle.read().rstrip(b"\x00")
    end = _PNG_END if suffix == ".png" else _JPEG_END
    if end not in tail[-len(end) - 16:]:
        return f"file is truncated (no {'IEND chunk' if suffix == '.png' else 'end-of-image marker'} at its end)"
    return None


def file_problem(path: str, suffix: str) -> str | None:
    """The first problem the checks above find for an image file with this (lower-case) suffix, or None."""
    if suffix in (".png", ".jpg", ".jpeg"):
        return tail_problem(path, suffix)
    if suffix in (".nii", ".nii.gz"):
        return nifti_problem(path)
    return None
