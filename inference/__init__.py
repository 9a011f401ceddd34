"""Inference: the single entrypoint (`python -m inference`), traced tf_utils_module, sliding window,
post-processing and evaluation metrics."""
