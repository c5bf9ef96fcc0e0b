"""Notebook 06's launch decisions: each category's status (launch / merge into tops / hold), decided on the
validation split with a stated noise margin, then reported once on test with bootstrap intervals.

- The **threshold** of a category is the lowest calibrated confidence, in steps of 0.001, at which its validation
  precision reaches :data:`TARGET` (:func:`helpers.studies.error_analysis.threshold_for_precision`).
- A category of :data:`TOPS` (upper-body garments, which the model confuses with each other) is **merged** into
  one "tops" offer; the group's own precision -- of the images labelled as any of them, the share that are one of
  them -- is reported beside it.
- Any other category **launches** when its threshold still labels at least :data:`MIN_COVERAGE` of its validation
  images; a coverage within the noise margin (:func:`margin`, 95 % normal interval on the category's validation
  images) of that bar is **amber**: launch in the pilot and watch. Below the bar by more than the margin, or no
  threshold reaching the target at all: **hold**.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

#: Precision an offer category needs (of the images labelled X, the share that are X).
TARGET = 0.95
#: A launched category's threshold must still label this share of its validation images: below it, most of the
#: category's uploads would never count and its offers would reach few users.
MIN_COVERAGE = 0.80
#: Upper-body garments: one "tops" offer (the model confuses them with each other).
TOPS = ("T-shirt/top", "Pullover", "Coat", "Shirt")
BOOTSTRAP_SAMPLES = 1000
SEED = 0


def margin(share: float, n: int, z: float = 1.96) -> float:
    """Half-width of the 95 % normal interval of a share measured on ``n`` images."""
    return float(z * np.sqrt(share * (1 - share) / max(n, 1)))


def in_group_errors(y_true, y_pred, class_names, group=TOPS) -> dict:
    """Per member of ``group``: the share of its misclassified images that the model calls another member."""
    names = np.asarray(class_names)
    y, p = names[np.asarray(y_true)], names[np.asarray(y_pred)]
    out = {}
    for c in group:
        wrong = (y == c) & (p != c)
        out[c] = float(np.isin(p[wrong], list(group)).mean()) if wrong.any() else float("nan")
    return out


def category_status(points, val_counts: dict, class_names, in_group: dict, tops=TOPS) -> "pd.DataFrame":
    """Per category, from validation figures only: threshold, validation precision and coverage, the noise
    margin on the coverage, the status, a traffic light and the reason in plain words.

    ``points``: :func:`helpers.studies.error_analysis.operating_points` rows for :data:`TARGET`, indexed by class;
    ``val_counts``: validation images per class; ``in_group``: :func:`in_group_errors` on validation."""
    import pandas as pd

    rows = {}
    for c in class_names:
        t, cov = points.loc[c, "threshold"], float(points.loc[c, "val coverage"])
        m = margin(cov, val_counts[c])
        row = {"threshold": t, "val precision": float(points.loc[c, "val precision"]), "val coverage": cov,
               "margin": m}
        if c in tops:
            row.update(status="merge into tops", light="green",
                       reason=f"{in_group[c]:.0%} of its validation errors are other tops: one tops offer")
        elif t is None or (isinstance(t, float) and np.isnan(t)):
            row.update(status="hold", light="red", reason=f"{TARGET:.0%} precision not reached on validation")
        elif cov - m >= MIN_COVERAGE:
            row.update(status="launch", light="green",
                       reason=f"{cov:.0%} of its images labelled at {TARGET:.0%} precision")
        elif cov + m >= MIN_COVERAGE:
            row.update(status="launch", light="amber",
                       reason=f"{cov:.0%} labelled: within noise of the {MIN_COVERAGE:.0%} bar, watch in the pilot")
        else:
            row.update(status="hold", light="red",
                       reason=f"only {cov:.0%} of its images labelled at {TARGET:.0%} precision")
        rows[c] = row
    return pd.DataFrame(rows).T.rename_axis("category")


def group_precision(y_true, proba, thresholds, class_names, group) -> float:
    """Of the images confidently labelled as any member of ``group`` (each at least its threshold), the share
    whose true category is a member: the merged offer's own precision."""
    y, p = np.asarray(y_true), np.asarray(proba)
    members = [class_names.index(c) for c in group]
    sel = labelled(p, thresholds) & np.isin(p.argmax(1), members)
    return float(np.isin(y[sel], members).mean()) if sel.any() else float("nan")


def labelled(proba, thresholds) -> np.ndarray:
    """Which images get a label: confidence at least their predicted class's threshold (``None``: never)."""
    p = np.asarray(proba)
    t = np.array([np.inf if v is None or v != v else v for v in thresholds], dtype=np.float64)
    return p.max(1) >= t[p.argmax(1)]


def test_report(y_true, proba, thresholds, class_names, groups: dict, n_boot: int = BOOTSTRAP_SAMPLES,
                seed: int = SEED, level: float = 0.95) -> "pd.DataFrame":
    """The test split, measured once at the validation thresholds: per offer group (``{name: members}``; a
    category on its own is a group of one) its precision with a bootstrap interval (the test images resampled
    ``n_boot`` times), the share of its images labelled (coverage) and the share of all images it labels."""
    import pandas as pd

    y, p = np.asarray(y_true), np.asarray(proba)
    lab = labelled(p, thresholds)
    counts = np.stack([np.bincount(np.random.default_rng(seed + b).integers(0, len(y), len(y)), minlength=len(y))
                       for b in range(n_boot)]).astype(np.float64)
    rows = {}
    for name, members in groups.items():
        idx = [class_names.index(c) for c in members]
        sel = lab & np.isin(p.argmax(1), idx)
        right = sel & np.isin(y, idx)
        boot = (counts @ right) / np.maximum(counts @ sel, 1)
        lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
        rows[name] = {"test precision": float(right.sum() / max(sel.sum(), 1)), "low": float(lo), "high": float(hi),
                      "test coverage": float(right.sum() / max(np.isin(y, idx).sum(), 1)),
                      "share of images labelled": float(sel.mean())}
    return pd.DataFrame(rows).T.rename_axis("offer")


#: The pilot: the wrong-offer rate it must measure, to within this margin (95 % interval).
PILOT_MARGIN = 0.02


def pilot_offers(expected_wrong_rate: float, margin: float = PILOT_MARGIN, z: float = 1.96) -> int:
    """Offers a pilot must check by hand to measure a wrong-offer rate near ``expected_wrong_rate`` to within
    ``margin`` (normal approximation; at least the rate of a coin that is right 95 % of the time)."""
    p = max(expected_wrong_rate, 0.05)
    return int(np.ceil(z * z * p * (1 - p) / margin ** 2))


def rule_set(model: str, status, min_images: dict, rejection_score: str | None) -> dict:
    """The decisions as the offers pipeline's rule set (:mod:`helpers.serving.rules`): the validation thresholds,
    the launched, merged ("tops") and held categories, the confident images each offer needs, the rejection rule."""
    from helpers.serving import rules

    classes = list(status.index)
    launched = [c for c in classes if status.loc[c, "status"] == "launch"]
    merged = [c for c in classes if status.loc[c, "status"] == "merge into tops"]
    held = [c for c in classes if status.loc[c, "status"] == "hold"]
    thresholds = {c: (1.0 + 1e-6 if status.loc[c, "threshold"] is None else status.loc[c, "threshold"])
                  for c in classes}
    return rules.build_rules(
        model, classes, thresholds=thresholds, launch=launched, merge={rules.TOPS: merged} if merged else {},
        hold=held, min_images={o: min_images[o] for o in launched + ([rules.TOPS] if merged else [])},
        rejection_rule=rejection_score,
        decided_on=f"thresholds and status: validation split ({TARGET:.0%} precision, {MIN_COVERAGE:.0%} coverage); "
                   "rejection rule: Fashion-MNIST training and validation images and the gear photos' fitting part; "
                   "confident images needed: notebook 06's user simulation on validation images")
