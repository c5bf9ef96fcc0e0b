"""The retailer's answer, stated against noise: test accuracies with 95 % intervals, paired significance tests of
the models on the same test photos, the study's choices (``results/gear/choice.json``) and its history
(``results/gear/history.json``: what was decided after a test score had been seen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
from pathlib import Path

import numpy as np

from helpers.studies.gear import config

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

#: A paired difference counts as real below this p-value (McNemar's exact test).
SIGNIFICANCE = 0.05
CHOICE_JSON = config.RESULTS_DIR / "choice.json"
HISTORY_JSON = config.RESULTS_DIR / "history.json"


def accuracy_interval(y_true, proba, level: float = 0.95) -> dict:
    """Test accuracy with its Wilson interval (a few hundred photos: the interval is several points wide).
    ``proba``: class probabilities, one row per photo, or the predicted labels."""
    from helpers.evaluation.metrics import proportion_interval

    proba = np.asarray(proba)
    right = (proba.argmax(1) if proba.ndim == 2 else proba) == np.asarray(y_true)
    lo, hi = proportion_interval(int(right.sum()), len(right), level)
    return {"accuracy": float(right.mean()), "low": lo, "high": hi, "photos": len(right)}


def paired_tests(y_true, predictions: dict, against: str) -> "pd.DataFrame":
    """Each model of ``predictions`` (``{name: predicted labels}``) against ``against`` on the same photos:
    photos only one of the two gets right, McNemar's exact p-value, and the verdict at :data:`SIGNIFICANCE`."""
    import pandas as pd

    from helpers.studies.binary import mcnemar

    rows = {}
    for name, pred in predictions.items():
        if name == against:
            continue
        t = mcnemar(np.asarray(y_true), pred, predictions[against])
        better = t["only A right"] > t["only B right"]
        rows[name] = {"only this one right": t["only A right"], f"only {against} right": t["only B right"],
                      "p-value": t["p-value"],
                      "verdict": ("better" if better else "worse") if t["p-value"] < SIGNIFICANCE else "within noise"}
    return pd.DataFrame(rows).T


def save_choice(**choice) -> Path:
    """Write the notebook's choices (model names by role) for the reports; same content, same bytes."""
    CHOICE_JSON.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(choice, indent=1, sort_keys=True) + "\n"
    if not CHOICE_JSON.is_file() or CHOICE_JSON.read_text() != text:
        CHOICE_JSON.write_text(text)
    return CHOICE_JSON


def load_choice() -> dict:
    return json.loads(CHOICE_JSON.read_text()) if CHOICE_JSON.is_file() else {}


def load_history() -> list[dict]:
    """The study's earlier runs whose test scores were seen before a decision (each with its source commit)."""
    return json.loads(HISTORY_JSON.read_text())["runs"] if HISTORY_JSON.is_file() else []
