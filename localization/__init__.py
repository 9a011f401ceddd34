"""Coarse-resolution 3D localization of the region that contains all organs (Thaler et al., FLARE21)."""
