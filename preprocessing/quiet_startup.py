"""Imported first by every command-line script: hides TensorFlow's C++ start-up lines (oneDNN notice, CUDA
probing, "All log messages before absl::InitializeLog()") unless `--verbose` is given or the user has set
TF_CPP_MIN_LOG_LEVEL. Those lines are printed while TensorFlow's libraries load, before any log level applies,
so TensorFlow is imported here with the standard error stream briefly sent to /dev/null; later C++ logging is
limited to fatal messages (TF_CPP_MIN_LOG_LEVEL=3) and TensorFlow's and absl's Python loggers to warnings (no INFO
lines from the SavedModel and checkpoint writers). Python errors, including a failing import, still show.
"""
import os
import sys

from absl import flags
from absl import logging as absl_logging

flags.DEFINE_bool("verbose", False, "Show TensorFlow's C++ start-up and log lines.")

if "--verbose" not in sys.argv and "TF_CPP_MIN_LOG_LEVEL" not in os.environ and "tensorflow" not in sys.modules:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    _saved, _null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(_null, 2)
    try:
        import tensorflow
    finally:
        os.dup2(_saved, 2)
        os.close(_saved)
        os.close(_null)
    tensorflow.get_logger().setLevel("WARNING")
    absl_logging.set_verbosity(absl_logging.WARNING)
