"""How an inference result goes back: the label image written in the format and integer type the request's params
ask for (`result_extension`, `result_dtype`, as the Slicer module sends them), and MONAI Label's reply shapes
(`output=image`: the file; `json`: the params; `all` or none: multipart/form-data of `params` and the file)."""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from inference.server.datastore import DatastoreError
from inference.server.models import Inference
from preprocessing.image_io import write_image

RESULT_EXTENSIONS = (".nii.gz", ".nrrd", ".nii")
RESULT_DTYPES = {"uint8": np.uint8, "uint16": np.uint16}
OUTPUTS = ("image", "json", "all")


def result_format(params: dict) -> tuple[str, type]:
    """(file suffix, NumPy integer type) a request asks for (defaults: '.nii.gz', uint8); DatastoreError 422 for
    others."""
    extension = params.get("result_extension") or RESULT_EXTENSIONS[0]
    dtype = params.get("result_dtype") or "uint8"
    if not isinstance(extension, str) or extension not in RESULT_EXTENSIONS:
        raise DatastoreError(422, f"result_extension must be one of {', '.join(RESULT_EXTENSIONS)} (got {extension!r})")
    if not isinstance(dtype, str) or dtype not in RESULT_DTYPES:
        raise DatastoreError(422, f"result_dtype must be one of {', '.join(RESULT_DTYPES)} (got {dtype!r})")
    return extension, RESULT_DTYPES[dtype]


def label_file_bytes(result: Inference, extension: str, dtype: type) -> bytes:
    """The label image of `result` as the bytes of a `extension` file of integer type `dtype`, on the image's grid
    (size, spacing, origin, direction)."""
    with tempfile.TemporaryDirectory(prefix="medseg-result-") as folder:
        path = os.path.join(folder, "label" + extension)
        write_image(result.labels.astype(dtype), result.geometry, path)
        with open(path, "rb") as handle:
            return handle.read()


def multipart(params: dict, file_name: str, data: bytes) -> tuple[bytes, str]:
    """(body, content type) of MONAI Label's multipart reply: a `params` JSON part and an `image` file part."""
    boundary = "medseg-" + os.urandom(12).hex()
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"params\"\r\n"
            f"Content-Type: application/json\r\n\r\n{json.dumps(params)}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{file_name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"
