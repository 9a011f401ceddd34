"""The X-ray data loader's layouts (Montgomery, Shenzhen, image + mask folders) read as released, one-line errors
for a missing or mismatched mask, and the same film giving the same labels in every layout."""
import os

import cv2
import numpy as np
import pytest

from preprocessing.image_io import ImageReadError
from preprocessing.synthetic import montgomery
from preprocessing.xray_cases import read_xray_case, xray_cases

CONFIG = montgomery.MontgomeryPhantomConfig(long_side=(90, 120))


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> dict[str, str]:
    folders = {}
    for layout in montgomery.XRAY_LAYOUTS:
        folders[layout] = str(tmp_path_factory.mktemp(layout))
        montgomery.write_dataset(folders[layout], 5, seed=3, config=CONFIG, progress=False, layout=layout)
    return folders


def test_each_layout_lists_its_films(layouts):
    assert [c.case_id for c in xray_cases(layouts["montgomery"], "montgomery")][0].startswith("MCUCXR_0000_")
    shenzhen = xray_cases(layouts["shenzhen"], "shenzhen")
    assert len(shenzhen) == 4, "the film without a released mask is skipped"
    assert all(c.label_paths[0].endswith(f"{c.case_id}_mask.png") for c in shenzhen)
    assert len(xray_cases(layouts["paired"], "paired")) == 5
    assert [c.case_id for c in xray_cases(layouts["paired"], "paired", r"CHNCXR_000[12]_.")] == \
        [c.case_id for c in xray_cases(layouts["paired"], "paired")][:2]


def test_the_same_film_has_the_same_labels_in_every_layout(layouts):
    results = [read_xray_case(xray_cases(layouts[layout], layout)[0], separate_labels=True)
               for layout in montgomery.XRAY_LAYOUTS]
    for image, labels in results[1:]:
        assert np.array_equal(image, results[0][0]) and np.array_equal(labels, results[0][1])
    image, labels = results[0]
    assert image.dtype == np.float32 and set(np.unique(labels)) == {0, 1, 2}
    assert np.nonzero(labels == 1)[1].mean() < np.nonzero(labels == 2)[1].mean(), "right lung on the image left"


def test_missing_and_mismatched_masks_are_one_line_errors(layouts, tmp_path):
    folder = tmp_path / "paired"
    montgomery.write_dataset(str(folder), 2, seed=3, config=CONFIG, progress=False, layout="paired")
    mask = folder / "masks" / sorted(os.listdir(folder / "masks"))[0]
    mask.rename(folder / "masks" / "stray.png")
    with pytest.raises(FileNotFoundError, match=r"mask missing for image .*CHNCXR_0001"):
        xray_cases(str(folder), "paired")
    (folder / "masks" / "stray.png").rename(mask)
    (folder / "masks" / "extra.png").write_bytes(mask.read_bytes())
    with pytest.raises(FileNotFoundError, match=r"extra.png: no image extra"):
        xray_cases(str(folder), "paired")
    os.remove(folder / "masks" / "extra.png")
    cv2.imwrite(str(mask), np.zeros((10, 12), np.uint8))
    with pytest.raises(ImageReadError, match=r"CHNCXR_0001_\d.png: mask is 12x10 pixels, its image .* \d+x\d+$"):
        read_xray_case(xray_cases(str(folder), "paired")[0], separate_labels=False)
    montgomery_folder = tmp_path / "montgomery"
    montgomery.write_dataset(str(montgomery_folder), 2, seed=3, config=CONFIG, progress=False)
    name = sorted(os.listdir(montgomery_folder / "CXR_png"))[-1]
    os.remove(montgomery_folder / "ManualMask" / "rightMask" / name)
    with pytest.raises(FileNotFoundError, match=f"rightMask/{name}: lung mask missing for image"):
        xray_cases(str(montgomery_folder), "montgomery")
    os.makedirs(tmp_path / "shenzhen" / "CXR_png")
    with pytest.raises(FileNotFoundError, match="no Shenzhen mask folder"):
        xray_cases(str(tmp_path / "shenzhen"), "shenzhen")
