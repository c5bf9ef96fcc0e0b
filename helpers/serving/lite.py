"""A saved photo model converted to TensorFlow Lite (XNNPACK on the CPU), for serving: the same network, run one
photo per call by TensorFlow Lite's CPU kernels (``benchmarks/clothing_speed.py`` measures both runtimes and their
agreement). :class:`LiteModel` is one interpreter (its threads share each photo); :class:`LitePool` is several
single-thread interpreters side by side (two by default), each taking whole photos, decoding included.

The converted model takes one framed photo, ``(1, S, S, 3)`` pixels as the task prepares them, and returns its
pooled features; the logits are the saved model's output layer applied to them, so that the calibrated
probabilities (the record's temperature) and the rejection rule's scores are computed exactly as for the Keras model (:mod:`helpers.evaluation.out_of_domain`).
The ``.tflite`` file is built once per weights file and kept in ``data/cache/tflite/`` (keyed by the weights'
sha256), so a retrained model is never served from an old conversion.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from helpers.core import paths


def cache_path(record: dict) -> Path:
    return paths.data_dir() / "cache" / "tflite" / f"{record['name']}_{record['sha256'][:12]}.tflite"


@contextlib.contextmanager
def _output_silenced():
    """Descriptors 1 and 2, Python's streams, warnings and TensorFlow's logger quiet for the block."""
    import io
    import logging

    from helpers.core.repro import fd_silenced

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with fd_silenced(1), fd_silenced(2), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def convert(model, record: dict) -> Path:
    """The model's feature part as ``.tflite`` (float32 pixels -> pooled features), built when missing: exported as
    a SavedModel by Keras first, so that its weights are frozen into the file."""
    path = cache_path(record)
    if path.is_file():
        return path
    import tensorflow as tf

    from helpers.evaluation import out_of_domain

    # the export and the converter log to both descriptors (below Python): nothing of it belongs in a notebook
    with tempfile.TemporaryDirectory() as tmp, _output_silenced():
        out_of_domain.feature_model(model).export(f"{tmp}/saved_model", format="tf_saved_model", verbose=False)
        blob = tf.lite.TFLiteConverter.from_saved_model(f"{tmp}/saved_model").convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write(blob)
    os.replace(f.name, path)
    return path


class LiteModel:
    """A ``.tflite`` photo model: :meth:`outputs` gives ``(logits, features)`` of prepared photos, one photo per
    call; the logits come from the saved model's own output layer (``kernel``, ``bias``), as in the offers
    pipeline."""

    def __init__(self, path, kernel, bias, threads: int | None = None):
        """``path``: the ``.tflite`` file, or its bytes."""
        import tensorflow as tf

        from helpers.core.repro import fd_silenced

        source = {"model_content": bytes(path)} if isinstance(path, (bytes, bytearray)) else {"model_path": str(path)}
        # TensorFlow 2.21 warns that tf.lite moves to the ai_edge_litert package (the same runtime; not pinned
        # here yet), and XNNPACK prints one INFO line on descriptor 2: neither belongs in a notebook's output
        with warnings.catch_warnings(), fd_silenced(2):
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated", category=UserWarning)
            self.interpreter = tf.lite.Interpreter(**source, num_threads=threads or min(2, os.cpu_count() or 1))
            self.runner = self.interpreter.get_signature_runner()
            self.runner(**{self.interpreter.get_signature_list()["serving_default"]["inputs"][0]: np.zeros(
                self.interpreter.get_input_details()[0]["shape"], np.float32)})
        self.input_name = self.interpreter.get_signature_list()["serving_default"]["inputs"][0]
        self.kernel, self.bias = np.asarray(kernel, np.float64), np.asarray(bias, np.float64)

    @classmethod
    def of(cls, model, record: dict, threads: int | None = None) -> "LiteModel":
        """The converted ``model`` (saved as ``record`` says), converted when needed."""
        from helpers.evaluation import out_of_domain

        kernel, bias = out_of_domain.output_layer(model).get_weights()
        return cls(convert(model, record), kernel, bias, threads)

    def outputs(self, x) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float32)
        feats = np.stack([next(iter(self.runner(**{self.input_name: x[i:i + 1]}).values()))[0]
                          for i in range(len(x))]).astype(np.float64)
        return feats @ self.kernel + self.bias, feats


class LitePool:
    """``workers`` single-thread interpreters of one ``.tflite`` file, each in its own thread (TensorFlow Lite lets
    go of Python's lock while it runs), so that no interpreter waits for another thread at every layer. On this
    project's 2-core machine the pair runs the model alone faster than one two-thread interpreter, but end to end,
    with each worker also decoding its photo, it was slower (``benchmarks/results/clothing_speed.json``): measure
    before serving with it. :meth:`outputs_of` maps items to ``(logits, features)`` in order; all items are
    submitted at once, so pass chunks, not an endless stream."""

    def __init__(self, path, kernel, bias, workers: int | None = None):
        import threading
        from concurrent.futures import ThreadPoolExecutor

        self.path, self.kernel, self.bias = path, kernel, bias
        self.workers = int(workers or min(2, os.cpu_count() or 1))
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="tflite")

    @classmethod
    def of(cls, model, record: dict, workers: int | None = None) -> "LitePool":
        from helpers.evaluation import out_of_domain

        kernel, bias = out_of_domain.output_layer(model).get_weights()
        return cls(convert(model, record), kernel, bias, workers)

    def _interpreter(self) -> LiteModel:
        if not hasattr(self._local, "model"):
            self._local.model = LiteModel(self.path, self.kernel, self.bias, threads=1)
        return self._local.model

    def _one(self, item, prepare):
        x = prepare(item) if prepare is not None else item
        logits, feats = self._interpreter().outputs(np.asarray(x)[None])
        return logits[0], feats[0]

    def outputs_of(self, items, prepare=None):
        """``(logits, features)`` of each item, in order, as an iterator (``prepare``: item -> framed photo, run in
        the worker that then runs the model; None: the items are framed photos)."""
        return self._pool.map(lambda item: self._one(item, prepare), items)

    def outputs(self, x) -> tuple[np.ndarray, np.ndarray]:
        """``(logits, features)`` of framed photos ``x``, as :meth:`LiteModel.outputs` gives them."""
        rows = list(self.outputs_of(list(np.asarray(x, dtype=np.float32))))
        return np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows])

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
