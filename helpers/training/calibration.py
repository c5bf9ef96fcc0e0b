"""Calibrated confidence: temperature scaling, expected calibration error, reliability diagrams.

A network trained with cross-entropy is usually over-confident: among the images it calls "Shirt"
with confidence 0.95, fewer than 95 % are shirts. Temperature scaling (Guo et al., 2017) divides the
log-probabilities by one number ``T`` fitted on the **validation** split by minimising the
cross-entropy, then re-normalises: the predicted class never changes (accuracy is untouched), only
how sure the model says it is. ``T > 1`` softens over-confident outputs.

The temperature is stored in the model's record (``record["calibration"]``, by :func:`store`) and
applied by ``helpers.predict`` (:mod:`helpers.evaluation.temperature`, read with
``helpers.models.saved_models.temperature_of``), so that the ``confidence`` it prints means what it says.

**Fit it on outputs the model has not trained on.** A model refitted on training + validation images
has seen the validation split: its validation outputs are over-confident *training* outputs, and a
temperature fitted on them comes out too low. Fit on the selection run's validation outputs (same
recipe, trained on the training split only) and carry the temperature over to the refit model, or
calibrate models that were not refitted.
"""

from __future__ import annotations

import numpy as np

from helpers.evaluation.metrics import as_class_probabilities
from helpers.evaluation.temperature import EPS, apply_temperature
from helpers.models.saved_models import temperature_of  # noqa: F401  (serving reads it; fitted and stored here)

#: Bins of the expected calibration error and the reliability diagram (equal-width in confidence).
ECE_BINS = 15
#: Search range of the temperature (log scale).
T_RANGE = (0.05, 20.0)


def nll(y, proba) -> float:
    """Mean cross-entropy of the true classes."""
    p = as_class_probabilities(proba)
    y = np.asarray(y).astype(np.int64).ravel()
    return float(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], EPS, 1.0))))


def fit_temperature(y, proba) -> float:
    """The temperature that minimises the cross-entropy of ``proba`` on labels ``y`` (use validation data)."""
    from scipy.optimize import minimize_scalar

    y = np.asarray(y).astype(np.int64).ravel()
    p = as_class_probabilities(proba)
    if len(y) == 0 or len(y) != len(p):
        raise ValueError(f"need as many labels as predictions, got {len(y)} and {len(p)}")
    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    res = minimize_scalar(lambda log_t: nll(y, apply_temperature(p, float(np.exp(log_t)))),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
    return round(float(np.exp(res.x)), 4)


def reliability(y, proba, bins: int = ECE_BINS):
    """Per confidence bin: images, mean confidence, accuracy (a pandas DataFrame; empty bins dropped)."""
    import pandas as pd

    p = as_class_probabilities(proba)
    y = np.asarray(y).astype(np.int64).ravel()
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == y)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = which == b
        if m.any():
            rows.append({"bin": f"{edges[b]:.2f}–{edges[b + 1]:.2f}", "low": edges[b], "high": edges[b + 1],
                         "images": int(m.sum()), "confidence": float(conf[m].mean()), "accuracy": float(correct[m].mean())})
    return pd.DataFrame(rows)


def expected_calibration_error(y, proba, bins: int = ECE_BINS) -> float:
    """ECE: the image-weighted mean gap between confidence and accuracy over confidence bins."""
    table = reliability(y, proba, bins)
    if table.empty:
        return 0.0
    return float((table["images"] * (table["confidence"] - table["accuracy"]).abs()).sum() / table["images"].sum())


def calibration_record(y_val, proba_val, bins: int = ECE_BINS) -> dict:
    """What goes into a record's ``calibration``: the temperature fitted on validation, and the
    validation cross-entropy and ECE before and after."""
    t = fit_temperature(y_val, proba_val)
    after = apply_temperature(proba_val, t)
    return {"temperature": t, "fitted_on": "val", "val_nll_before": round(nll(y_val, proba_val), 6),
            "val_nll_after": round(nll(y_val, after), 6),
            "val_ece_before": round(expected_calibration_error(y_val, proba_val, bins), 6),
            "val_ece_after": round(expected_calibration_error(y_val, after, bins), 6), "ece_bins": bins}


def store(name: str, calibration: dict) -> dict:
    """Write ``calibration`` (from :func:`calibration_record`, with a ``fitted_on`` that says whose outputs)
    into ``weights/<name>.json``; the weights file and its sha256 are untouched. Returns the record."""
    import json

    from helpers.models import weights_store

    if "temperature" not in calibration:
        raise ValueError("calibration must hold a temperature")
    record = weights_store.load_record(name)
    record["calibration"] = dict(calibration)
    weights_store.record_path(name).write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    return record
