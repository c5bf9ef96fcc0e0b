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


#: Every score :func:`class_scores` can give.
SCORES = ("accuracy", "macro_f1", "balanced_accuracy", "macro_precision", "macro_recall", "precision", "recall")


def class_scores(y_true, proba, class_names, fields=SCORES, digits: int = 4) -> dict:
    """Scores of predicted probabilities for a study with named classes, rounded to ``digits``.

    ``fields``: any of :data:`SCORES` — ``accuracy``, ``macro_f1``, ``balanced_accuracy`` (for unbalanced
    classes), ``macro_precision`` and ``macro_recall``, and per class ``precision`` and ``recall``
    (``{class: value}``). Every class of ``class_names`` counts, also one absent from a small split (score 0).
    """
    from sklearn.metrics import balanced_accuracy_score, precision_recall_fscore_support

    unknown = set(fields) - set(SCORES)
    if unknown:
        raise ValueError(f"unknown scores {sorted(unknown)}; known: {', '.join(SCORES)}")
    y = np.asarray(y_true)
    pred = np.asarray(proba).argmax(axis=1)
    p, r, f, _ = precision_recall_fscore_support(y, pred, labels=range(len(class_names)), zero_division=0)
    every = {"accuracy": float(np.mean(pred == y)), "macro_f1": float(f1_score(
                 y, pred, labels=list(range(len(class_names))), average="macro", zero_division=0)),
             "balanced_accuracy": float(balanced_accuracy_score(y, pred)) if "balanced_accuracy" in fields else None,
             "macro_precision": float(p.mean()), "macro_recall": float(r.mean()),
             "precision": {c: round(float(v), digits) for c, v in zip(class_names, p)},
             "recall": {c: round(float(v), digits) for c, v in zip(class_names, r)}}
    return {k: every[k] if isinstance(every[k], dict) else round(every[k], digits) for k in fields}


def proportion_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson interval of a proportion ``successes / n`` (``(nan, nan)`` when ``n`` is 0): honest for small
    samples and for shares near 0 or 1, where the normal approximation breaks down."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(int(successes), int(n), alpha=1 - level, method="wilson")
    return float(lo), float(hi)


def share_interval(successes: int, n: int, digits: int = 4) -> dict:
    """``{"count", "of", "share", "low", "high"}``: a proportion and its 95 % Wilson interval
    (:func:`proportion_interval`), rounded to ``digits``; share and bounds are ``None`` when ``n`` is 0."""
    if not n:
        return {"count": int(successes), "of": 0, "share": None, "low": None, "high": None}
    lo, hi = proportion_interval(successes, n)
    return {"count": int(successes), "of": int(n), "share": round(successes / n, digits), "low": round(lo, digits),
            "high": round(hi, digits)}
