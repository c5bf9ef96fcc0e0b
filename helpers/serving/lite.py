"""A saved photo model converted to TensorFlow Lite (XNNPACK on the CPU), for serving: the same network, about
three times the Keras throughput at one photo per call on 2 cores (``benchmarks/clothing_speed.py`` measures it).

The converted model takes one framed photo, uint8 ``(1, S, S, 3)`` as the task prepares it, and returns the
pooled features and the logits (float32), so that the calibrated probabilities (the record's temperature) and the
rejection rule's scores are computed exactly as for the Keras model (:mod:`helpers.evaluation.out_of_domain`).
The ``.tflite`` file is built once per weights file and kept in ``data/cache/tflite/`` (keyed by the weights'
sha256), so a retrained model is never served from an old conversion.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from helpers.core import paths


def cache_path(record: dict) -> Path:
    return paths.data_dir() / "cache" / "tflite" / f"{record['name']}_{record['sha256'][:12]}.tflite"


def convert(model, record: dict) -> Path:
    """The model as ``.tflite`` (pixels -> ``[features, logits]``), built when missing."""
    path = cache_path(record)
    if path.is_file():
        return path
    import keras
    import tensorflow as tf

    from helpers.evaluation import out_of_domain

    features = out_of_domain.feature_model(model)
    w, b = out_of_domain.output_layer(model).get_weights()
    shape = tuple(model.input_shape[1:])
    kernel, bias = tf.constant(w, tf.float32), tf.constant(b, tf.float32)

    @tf.function(input_signature=[tf.TensorSpec((1, *shape), tf.uint8, name="pixels")])
    def serve(pixels):
        f = features(tf.cast(pixels, tf.float32), training=False)
        return {"features": f, "logits": tf.matmul(f, kernel) + bias}

    converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], features)
    blob = converter.convert()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write(blob)
    os.replace(f.name, path)
    del keras
    return path


class LiteModel:
    """A ``.tflite`` photo model: :meth:`outputs` gives ``(logits, features)`` of prepared photos, one per call."""

    def __init__(self, path, threads: int | None = None):
        import tensorflow as tf

        self.interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=threads or min(2, os.cpu_count() or 1))
        self.runner = self.interpreter.get_signature_runner()

    def outputs(self, x) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.uint8)
        logits, feats = [], []
        for i in range(len(x)):
            out = self.runner(pixels=x[i:i + 1])
            logits.append(out["logits"][0].astype(np.float64))
            feats.append(out["features"][0].astype(np.float64))
        return np.stack(logits), np.stack(feats)
