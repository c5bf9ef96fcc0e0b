"""Error analysis for targeted offers (notebook 06): per-class intervals, operating points, users, and
out-of-domain scores.

- :func:`bootstrap_per_class`   precision, recall and F1 per class with bootstrap confidence intervals;
- :func:`operating_points`      per class, the confidence threshold that reaches a target precision on the
                                validation split, and what it gives on test (precision, coverage);
- :func:`simulate_users`        users who upload or view mostly one category: how often the aggregated
                                prediction over k images names that category;
- :func:`gear_photos`, :func:`photo_outcomes`, :func:`compare_scores`
                                real product photos through the prediction path, and the out-of-domain
                                scores of :mod:`helpers.evaluation.out_of_domain` compared on them.
"""

from __future__ import annotations

import numpy as np

from helpers.evaluation.out_of_domain import rejection_threshold

BOOTSTRAP_SAMPLES = 1000
CONFIDENCE_LEVEL = 0.95
PRECISION_TARGETS = (0.95, 0.99)
USER_IMAGE_COUNTS = (1, 3, 5, 10, 20)


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


def threshold_for_precision(y_true, proba, cls: int, target: float):
    """The lowest confidence threshold at which predictions of class ``cls`` reach ``target`` precision.

    Returns ``(threshold, precision, coverage)``; coverage is the share of the class's images that are
    predicted as ``cls`` with at least that confidence. ``(None, best precision, 0.0)`` if unreachable.
    """
    y, p = np.asarray(y_true), np.asarray(proba)
    pred, conf = p.argmax(1), p.max(1)
    mask = pred == cls
    c, correct = conf[mask], (y[mask] == cls)
    order = np.argsort(-c, kind="stable")
    c, correct = c[order], correct[order]
    if len(c) == 0:
        return None, 0.0, 0.0
    precision = np.cumsum(correct) / np.arange(1, len(c) + 1)
    # candidate cut after position i keeps the i+1 most confident; thresholds must not split ties
    ok = np.where((precision >= target) & np.r_[c[1:] < c[:-1], True])[0]
    if len(ok) == 0:
        return None, float(precision.max()), 0.0
    i = ok[-1]
    return float(c[i]), float(precision[i]), float(correct[: i + 1].sum() / max(1, (y == cls).sum()))


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


def simulate_users(y_true, proba, k: int, share: float, n_users: int = 2000, seed: int = 0, n_classes=None):
    """Users whose ``k`` images are of their favourite category with probability ``share`` (else of another
    category, uniformly), drawn from the labelled images ``y_true`` with the model's ``proba``.

    Returns ``{"vote": (C,), "mean": (C,)}``: per favourite category, the share of users whose aggregated
    prediction (majority vote of the arg-max labels, ties to the higher summed probability; or the arg-max
    of the mean probability) names the favourite category.
    """
    y, p = np.asarray(y_true).astype(int), np.asarray(proba)
    c_n = n_classes or p.shape[1]
    rng = np.random.default_rng(seed)
    by_class = [np.where(y == c)[0] for c in range(c_n)]
    out = {"vote": np.full(c_n, np.nan), "mean": np.full(c_n, np.nan)}
    for fav in range(c_n):
        others = [c for c in range(c_n) if c != fav and len(by_class[c])]
        if not len(by_class[fav]) or not others:
            continue  # no images of the category (or nothing else to mix in): left NaN
        hits_vote = hits_mean = 0
        for _ in range(n_users):
            cats = np.where(rng.random(k) < share, fav, rng.choice(others, size=k))
            idx = np.array([rng.choice(by_class[c]) for c in cats])
            probs = p[idx]
            votes = np.bincount(probs.argmax(1), minlength=c_n).astype(float) + probs.sum(0) * 1e-6
            hits_vote += votes.argmax() == fav
            hits_mean += probs.mean(0).argmax() == fav
        out["vote"][fav], out["mean"][fav] = hits_vote / n_users, hits_mean / n_users
    return out


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


def compare_scores(in_domain: dict, photos: dict, is_fashion, keep: float = 0.95) -> "pd.DataFrame":
    """Per out-of-domain score: the threshold keeping ``keep`` of in-domain images (``in_domain``:
    ``{score: (N,)}`` on validation images), the share of non-fashion photos it rejects, the share of
    fashion photos it keeps, and the AUROC of in-domain images against non-fashion photos."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    fashion = np.asarray(is_fashion, dtype=bool)
    rows = []
    for kind, s_in in in_domain.items():
        s_ph = np.asarray(photos[kind])
        t = rejection_threshold(s_in, keep)
        auroc = roc_auc_score(np.r_[np.zeros(len(s_in)), np.ones((~fashion).sum())], np.r_[s_in, s_ph[~fashion]])
        rejected_share, kept_share = float((s_ph[~fashion] > t).mean()), float((s_ph[fashion] <= t).mean())
        rows.append({"score": kind, "threshold": t, "non-fashion rejected": rejected_share,
                     "fashion photos kept": kept_share, "balanced": (rejected_share + kept_share) / 2,
                     "AUROC": float(auroc)})
    return pd.DataFrame(rows).set_index("score")


def offer_errors(y_true, proba, thresholds) -> dict:
    """With one confidence threshold per class (``None``: the class is never offered), the share of images
    that get a label and the share of those labels that are wrong."""
    y, p = np.asarray(y_true), np.asarray(proba)
    pred, conf = p.argmax(1), p.max(1)
    t = np.array([np.inf if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in thresholds])
    labelled = conf >= t[pred]
    return {"labelled": float(labelled.mean()),
            "wrong among labelled": float((y[labelled] != pred[labelled]).mean()) if labelled.any() else float("nan")}


# ------------------------------------------------------------------ users and business figures
def user_table(y_true, proba, class_names, share: float, ks=USER_IMAGE_COUNTS, n_users: int = 1000, seed: int = 0):
    """The share of simulated users whose offer names their favourite category, per category (rows) and
    number of images ``k`` (columns), for both aggregations: ``{"vote": DataFrame, "mean": DataFrame}``."""
    import pandas as pd

    out = {"vote": {}, "mean": {}}
    for k in ks:
        sim = simulate_users(y_true, proba, k=k, share=share, n_users=n_users, seed=seed)
        for agg in out:
            out[agg][k] = sim[agg]
    return {agg: pd.DataFrame(cols, index=pd.Index(class_names, name="favourite category")).rename_axis(
        columns="images per user") for agg, cols in out.items()}


def images_needed(table, target: float = 0.95):
    """Per category (rows of a :func:`user_table` frame): the fewest images with which at least ``target`` of
    users get the right offer (``None`` if no simulated ``k`` reaches it)."""
    import pandas as pd

    ks = list(table.columns)
    return pd.Series({cat: next((k for k in ks if row[k] >= target), None) for cat, row in table.iterrows()},
                     name=f"images for {target:.0%} right offers", dtype=object)


def merged_accuracy(y_true, y_pred, class_names, merge) -> float:
    """Accuracy when the classes in ``merge`` (names) count as one category."""
    names = np.asarray(class_names)
    y, p = names[np.asarray(y_true)], names[np.asarray(y_pred)]
    y = np.where(np.isin(y, list(merge)), "merged", y)
    p = np.where(np.isin(p, list(merge)), "merged", p)
    return float((y == p).mean())


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


def offer_rules(summary: dict, model: str) -> dict:
    """Notebook 06's decisions as the offers pipeline's rule set (:mod:`helpers.serving.rules`): the per-category
    thresholds fixed on validation for 95 % precision, the rejection rule, the launched, merged ("tops") and held
    categories, and, per offer, the confident images a user needs: the favourite's share of a simulated user's
    images times the images notebook 06's simulation needs for a right offer (for "tops", the most any of its
    categories needs), rounded up."""
    import math

    from helpers.serving import rules

    classes = summary["classes"]
    needed = {c: math.ceil(summary["share"] * summary["images_needed"][c]["vote"] - 1e-9) for c in classes}
    min_images = {c: needed[c] for c in summary["launch"]}
    min_images[rules.TOPS] = max(needed[c] for c in summary["tops"])
    return rules.build_rules(
        model, classes, thresholds={c: summary["p95"][c]["threshold"] for c in classes}, launch=summary["launch"],
        merge={rules.TOPS: summary["tops"]}, hold=summary["hold"], min_images=min_images,
        rejection_rule=summary.get("rejection_score"),
        decided_on="thresholds: validation split (95 % precision); rejection rule: Fashion-MNIST validation and the "
                   "fitting part of the gear photos; images needed: notebook 06's user simulation")
