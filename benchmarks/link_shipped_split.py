"""Links the phantoms the shipped interactive sets trained on into a folder for the benchmark scripts' arms: the
training cases of TRAIN by `make demo-models`' split (the shipped set's split seed, with `train_fraction`; the sets
shipped since 2026-12-07 record 1.0, having trained on these cases linked), then every case of each EXTRA folder.
Links that exist are kept, so a rerun on the same folder changes nothing.

Usage: python benchmarks/link_shipped_split.py TRAIN SHIPPED_SET TRAIN_FRACTION DEST [EXTRA ...]
"""
from __future__ import annotations

import dataclasses
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import preprocessing.quiet_startup  # noqa: E402, F401 - first: hides TensorFlow's C++ start-up lines

from interactive.model_set import interactive_member  # noqa: E402
from interactive.training import split_cases  # noqa: E402
from preprocessing.cases import autopet_cases  # noqa: E402


def link_cases(source: str, cases: list[str], destination: str) -> None:
    """Symbolic links in destination/imagesTr and destination/labelsTr to every file of `cases` in `source`."""
    for sub in ("imagesTr", "labelsTr"):
        os.makedirs(os.path.join(destination, sub), exist_ok=True)
        for case in cases:
            for path in glob.glob(os.path.join(source, sub, case + "*.nii.gz")):
                link = os.path.join(destination, sub, os.path.basename(path))
                if not os.path.lexists(link):
                    os.symlink(os.path.abspath(path), link)


def main(train: str, shipped: str, train_fraction: str, destination: str, *extra: str) -> None:
    config = dataclasses.replace(interactive_member(shipped)[1], train_fraction=float(train_fraction))
    link_cases(train, [case.case_id for case in split_cases(autopet_cases(train, 1), config)[0]], destination)
    for folder in extra:
        link_cases(folder, [os.path.basename(p)[:-7] for p in glob.glob(os.path.join(folder, "labelsTr", "*.nii.gz"))],
                   destination)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(*sys.argv[1:])
