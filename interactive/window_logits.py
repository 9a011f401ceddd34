"""What the sliding window blends: the network's logits per window, as MONAI's SlidingWindowInferer blends the
network's outputs before the softmax / argmax post-transforms."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf


def window_logits(network) -> Callable[[np.ndarray], np.ndarray]:
    """A window batch [n, z, y, x, channels + 2] -> logits [n, z, y, x, 2] function of the `serving_default`
    signature of an interactive set. Sets exported before it had a `logits` output give log-probabilities: they
    differ from the logits by one value per voxel shared by both classes, so their blend has the same argmax and the
    same lesion-minus-background margin."""
    if "logits" in network.structured_outputs:
        return lambda batch: network(image=tf.constant(batch))["logits"].numpy()
    tiny = np.finfo(np.float32).tiny
    return lambda batch: np.log(np.maximum(network(image=tf.constant(batch))["probabilities"].numpy(), tiny))
