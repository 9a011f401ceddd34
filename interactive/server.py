"""`python -m interactive.server` is now `python -m inference.server`, which serves every installed model set over
MONAI Label's protocol (this click-guided set among them): the same flags as that module; an older `--model NAME`
is `--models NAME`.
Docs: docs/slicer.md
"""
from inference.server.__main__ import console

if __name__ == "__main__":
    console()
