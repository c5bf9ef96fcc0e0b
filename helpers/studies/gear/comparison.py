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


def models_table(models: dict, test_scores: dict, baseline: dict, speeds: dict) -> "pd.DataFrame":
    """One row per model compared for the retailer: ``models`` (``{name: record}``, the own CNN and the transfer
    model, with their ``test_scores``) and the classical baseline (``baseline.json``'s chosen candidate): size,
    training time, inference speed, validation accuracy and the test scores."""
    import pandas as pd

    from helpers.models import weights_store

    def scores(s):
        return {f"test {k.replace('_', ' ')}": v for k, v in s.items() if k != "recall"}

    rows = [{"model": n, "parameters": r["params"], "training time (s)": weights_store.training_seconds(r),
             "inference images/s": speeds.get(n), "val accuracy": r["metrics"]["val"]["accuracy"],
             **scores(test_scores[n])} for n, r in models.items()]
    b = baseline["candidates"][baseline["chosen"]]
    rows.append({"model": f"classical: {baseline['chosen']}", "parameters": None, "training time (s)": b["seconds"],
                 "inference images/s": b["images_per_s"], "val accuracy": b["val"]["accuracy"],
                 **scores(baseline["test"])})
    return pd.DataFrame(rows).set_index("model")


def answer(y_test, predictions: dict, accuracies: dict, own_cnn: str, transfer: str, speed: float) -> tuple[str, "pd.DataFrame"]:
    """The retailer's answer in markdown, and the paired tests it rests on. ``predictions``: ``{name: predicted
    labels on the test photos}`` for ``own_cnn``, ``transfer`` and ``"classical"``; ``accuracies``: their test
    accuracies as the notebook reports them elsewhere (the same figures); ``speed``: the transfer model's
    photos per second. Each accuracy with its 95 % interval, each deep model against the classical one by McNemar's
    test; the wording follows the verdicts."""
    paired = paired_tests(y_test, predictions, "classical")
    verdict = paired["verdict"].to_dict()
    ci = {n: accuracy_interval(y_test, labels) for n, labels in predictions.items()}

    def acc(n):
        return f"{accuracies[n]:.3f} (95 % interval {ci[n]['low']:.3f}–{ci[n]['high']:.3f}"

    text = ("**Answer to the retailer: transfer learning beats the classical model"
            + (" clearly" if verdict[transfer] == "better" else " only within noise") + "; our own small CNN "
            + ("does too" if verdict[own_cnn] == "better" else "does not, on this test set (within noise)") + ".** "
            f"On the same {len(y_test)} test photos the classical model reaches accuracy {acc('classical')}); our CNN "
            f"{acc(own_cnn)}; McNemar p = {paired.loc[own_cnn, 'p-value']:.2g}); transfer learning {acc(transfer)}; "
            f"p = {paired.loc[transfer, 'p-value']:.2g}). Transfer learning is the one to deploy: ImageNet already "
            "taught it what helmets, tents and boots look like. It is the slowest at inference "
            f"({speed:.0f} photos per second on 2 CPU cores, about {speed * 3600:,.0f} an hour).")
    return text, paired
