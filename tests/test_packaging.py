"""The installable package set covers every package of the repository."""
import os
import re

from tests.conftest import REPO


def test_setup_py_installs_every_top_level_package():
    setup = open(os.path.join(REPO, "setup.py")).read()
    patterns = re.search(r"include=\[(.*?)\]", setup).group(1)
    included = {name.strip().strip('"').rstrip("*") for name in patterns.split(",")}
    packages = {name for name in os.listdir(REPO)
                if os.path.isfile(os.path.join(REPO, name, "__init__.py")) and name not in ("tests", "benchmarks")}
    assert packages == included
