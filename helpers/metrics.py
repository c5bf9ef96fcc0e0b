"""The metrics every saved model is scored with, computed in NumPy from predicted probabilities,
so that training notebooks and ``helpers.evaluate`` agree exactly."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score


def as_class_probabilities(proba) -> np.ndarray:
    """``(N, C)`` probabilities; a single sigmoid column becomes ``[1 - p, p]``."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.concatenate([1.0 - p, p], axis=1)
    return p


def classification_metrics(y_true, proba, digits: int = 6) -> dict:
    """accuracy, cross-entropy loss and macro F1, rounded to ``digits``."""
    y = np.asarray(y_true).astype(np.int64).ravel()
    p = as_class_probabilities(proba)
    pred = p.argmax(axis=1)
    eps = 1e-7
    loss = float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], eps, 1.0))))
    return {
        "accuracy": round(float(np.mean(pred == y)), digits),
        "loss": round(loss, digits),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), digits),
        "n": int(len(y)),
    }
