"""Clinical radiograph files read into the X-ray networks' grey-value convention (0..255, dense tissue bright):
DICOM CR / DX in both photometric interpretations with a window, a VOI LUT or neither, 10-16 stored bits; 16-bit
PNG; JPEG; pixel spacing from the DICOM tags."""
import os

import cv2
import numpy as np
import pydicom
import pytest

from preprocessing.image_io import ImageReadError
from preprocessing.synthetic.montgomery import MontgomeryPhantomConfig, phantom
from preprocessing.synthetic.xray_dicom import write_xray_dicom
from preprocessing.xray_io import read_xray


@pytest.fixture(scope="module")
def film() -> np.ndarray:
    image, _, _ = phantom(np.random.default_rng(4), MontgomeryPhantomConfig(long_side=(160, 160)))
    return image


def displayed(film: np.ndarray) -> np.ndarray:
    return (film - film.min()) * (255.0 / (film.max() - film.min()))


@pytest.mark.parametrize("modality", ["CR", "DX"])
@pytest.mark.parametrize("photometric", ["MONOCHROME1", "MONOCHROME2"])
@pytest.mark.parametrize("voi", ["window", "lut", "none"])
@pytest.mark.parametrize("bits", [10, 14, 16])
def test_dicom_radiographs_read_as_the_film_is_viewed(film, tmp_path, modality, photometric, voi, bits):
    path = str(tmp_path / "film.dcm")
    write_xray_dicom(path, film, "42", modality, photometric, bits, voi, spacing_mm=0.143)
    image, geometry = read_xray(path)
    assert image.dtype == np.float32 and image.shape == film.shape
    tolerance = 6.0 if voi == "lut" and bits == 10 else 1.0  # a VOI LUT over 1024 stored levels quantises the curve
    assert np.abs(image - displayed(film)).max() < tolerance, "inverted for MONOCHROME1, VOI curve applied"
    assert geometry.spacing == (0.143, 0.143) and geometry.size == film.shape[::-1]


def test_without_pixel_spacing_the_imager_pixel_spacing_is_used(film, tmp_path):
    path = str(tmp_path / "film.dcm")
    write_xray_dicom(path, film, "43", "CR", spacing_mm=0.2)
    dataset = pydicom.dcmread(path)
    del dataset.PixelSpacing
    dataset.ImagerPixelSpacing = ["0.15", "0.175"]
    dataset.save_as(path)
    assert read_xray(path)[1].spacing == (0.175, 0.15), "row\\column in the tag, (x, y) in the geometry"


def test_16_bit_png_is_scaled_by_the_bits_its_values_use_and_jpeg_is_read(film, tmp_path):
    twelve_bit = film.astype(np.uint16) * 16
    cv2.imwrite(str(tmp_path / "film16.png"), twelve_bit)
    image, _ = read_xray(str(tmp_path / "film16.png"))
    assert np.allclose(image, twelve_bit * (255.0 / 4095.0), atol=1e-3)
    cv2.imwrite(str(tmp_path / "film.jpg"), film, [cv2.IMWRITE_JPEG_QUALITY, 95])
    jpeg, _ = read_xray(str(tmp_path / "film.jpg"))
    assert np.abs(jpeg - film).mean() < 3.0


def test_damaged_dicom_is_one_line(film, tmp_path):
    path = tmp_path / "film.dcm"
    write_xray_dicom(str(path), film, "44")
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(ImageReadError, match=r"film.dcm: DICOM image cannot be read: ") as error:
        read_xray(str(path))
    assert "\n" not in str(error.value)
    os.remove(path)
    with pytest.raises(ImageReadError, match="file not found"):
        read_xray(str(path))
