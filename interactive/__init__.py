"""Click-guided interactive 3D segmentation of PET lesions with sliding-window inference (SW-FastEdit, Hadlich,
Marinov et al. 2023) on the AutoPET layout: guidance maps from clicks, click simulation, the exact Euclidean
distance transform in TensorFlow, and the configuration with the original's defaults."""
