"""The training recipe's parts: label-smoothed cross-entropy, per-epoch learning-rate schedules, and the
precision policy (mixed bfloat16) a model is built under."""

from __future__ import annotations

import contextlib

import numpy as np


def smoothed_sparse_crossentropy(label_smoothing: float, n_classes: int):
    """Cross-entropy against one-hot targets mixed with the uniform distribution: ``(1 - s) * onehot + s / C``.

    Keeps the network from pushing its outputs to exactly 0 and 1 (over-confidence); integer labels in.
    """
    import keras
    from keras import ops

    s, c = float(label_smoothing), int(n_classes)
    if not 0.0 <= s < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), not {label_smoothing}")

    def loss(y_true, y_pred):
        onehot = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), c)
        target = onehot * (1.0 - s) + s / c
        return keras.losses.categorical_crossentropy(target, ops.cast(y_pred, "float32"))

    loss.__name__ = f"sparse_categorical_crossentropy_smoothed_{s:g}"
    return loss


def lr_schedule_values(schedule: dict | None, learning_rate: float, epochs: int) -> list | None:
    """Per-epoch learning rates of a named schedule (``None``: constant, or plateau-driven).

    ``{"kind": "cosine", "warmup_epochs": W, "final_fraction": f}``: linear warm-up over ``W`` epochs to
    ``learning_rate``, then cosine decay to ``f * learning_rate`` at the last epoch (one-cycle-like, and
    with a fixed length the last epoch is usually the best one).
    """
    if not schedule:
        return None
    kind = schedule.get("kind")
    if kind != "cosine":
        raise ValueError(f"unknown learning-rate schedule {kind!r}; known: 'cosine'")
    w, f = int(schedule.get("warmup_epochs", 0)), float(schedule.get("final_fraction", 0.0))
    out = []
    for e in range(int(epochs)):
        if e < w:
            out.append(learning_rate * (e + 1) / (w + 1))
        else:
            t = (e - w) / max(1, epochs - w - 1)
            out.append(learning_rate * (f + (1 - f) * 0.5 * (1 + np.cos(np.pi * t))))
    return [round(float(v), 10) for v in out]


@contextlib.contextmanager
def precision_policy(name: str | None):
    """Use a Keras dtype policy (e.g. ``mixed_bfloat16``) inside the block; ``None``: leave it."""
    import keras

    if name is None:
        yield
        return
    old = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(old)
