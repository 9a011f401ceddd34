"""How the DICOM re-encoding of LIDC-IDRI (Fedorov et al., Med. Phys. 2020; the Imaging Data Commons collection)
codes the readers' nine ratings in its SR (TID 1500) qualitative evaluations: a concept name per characteristic,
and a coded value per rating, taken from the conversion's concept and value tables (QIICR lidc2dicom,
`concepts_dict.json`, `values_dict.json`). Ratings without a named term use the generic 'k out of 5' codes
(99LIDCQIICR 001-005)."""
from __future__ import annotations

CHARACTERISTIC_CONCEPTS: dict[str, tuple[str, str, str]] = {
    "subtlety": ("NCIt", "C45992", "Subtlety score"),
    "internalStructure": ("99LIDCQIICR", "200", "Internal structure"),
    "calcification": ("NCIt", "C3672", "Calcification"),
    "sphericity": ("99LIDCQIICR", "400", "Sphericity"),
    "margin": ("NCIt", "C25563", "Margin"),
    "lobulation": ("NCIt", "C62175", "Lobular Pattern"),
    "spiculation": ("NCIt", "C28749", "Spiculation"),
    "texture": ("NCIt", "C41144", "Texture"),
    "malignancy": ("RadLex", "RID36042", "Malignancy"),
}

RATING_CODES: dict[str, tuple[str, ...]] = {
    "subtlety": ("101", "102", "103", "104", "105"),
    "internalStructure": ("C12471", "C25278", "C12472", "C73434"),
    "calcification": ("RID35453", "302", "RID5741", "304", "RID5827", "RID28473"),
    "sphericity": ("RID5811", "002", "RID5800", "004", "RID5799"),
    "margin": ("RID5709", "002", "003", "004", "RID5707"),
    "lobulation": ("601", "002", "003", "004", "605"),
    "spiculation": ("701", "002", "003", "004", "705"),
    "texture": ("RID50153", "002", "RID50152", "004", "RID50151"),
    "malignancy": ("901", "902", "903", "904", "905"),
}

RATING_SCHEMES = {"C": "NCIt", "R": "RadLex"}


def characteristic(scheme: str, value: str) -> str | None:
    """The rating name ('malignancy', ...) of an evaluation's concept name code, None for other concepts."""
    return next((name for name, (s, v, _) in CHARACTERISTIC_CONCEPTS.items() if (s, v) == (scheme, value)), None)


def rating(name: str, value: str) -> int | None:
    """The rating (1-based) a value code stands for under characteristic `name`, None for an unknown code."""
    codes = RATING_CODES[name]
    return codes.index(value) + 1 if value in codes else None


def rating_code(name: str, value: int) -> tuple[str, str]:
    """(scheme, code value) of rating `value` of characteristic `name`."""
    code = RATING_CODES[name][value - 1]
    return RATING_SCHEMES.get(code[0], "99LIDCQIICR"), code
