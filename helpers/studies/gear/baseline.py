"""The classical answer to compare with: logistic regression on pixels, a random forest on colour histograms."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from helpers.evaluation.metrics import class_scores
from helpers.inputs import gear_photos as catalogue
from helpers.studies.gear import config

#: What the gear study scores (unbalanced classes: macro F1, balanced accuracy and each class's recall).
SCORES = ("accuracy", "macro_f1", "balanced_accuracy", "recall")




def baseline_features(x: np.ndarray, kind: str) -> np.ndarray:
    """``pixels``: 32x32 RGB pixels scaled to [0, 1]; ``histogram``: 8x8x8 RGB colour histogram plus a
    16x16 grey thumbnail (colour and rough shape)."""
    from PIL import Image

    small = np.stack([np.asarray(Image.fromarray(im).resize((config.BASELINE_SIZE, config.BASELINE_SIZE), Image.BILINEAR))
                      for im in x]).astype(np.float32) / 255.0
    if kind == "pixels":
        return small.reshape(len(x), -1)
    bins = (small * 7.999).astype(np.int64)
    codes = bins[..., 0] * 64 + bins[..., 1] * 8 + bins[..., 2]
    hist = np.stack([np.bincount(c.ravel(), minlength=512) for c in codes]).astype(np.float32)
    hist /= hist.sum(axis=1, keepdims=True)
    thumb = small.mean(axis=-1)[:, ::2, ::2].reshape(len(x), -1)
    return np.concatenate([hist, thumb], axis=1)


def classical_baseline(retrain: bool = False, data: dict | None = None, path: Path | None = None) -> dict:
    """The classical answer: logistic regression on pixels and a random forest on colour histograms,
    the better one on validation scored once on test (its predicted labels kept for paired tests). Saved to
    ``results/gear/classical_baseline.json``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = Path(path or config.RESULTS_DIR / "classical_baseline.json")
    if not retrain and path.is_file():
        return json.loads(path.read_text())
    data = data if data is not None else catalogue.load_splits((config.CNN_SIZE, config.CNN_SIZE, 3))
    candidates = {
        "logistic regression on 32x32 pixels": ("pixels", lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.01, max_iter=2000, class_weight="balanced"))),
        "random forest on colour histograms + thumbnail": ("histogram", lambda: RandomForestClassifier(
            n_estimators=500, class_weight="balanced", random_state=config.SEED, n_jobs=-1)),
    }
    rows = {}
    for label, (kind, factory) in candidates.items():
        feats = {s: baseline_features(xy[0], kind) for s, xy in data.items()}
        t = time.perf_counter()
        clf = factory().fit(feats["train"], data["train"][1])
        seconds = time.perf_counter() - t
        t = time.perf_counter()
        val = clf.predict_proba(feats["val"])
        rows[label] = {"clf": clf, "kind": kind, "seconds": round(seconds, 1), "val": scores(data["val"][1], val),
                       "images_per_s": round(len(val) / (time.perf_counter() - t), 1)}
    best = max(rows, key=lambda k: (rows[k]["val"]["accuracy"], k))
    test = rows[best]["clf"].predict_proba(baseline_features(data["test"][0], rows[best]["kind"]))
    result = {"chosen": best, "candidates": {k: {kk: v for kk, v in r.items() if kk != "clf"} for k, r in rows.items()},
              "test": scores(data["test"][1], test),
              "test_predictions": [int(v) for v in test.argmax(1)]}  # the paired tests in notebook 09 need them
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result


def scores(y_true, proba) -> dict:
    """Accuracy, macro F1, balanced accuracy and per-class recall: the scores for unbalanced classes."""
    return class_scores(y_true, proba, config.CLASS_NAMES, fields=SCORES)
