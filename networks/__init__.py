"""Keras 3 building blocks shared by the segmentation systems: U-Net, resizing layers, losses, training loop."""
