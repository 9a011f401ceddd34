"""SpatialConfiguration-Net for multi-organ segmentation (Payer et al.; Thaler et al., FLARE21 EfficientSCN)."""
