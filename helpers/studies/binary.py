"""The binary question: Clothing vs Footwear & Bags, from a binary network or a binarised 10-class one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.inputs.fashion_mnist import CLASS_NAMES
from helpers.inputs.tasks import BINARY_CLASS_NAMES, FOOTWEAR_AND_BAGS

FOOTWEAR_IDX = np.array([CLASS_NAMES.index(c) for c in FOOTWEAR_AND_BAGS])


def binarise_argmax(proba10) -> np.ndarray:
    """Group of the arg-max class (1 = Footwear & Bags)."""
    return np.isin(np.asarray(proba10).argmax(axis=1), FOOTWEAR_IDX).astype(np.int64)


def footwear_probability(proba10) -> np.ndarray:
    """Summed probability of the Footwear & Bags classes."""
    return np.asarray(proba10)[:, FOOTWEAR_IDX].sum(axis=1)


def binarise_summed(proba10, threshold: float = 0.5) -> np.ndarray:
    return (footwear_probability(proba10) > threshold).astype(np.int64)


def scores(y_true, y_pred, p_footwear) -> dict:
    """Accuracy, errors, per-group precision and recall, balanced accuracy and ROC AUC."""
    from sklearn.metrics import (
        balanced_accuracy_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    p, r, _, _ = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1], zero_division=0)
    out = {"accuracy": float(np.mean(y_true == y_pred)), "errors": int(np.sum(y_true != y_pred)),
           "balanced accuracy": float(balanced_accuracy_score(y_true, y_pred)),
           "ROC AUC": float(roc_auc_score(y_true, p_footwear))}
    for k, g in enumerate(BINARY_CLASS_NAMES):
        out[f"precision {g}"] = float(p[k])
        out[f"recall {g}"] = float(r[k])
    return out


def mcnemar(y_true, pred_a, pred_b) -> dict:
    """McNemar's exact test on the paired errors of two classifiers on the same images."""
    from statsmodels.stats.contingency_tables import mcnemar as _mcnemar

    ok_a, ok_b = np.asarray(pred_a) == y_true, np.asarray(pred_b) == y_true
    table = [[int(np.sum(ok_a & ok_b)), int(np.sum(ok_a & ~ok_b))],
             [int(np.sum(~ok_a & ok_b)), int(np.sum(~ok_a & ~ok_b))]]
    res = _mcnemar(table, exact=True)
    return {"both right": table[0][0], "only A right": table[0][1], "only B right": table[1][0],
            "both wrong": table[1][1], "p-value": float(res.pvalue)}


def comparison(y_true, candidates: dict) -> pd.DataFrame:
    """``candidates``: name -> (predictions, footwear probability). One column per candidate."""
    return pd.DataFrame({name: scores(y_true, pred, prob) for name, (pred, prob) in candidates.items()}).round(4)


#: The binary network and the binarised 10-class network differ significantly below this McNemar p-value.
SIGNIFICANCE = 0.05


def recommendation(table, tests: dict, names: list, n_images: int) -> dict:
    """Notebook 07's answer from its comparison: whether the binary network (``names[0]``) and the binarised
    10-class network (``names[1]``) differ significantly (McNemar), which makes the fewest errors, the verdict and
    the recommendation in words. ``table``: :func:`comparison` with an ``errors`` row; ``tests``: McNemar results
    keyed ``"binary network  vs  <name>"``."""
    errors = table.loc["errors"].astype(int)
    best = errors.idxmin()
    p = tests[f"binary network  vs  {names[1]}"]["p-value"]
    significant = p < SIGNIFICANCE
    if significant and best == names[0]:
        advice = ("Train the binary network: it is significantly more accurate at this one question, which "
                  "justifies running a second model.")
    elif significant:
        advice = ("Binarise the 10-class network: it is significantly more accurate, and the same model also gives "
                  "the fine category that targeted offers need.")
    else:
        gap = int(errors[names[1]] - errors[names[0]])
        advice = (f"Binarise the 10-class network. The dedicated binary network's "
                  f"{'advantage' if gap > 0 else 'difference'} of {abs(gap)} errors in {n_images:,} images is within "
                  f"chance, while the 10-class network also gives the fine category that targeted offers need — one "
                  f"model to train, monitor and hand over instead of two. Retrain a binary network only if the "
                  f"coarse split alone becomes a product with its own accuracy requirement.")
    if significant:
        verdict = (f"The difference between the binary network and the binarised 10-class network is **significant** "
                   f"(McNemar p = {p:.3g}): **{best}** makes the fewest errors ({errors[best]} of {n_images:,}).")
    else:
        verdict = (f"The difference between the binary network ({errors[names[0]]} errors) and the binarised 10-class "
                   f"network ({errors[names[1]]} errors) is **not significant** (McNemar p = {p:.3g}): on these "
                   f"{n_images:,} images neither is reliably better.")
    return {"best": best, "significant": significant, "verdict": verdict, "recommendation": advice}
