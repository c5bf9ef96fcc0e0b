"""A saved model, loaded and asked: rebuild it from its record, load its verified weights, predict.

``load(name)`` gives ``(model, record)`` for ``weights/<name>``; :func:`predict_proba` gives class probabilities in
full float32 precision, so that a score computed here matches the one recorded when the model was trained (the
trainer scores with the same function). The serving layer and ``helpers.evaluate`` load models through this module;
``helpers.training.trainer`` trains them.
"""

from __future__ import annotations

import contextlib

import numpy as np

from helpers.inputs import tasks
from helpers.models import architectures, weights_store


def build_model(task_name: str, architecture: str, hparams: dict, input_shape=None, **build_kwargs):
    """An architecture for a task; ``input_shape`` overrides the task's (image-folder tasks)."""
    task = tasks.get(task_name)
    return architectures.build(architecture, input_shape or task.input_shape, task.n_outputs, task.output_activation,
                               **hparams, **build_kwargs)


def build_from_record(record: dict):
    return build_model(record["task"], record["architecture"], record.get("hparams", {}),
                       input_shape=record.get("input_shape"))


def predict_proba(model, x, batch_size: int = 512) -> np.ndarray:
    """Class probabilities in full float32 precision on every backend (scores must match across machines)."""
    with exact_precision():
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)


@contextlib.contextmanager
def exact_precision():
    """Full float32 matrix products inside the block. On a GPU, JAX trains with TensorFloat-32 (a 10-bit
    mantissa) by default, which is fast but shifts outputs enough to move a recorded score; predictions
    that are recorded are therefore made in float32, as on a CPU. Elsewhere a no-op."""
    import keras

    if keras.backend.backend() != "jax":
        yield
        return
    import jax

    with jax.default_matmul_precision("float32"):
        yield


def load(name: str):
    """Rebuild a saved model from its record and load its verified weights: ``(model, record)``."""
    record = weights_store.load_record(name)
    model = build_from_record(record)
    weights_store.load_weights(model, name)
    return model, record


def temperature_of(record: dict) -> float:
    """The record's fitted temperature (1.0 when the model was never calibrated; see
    :mod:`helpers.training.calibration`, which fits and stores it)."""
    return float(record.get("calibration", {}).get("temperature", 1.0))


def check_members(record: dict) -> list[str]:
    """Problems with a saved ensemble's members (missing, or retrained since the ensemble was made)."""
    out = []
    for m in record.get("members", []):
        if not weights_store.exists(m["name"]):
            out.append(f"member {m['name']} is not saved")
        elif weights_store.load_record(m["name"])["sha256"] != m["sha256"]:
            out.append(f"member {m['name']} was retrained after the ensemble was made")
    return out


def average_probabilities(probas) -> np.ndarray:
    """The ensemble's output from its members' probabilities ``[(N, C), ...]``."""
    return np.mean(np.stack([np.asarray(p, dtype=np.float64) for p in probas]), axis=0)
