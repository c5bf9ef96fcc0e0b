"""Reproducibility: seeds, deterministic ops, and TensorFlow logs kept off stderr.

Call :func:`quiet_tensorflow` *before* TensorFlow is imported (the notebooks' first cell does);
:func:`set_seeds` before building and training a model.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sys
import warnings

DEFAULT_SEED = 42


@contextlib.contextmanager
def fd_silenced(fd: int = 2):
    """Send file descriptor ``fd`` (2: stderr, 1: stdout) to /dev/null: C++ libraries write there directly, below
    Python."""
    stream = sys.stderr if fd == 2 else sys.stdout
    try:
        saved = os.dup(fd)
    except OSError:  # no real descriptor (some embedded interpreters)
        yield
        return
    stream.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    try:
        yield
    finally:
        stream.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's log lines (they would break strict nbval, which compares stderr).

    ``TF_CPP_MIN_LOG_LEVEL`` stops most C++ logging, but TensorFlow 2.21 still writes an absl
    banner and a oneDNN notice straight to file descriptor 2 while it loads; so TensorFlow is
    imported here, once, with that descriptor silenced. Does nothing if the backend is not TensorFlow.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="keras.src.trainers.data_adapters")
    if os.environ["KERAS_BACKEND"] == "tensorflow" and "tensorflow" not in sys.modules:
        with fd_silenced(2):
            try:
                import tensorflow as tf
                tf.constant(1.0) + 1.0  # first op: loads the remaining kernels (and their notices)
            except ImportError:
                pass


def set_seeds(seed: int = DEFAULT_SEED, deterministic_ops: bool = True) -> None:
    """Seed Python, NumPy and the Keras backend; make TensorFlow ops deterministic."""
    import keras
    import numpy as np

    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)
    if deterministic_ops and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        try:
            tf.config.experimental.enable_op_determinism()
        except Exception:  # pragma: no cover - very old TF
            pass
