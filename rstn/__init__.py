"""RSTN: coarse-to-fine three-plane organ segmentation (Yu, Xie et al., CVPR 2018; OrganSegRSTN)."""
