"""Coarse-to-Fine Context Memory 2D segmentation (Milletari et al., MICCAI 2018)."""
