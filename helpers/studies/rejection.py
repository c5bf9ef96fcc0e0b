"""Notebook 06's rejection rule: which uploads are not fashion at all, chosen on one part of the real photos and
reported on the rest, and on flower photos that no step ever saw.

The **candidates** (all read the deployed model's own outputs, so the rule costs nothing at serving time):

- one score for all images (:data:`helpers.evaluation.out_of_domain.SCORES`), its threshold keeping
  :data:`KEEP` of the Fashion-MNIST validation images;
- the same, class-conditional: one threshold per predicted class, each keeping ``keep`` of that class's
  validation images (so that no class loses more than the others);
- a small **detector** (:func:`helpers.evaluation.out_of_domain.fit_detector`) fitted on Fashion-MNIST
  training images and the gear photos' fitting part, for each penalty of :data:`DETECTOR_C`; its threshold keeps
  :data:`KEEP` of both the validation images and the garment photos (the latter scored out of fold).

Every candidate is measured on the fitting part (the detector out of fold: five folds, each photo scored by a
detector that never saw it) and the choice (:func:`choose`) is made there: the best balance of non-fashion
rejected and garments kept among the candidates that meet :data:`GOALS`. The report part, the Fashion-MNIST test
images and the flower photos then measure the chosen rule once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

#: What the rule must do (the issue's goals), checked on the fitting part to choose, then reported on the rest.
GOALS = {"non-fashion rejected": 0.90, "garment photos kept": 0.95}
#: The share of in-domain images (validation; garment photos for the detector) each threshold keeps.
KEEP = 0.97
#: Keeps of the class-conditional candidates.
CLASS_KEEPS = (0.95, 0.98, 0.99)
#: Penalties (inverse regularisation strength) of the detector candidates.
DETECTOR_C = (0.01, 0.1, 1.0)
#: Fashion-MNIST training images per class that the detector and the Mahalanobis fit see.
TRAIN_PER_CLASS = 1000
FOLDS = 5
SEED = 0


def flower_photos():
    """Every flower photo, the way ``helpers.predict --task fashion`` takes it: ``(files, x)``. They are the
    never-seen non-fashion test: nothing is fitted or chosen on them."""
    import pandas as pd

    from helpers.inputs import flower_photos as flowers
    from helpers.inputs import tasks
    from helpers.inputs.images import open_rgb

    files = pd.read_csv(flowers.ensure_manifest())["file"].tolist()
    root, prepare = flowers.dataset_dir(), tasks.get("fashion").prepare
    return files, np.stack([prepare(open_rgb(root / f)) for f in files]).astype(np.uint8)


def training_subset(y_train, n_classes: int, per_class: int = TRAIN_PER_CLASS, seed: int = SEED) -> np.ndarray:
    """Indices of ``per_class`` training images of each class (the Mahalanobis and detector fits)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.where(y_train == c)[0], per_class, replace=False) for c in range(n_classes)])


def _detector_rows(train, photos, fit_part, is_fashion):
    """Logits, features, target and group of the detector's fitting rows: training images and fitting photos."""
    lg, f = train
    plg, pf = photos
    groups = np.r_[np.full(len(lg), "Fashion-MNIST"), np.where(is_fashion[fit_part], "garment photos", "non-fashion")]
    return (np.r_[lg, plg[fit_part]], np.r_[f, pf[fit_part]], np.r_[np.ones(len(lg), bool), is_fashion[fit_part]],
            groups)


def out_of_fold(train, photos, fit_part, is_fashion, maha, c: float, folds: int = FOLDS, seed: int = SEED):
    """The detector's score of each fitting photo by a detector fitted without it (``folds`` stratified folds)."""
    from sklearn.model_selection import StratifiedKFold

    from helpers.evaluation import out_of_domain as ood

    plg, pf = photos
    idx = np.where(fit_part)[0]
    oof = np.full(len(fit_part), np.nan)
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(idx, is_fashion[idx]):
        mask = np.zeros(len(fit_part), bool)
        mask[idx[tr]] = True
        fit = {**maha, **ood.fit_detector(*_detector_rows(train, photos, mask, is_fashion), maha, c)}
        oof[idx[te]] = ood.detector_score(fit, plg[idx[te]], pf[idx[te]])
    return oof


def candidates(val, train, photos, pred_val, pred_photos, fit_part, is_fashion, maha, keep: float = KEEP):
    """Every candidate rule, as ``{name: {"kind", "verdict on fitting photos", "make"}}``, where ``make()`` returns
    ``(score kind, fit, threshold or per-class thresholds)``. ``val``, ``train``, ``photos``: ``(logits,
    features)``; ``pred_*``: predicted classes; ``maha``: the Mahalanobis fit."""
    from helpers.evaluation import out_of_domain as ood

    s_val, s_ph = ood.all_scores(*val, maha), ood.all_scores(*photos, maha)
    out = {}
    for kind in ("max_softmax", "energy", "mahalanobis"):
        t = ood.rejection_threshold(s_val[kind], keep)
        out[f"{kind}, one threshold"] = {"kind": kind, "keep_photos": s_ph[kind] <= t,
                                         "make": lambda k=kind, t=t: (k, maha, t)}
        for q in CLASS_KEEPS:
            t_c = np.array([ood.rejection_threshold(s_val[kind][pred_val == c], q) for c in range(len(maha["means"]))])
            out[f"{kind}, per class ({q:.0%} kept)"] = {"kind": kind, "keep_photos": s_ph[kind] <= t_c[pred_photos],
                                                      "make": lambda k=kind, t=t_c: (k, maha, t)}
    garments = fit_part & is_fashion
    for c in DETECTOR_C:
        oof = out_of_fold(train, photos, fit_part, is_fashion, maha, c)
        full = {**maha, **ood.fit_detector(*_detector_rows(train, photos, fit_part, is_fashion), maha, c)}
        t = max(ood.rejection_threshold(ood.detector_score(full, *val), keep),
                ood.rejection_threshold(oof[garments], keep))
        out[f"detector (C = {c:g})"] = {"kind": "detector", "keep_photos": np.where(fit_part, oof <= t, False),
                                        "make": lambda f=full, t=t: ("detector", f, t)}
    return out


def compare(cands: dict, fit_part, is_fashion):
    """Per candidate, on the fitting photos: the share of non-fashion photos rejected, of garment photos kept,
    their mean (``balanced``) and whether it meets :data:`GOALS`."""
    import pandas as pd

    rows = {}
    for name, c in cands.items():
        k = c["keep_photos"]
        rej, kept = float((~k[fit_part & ~is_fashion]).mean()), float(k[fit_part & is_fashion].mean())
        rows[name] = {"non-fashion rejected": rej, "garment photos kept": kept, "balanced": (rej + kept) / 2,
                      "meets goals": rej >= GOALS["non-fashion rejected"] and kept >= GOALS["garment photos kept"]}
    return pd.DataFrame(rows).T.astype({"non-fashion rejected": float, "garment photos kept": float,
                                        "balanced": float, "meets goals": bool})


def choose(table) -> str:
    """The candidate with the best balance among those meeting the goals (all of them when none does)."""
    pool = table[table["meets goals"]] if table["meets goals"].any() else table
    return str(pool["balanced"].idxmax())


def kept_by_group(keep, groups, level: float = 0.95):
    """Per group: images, the share kept and its Wilson interval."""
    import pandas as pd

    from helpers.evaluation.metrics import proportion_interval

    keep, groups = np.asarray(keep, bool), np.asarray(groups)
    rows = {}
    for g in pd.unique(groups):
        k = keep[groups == g]
        lo, hi = proportion_interval(int(k.sum()), len(k), level)
        rows[g] = {"images": len(k), "kept": float(k.mean()), "kept low": lo, "kept high": hi}
    return pd.DataFrame(rows).T.astype({"images": int})


def where_junk_lands(labels, keep, is_fashion) -> "pd.Series":
    """The labels the model gives the non-fashion photos that the rule keeps, most frequent first."""
    import pandas as pd

    mask = np.asarray(keep, bool) & ~np.asarray(is_fashion, bool)
    return pd.Series(np.asarray(labels)[mask]).value_counts().rename("accepted non-fashion photos")
