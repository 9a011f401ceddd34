"""The inference runtime: the single entrypoint (`python -m inference`), model-set discovery, the pipeline
registry, the batch runner, case inputs and result writers, and the shared mechanics (sliding window,
connected components, the traced geometry module). Systems plug in through `inference.registry`."""
