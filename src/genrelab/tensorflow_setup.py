"""Importing TensorFlow quietly, pinned to the same kernels on every x86-64 CPU.

``TF_CPP_MIN_LOG_LEVEL=3`` silences TensorFlow's own logging, but TF 2.21 still writes an absl
notice ("oneDNN custom operations are on ...") straight to file descriptor 2 while it loads. The
import below sends that descriptor to /dev/null for its duration only; Python errors raised by the
import still reach the user, after the descriptor is restored.

The CPU pins (:data:`CPU_PINS`, the Makefile's comment says why each): TensorFlow's kernels are
picked by the CPU's instruction set and split by its core count, and they round differently, which
moved the CNN scores between two machines. oneDNN's kernels run capped at AVX2 (what every AVX2
CPU runs; TensorFlow's own Eigen kernels are as stable and 1.4-3x slower); a fixed intra-op thread
count fixes how a product is split; op determinism fixes the order of the remaining parallel
reductions. A user's own setting of each variable wins; the Makefile and dvc.yaml set the
same values, beside the NumPy and OpenBLAS pins that must precede NumPy's import. Keras 3 puts no
XLA on a CPU-only machine or under op determinism (``jit_compile="auto"``), so XLA's per-CPU code
generation needs no pin (``benchmarks/bench_cpu_determinism.py`` checks it).
"""

from __future__ import annotations

import os
import sys

# Read when TensorFlow loads (oneDNN when it first runs): set before the import.
CPU_PINS = {"TF_ENABLE_ONEDNN_OPTS": "1", "ONEDNN_MAX_CPU_ISA": "AVX2", "TF_NUM_INTRAOP_THREADS": "2"}


def import_tensorflow():
    """``import tensorflow`` (and Keras), quietly, deterministic; returns the tensorflow module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for key, value in CPU_PINS.items():
        os.environ.setdefault(key, value)
    tf = _import() if os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" else __import__("tensorflow")
    tf.config.experimental.enable_op_determinism()
    return tf


def _import():
    """``import keras`` and tensorflow with file descriptor 2 on /dev/null (see the module's docstring)."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
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
