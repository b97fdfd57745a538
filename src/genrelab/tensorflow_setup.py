"""Importing TensorFlow without its C++ start-up lines on the terminal.

``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's own logging, but TF 2.21 still writes an absl
notice ("oneDNN custom operations are on ...") straight to file descriptor 2 while it loads. The
import below sends that descriptor to /dev/null for its duration only; Python errors raised by the
import still reach the user, after the descriptor is restored. A user's own setting of
``TF_CPP_MIN_LOG_LEVEL`` wins.
"""

from __future__ import annotations

import os
import sys


def import_tensorflow():
    """``import tensorflow`` (and Keras), quietly; returns the tensorflow module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules or os.environ["TF_CPP_MIN_LOG_LEVEL"] != "3":
        import tensorflow

        return tensorflow
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401 - loads TensorFlow, the backend
            import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tensorflow
