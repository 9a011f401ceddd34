"""Shared preprocessing: image I/O with geometry, resampling, intensity, augmentation, data pipelines.

Conventions used throughout the package:
- NumPy arrays and tensors are in array axis order: (z, y, x) for volumes, (y, x) for 2D images,
  channels last where there are channels.
- `ImageGeometry` keeps ITK's order (x, y, z) for size, spacing (mm), origin (mm) and direction,
  exactly as SimpleITK reports them.
"""
