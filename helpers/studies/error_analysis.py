"""Error analysis for targeted offers (notebook 06): per-class intervals, operating points and real photos.

- :func:`bootstrap_per_class`   precision, recall and F1 per class with bootstrap confidence intervals;
- :func:`operating_points`      per class, the confidence threshold that reaches a target precision on the
                                validation split, and what it gives on test (precision, coverage);
- :func:`gear_photos`, :func:`photo_outcomes`
                                real product photos through the prediction path.

The launch decisions are in :mod:`helpers.studies.launch`, the rejection rule's study in
:mod:`helpers.studies.rejection`, the simulated users in :mod:`helpers.studies.user_simulation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

BOOTSTRAP_SAMPLES = 1000
CONFIDENCE_LEVEL = 0.95
PRECISION_TARGETS = (0.95, 0.99)


def _per_class(y, pred, n_classes):
    tp = np.bincount(y[pred == y], minlength=n_classes).astype(float)
    predicted = np.bincount(pred, minlength=n_classes).astype(float)
    actual = np.bincount(y, minlength=n_classes).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, np.nan)  # a class absent from a resample has no recall
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1


def bootstrap_per_class(y_true, y_pred, class_names, n_boot: int = BOOTSTRAP_SAMPLES, level: float = CONFIDENCE_LEVEL,
                        seed: int = 0):
    """Per class: precision, recall and F1 with percentile bootstrap intervals (images resampled with
    replacement ``n_boot`` times). A pandas DataFrame indexed by class, sorted by F1 (best first)."""
    import pandas as pd

    y, pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    k = len(class_names)
    point = _per_class(y, pred, k)
    rng = np.random.default_rng(seed)
    samples = np.empty((n_boot, 3, k))
    for b in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        samples[b] = _per_class(y[idx], pred[idx], k)
    import warnings

    with warnings.catch_warnings():  # a class never present in the data has an all-NaN recall: NaN interval
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanpercentile(samples, [(1 - level) / 2 * 100, (1 + level) / 2 * 100], axis=0)
    out = {}
    for m, name in enumerate(("precision", "recall", "F1")):
        out[name] = point[m]
        out[f"{name} low"] = lo[m]
        out[f"{name} high"] = hi[m]
    df = pd.DataFrame(out, index=pd.Index(class_names, name="class"))
    df["images"] = np.bincount(y, minlength=k)
    return df.sort_values("F1", ascending=False).round(4)


#: Confidence thresholds are chosen on a grid of this step (3 decimals): a threshold then moves only when an image's
#: confidence crosses a grid point, never with the model's 7th-digit noise from one CPU to another.
THRESHOLD_STEP = 0.001
#: A threshold never goes below the lowest confidence seen among the images it keeps on validation, rounded down to
#: this step: below it there is no evidence (coarse, so that noise almost never moves it either).
FLOOR_STEP = 0.01


def threshold_for_precision(y_true, proba, cls: int, target: float, step: float = THRESHOLD_STEP):
    """The lowest confidence threshold, in steps of ``step``, at which predictions of class ``cls`` reach ``target``
    precision; where that keeps every prediction of the class, the lowest confidence among them rounded down to
    :data:`FLOOR_STEP` (the same images kept, no claim below what was seen).

    Returns ``(threshold, precision, coverage)``; coverage is the share of the class's images that are
    predicted as ``cls`` with at least that confidence. ``(None, best precision, 0.0)`` if unreachable.
    """
    y, p = np.asarray(y_true), np.asarray(proba, dtype=np.float64)
    pred, conf = p.argmax(1), p.max(1)
    mask = pred == cls
    c, correct = conf[mask], (y[mask] == cls)
    if len(c) == 0:
        return None, 0.0, 0.0
    grid = np.round(np.arange(0, 1 + step / 2, step), 6)
    order = np.argsort(c, kind="stable")
    c, correct = c[order], correct[order]
    first = np.searchsorted(c, grid, side="left")  # images at or above each grid threshold: c[first:]
    kept = len(c) - first
    right = np.r_[np.cumsum(correct[::-1])[::-1], 0][first]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(kept > 0, right / np.maximum(kept, 1), np.nan)
    ok = np.where(precision >= target)[0]
    if len(ok) == 0:
        return None, float(np.nanmax(precision)), 0.0
    i = ok[0]
    threshold = max(float(grid[i]), float(np.floor(c[first[i]] / FLOOR_STEP) * FLOOR_STEP))
    return round(threshold, 6), float(precision[i]), float(right[i] / max(1, (y == cls).sum()))


def precision_coverage(y_true, proba, cls: int):
    """``(thresholds, precision, coverage)`` of class ``cls`` as the confidence threshold rises."""
    y, p = np.asarray(y_true), np.asarray(proba)
    mask = p.argmax(1) == cls
    c, correct = p.max(1)[mask], (y[mask] == cls)
    order = np.argsort(-c, kind="stable")
    c, correct = c[order], correct[order]
    precision = np.cumsum(correct) / np.arange(1, len(c) + 1)
    coverage = np.cumsum(correct) / max(1, (y == cls).sum())
    return c, precision, coverage


def apply_threshold(y_true, proba, cls: int, threshold):
    """Precision and coverage of class ``cls`` at a given threshold (``None``: the class is never offered)."""
    y, p = np.asarray(y_true), np.asarray(proba)
    if threshold is None:
        return float("nan"), 0.0
    sel = (p.argmax(1) == cls) & (p.max(1) >= threshold)
    precision = float((y[sel] == cls).mean()) if sel.any() else float("nan")
    return precision, float(((y == cls) & sel).sum() / max(1, (y == cls).sum()))


def operating_points(y_val, p_val, y_test, p_test, class_names, targets=PRECISION_TARGETS):
    """Per class and target precision: the threshold fixed on validation, and precision and coverage on test."""
    import pandas as pd

    rows = []
    for cls, name in enumerate(class_names):
        for target in targets:
            t, vp, vc = threshold_for_precision(y_val, p_val, cls, target)
            tp, tc = apply_threshold(y_test, p_test, cls, t)
            rows.append({"class": name, "target precision": target, "threshold": t, "val precision": vp,
                         "val coverage": vc, "test precision": tp, "test coverage": tc})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ why it errs: image traits
def image_traits(x) -> "pd.DataFrame":
    """Per image: ``item size`` (share of pixels brighter than a quarter of full scale: how much of the
    square the item fills) and ``brightness`` (mean intensity of the item's pixels)."""
    import pandas as pd

    a = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    lit = a > 64
    size = lit.mean(axis=1)
    bright = np.where(lit.any(axis=1), (a * lit).sum(axis=1) / np.maximum(lit.sum(axis=1), 1), 0.0)
    return pd.DataFrame({"item size": size, "brightness": bright})


def error_rate_by(values, correct, bins: int = 4, label: str = "value") -> "pd.DataFrame":
    """Error rate per quantile bin of ``values`` (``bins`` bins of equal image counts)."""
    import pandas as pd

    q = pd.qcut(pd.Series(values), bins, duplicates="drop", precision=3)
    df = pd.DataFrame({label: q, "error": ~np.asarray(correct, dtype=bool)})
    out = df.groupby(label, observed=True)["error"].agg(["mean", "size"]).rename(
        columns={"mean": "error rate", "size": "images"})
    return out


# ------------------------------------------------------------------ real photos (outdoor-gear catalogue)
#: Gear classes that are Fashion-MNIST items, and the label they should get. Every other gear class
#: (tents, ropes, carabiners, helmets, gloves: no Fashion-MNIST class) is "not fashion".
GEAR_AS_FASHION = {"boots": "Ankle boot", "hardshell_jackets": "Coat", "insulated_jackets": "Coat"}
#: The gear manifest's splits on which the preprocessing and the rejection rule are chosen; they are
#: reported on the other splits.
RULE_FIT_SPLITS = ("train",)
#: The preprocessing variants compared on real photos: (crop to the item, mirror into Fashion-MNIST's orientation).
PHOTO_PATHS = {"pad only": (False, False), "crop": (True, False), "crop + orientation (helpers.predict)": (True, True)}


def gear_photos(crop: bool = True, orient: bool = True):
    """The outdoor-gear photos as Fashion-MNIST inputs: ``(table, x)``.

    ``table`` has one row per photo (``file``, gear ``class``, manifest ``split``, ``part``: "fit" or
    "report", ``expected``: the Fashion-MNIST label or ``None`` for non-fashion items); ``x`` is
    ``(N, 28, 28, 1)`` uint8. With ``crop`` and ``orient`` (the default) the photos go exactly the way
    ``helpers.predict --task fashion`` takes them (``tasks.get("fashion").prepare``).
    """
    import pandas as pd

    from helpers.inputs import tasks
    from helpers.inputs.images import open_rgb, to_fashion_mnist_style
    from helpers.studies import gear

    table = pd.read_csv(gear.ensure_manifest())[["file", "class", "split"]]
    root = gear.dataset_dir()
    if crop and orient:
        prepare = tasks.get("fashion").prepare
    else:
        def prepare(im):
            return to_fashion_mnist_style(im, 28, crop=crop, orient=orient)[..., None]
    x = np.stack([prepare(open_rgb(root / f)) for f in table["file"]]).astype(np.uint8)
    table["part"] = np.where(table["split"].isin(RULE_FIT_SPLITS), "fit", "report")
    table["expected"] = table["class"].map(GEAR_AS_FASHION)
    return table, x


def photo_outcomes(table, proba, class_names) -> "pd.DataFrame":
    """Per gear class: photos, the expected Fashion-MNIST label, the share that gets it, the most common
    predicted label and the median confidence."""
    import pandas as pd

    p = np.asarray(proba)
    pred = np.asarray(class_names)[p.argmax(1)]
    df = table.assign(predicted=pred, confidence=p.max(1))
    rows = []
    for cls, g in df.groupby("class"):
        exp = g["expected"].iloc[0]
        rows.append({"gear class": cls, "photos": len(g), "expected": exp if isinstance(exp, str) else "(not fashion)",
                     "right label": float((g["predicted"] == exp).mean()) if isinstance(exp, str) else float("nan"),
                     "most common label": g["predicted"].mode().iloc[0],
                     "median confidence": float(g["confidence"].median())})
    return pd.DataFrame(rows).set_index("gear class")


# ------------------------------------------------------------------ the summary the management report reads


#: Where notebook 06 leaves its results for the management report (``summary_<model>.json``).
SUMMARY_DIR_NAME = "error_analysis"


def summary_path(model: str):
    from helpers.core.paths import REPO_ROOT

    return REPO_ROOT / "results" / SUMMARY_DIR_NAME / f"summary_{model}.json"


def export_summary(model: str, path=None, **items):
    """Write the notebook's results (frames, series, numbers, lists) to ``results/error_analysis/summary_<model>.json``
    for the management report, sorted and rounded so that the same results give the same bytes. Returns the path."""
    from helpers.core.results import write_summary

    return write_summary(path if path is not None else summary_path(model), model=model, **items)


