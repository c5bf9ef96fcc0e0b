"""The clothing-photo model's rejection rule: is an upload a photo of clothes at all?

Candidates (``config.REJECTION_SCORES``): one minus the calibrated top probability, the energy of the logits, the
Mahalanobis distance of the pooled features to the nearest class mean (class means and shared covariance fitted
on our training photos), and a logistic-regression detector (``out_of_domain.fit_detector``) fitted to tell our
training photos and the gear garments from two kinds of junk: the non-clothing gear photos of the gear manifest's
``train`` split (catalogue products on white), and our training photos scrambled (``photo_views.scrambled``: their
tiles shuffled, so the background of an upload stays and the garment goes; ``config.SCRAMBLED_JUNK``). With gear
junk alone, the detector learnt "a product on white", not "not clothing", and let half of the never-seen flower
photos through (round one).
Each candidate's threshold keeps ``config.KEEP`` of the validation clothing photos. The score that rejects the most
non-clothing gear photos of that ``train`` split is chosen; the detector's figure there is out of fold (each photo
scored by a detector fitted without it), so that it is not measured on what it was fitted to. Reported on what chose nothing: the other gear photos, and the flower photos, the never-seen junk test
(nothing is fitted or chosen on them). The gear photos that are clothes (boots, jackets) should be kept and
labelled as shoes or outwear: measured too. Photos go in the way ``helpers.predict --task clothing`` takes them.

Results go to ``results/clothing/rejection.json`` (and each set's scores to ``rejection_scores.npz``, for the
notebook's histogram); the rule to ``results/error_analysis/rejection_rule_<model>.json`` (+ ``.npz``: its fit),
where ``helpers.predict`` and the offers pipeline find it.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from helpers.studies.clothing import config


def _outputs(model, record: dict, x, features=None):
    """``(logits, features)`` of ``x``, cached in ``data/cache/clothing_outputs`` by weights and images."""
    from helpers.core import paths
    from helpers.evaluation import out_of_domain

    key = hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()[:10]
    path = paths.data_dir() / "cache" / "clothing_outputs" / f"{record['sha256'][:12]}_{key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return z["logits"], z["features"]
    logits, feats = out_of_domain.logits_and_features(model, x, batch_size=64, features=features)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, logits=logits, features=feats)
    return logits, feats


def photo_sets(size: int):
    """The photos the rule is fitted and measured on, as the clothing task prepares uploads:
    ``{"train", "val", "test"}`` (our clothing splits), ``"scrambled"`` (with ``config.SCRAMBLED_JUNK``: the
    training photos scrambled, labelled -1: junk), ``"gear"`` (``(x, table)``, every gear photo) and ``"flowers"`` (every flower photo)."""
    import pandas as pd

    from helpers.inputs import clothing_photos, flower_photos
    from helpers.inputs.images import open_rgb
    from helpers.studies import gear

    data = clothing_photos.load_splits((size, size, 3))
    prepare = clothing_photos.TASK.prepare
    table = pd.read_csv(gear.ensure_manifest())[["file", "class", "split"]]
    root = gear.dataset_dir()
    x_gear = np.stack([prepare(open_rgb(root / f), (size, size, 3)) for f in table["file"]])
    files = pd.read_csv(flower_photos.ensure_manifest())["file"].tolist()
    froot = flower_photos.dataset_dir()
    x_flowers = np.stack([prepare(open_rgb(froot / f), (size, size, 3)) for f in files])
    sets = {**data, "gear": (x_gear, table), "flowers": (x_flowers, None)}
    if config.SCRAMBLED_JUNK:
        from helpers.inputs.photo_views import scrambled

        x_scrambled = scrambled(data["train"][0], grids=config.SCRAMBLE_GRIDS, seed=config.SEED)
        sets["scrambled"] = (x_scrambled, np.full(len(x_scrambled), -1))
    return sets


def _detector_rows(outs: dict, fit_part, garment):
    """The detector's fitting rows: ``(logits, features, is_clothing, groups)`` of our training photos, their
    scrambled copies (junk; with ``config.SCRAMBLED_JUNK``) and the gear photos of the fitting part (garments count
    as clothing); the gear photos come last."""
    lg, fg = outs["gear"][0][fit_part], outs["gear"][1][fit_part]
    n = len(outs["train"][0])
    sets = [(outs["train"], True, "clothing photos")]
    if config.SCRAMBLED_JUNK:
        sets.append((outs["scrambled"], False, "scrambled photos"))
    logits = np.concatenate([o[0] for o, _, _ in sets] + [lg])
    feats = np.concatenate([o[1] for o, _, _ in sets] + [fg])
    is_in = np.concatenate([np.full(len(o[0]), v) for o, v, _ in sets] + [garment[fit_part]])
    groups = np.concatenate([np.full(len(o[0]), g) for o, _, g in sets]
                            + [np.where(garment[fit_part], "gear garments", "gear, not clothing")])
    assert len(logits) == n * len(sets) + len(lg)
    return logits, feats, is_in, groups


def _out_of_fold(rows, maha) -> np.ndarray:
    """The detector's score of each gear fitting photo by a detector fitted without it (stratified folds)."""
    from sklearn.model_selection import StratifiedKFold

    from helpers.evaluation import out_of_domain

    logits, feats, is_in, groups = rows
    n_fixed = int(np.isin(groups, ["clothing photos", "scrambled photos"]).sum())  # in every fold's fit
    gear = np.arange(n_fixed, len(groups))
    oof = np.full(len(gear), np.nan)
    for tr, te in StratifiedKFold(config.DETECTOR_FOLDS, shuffle=True, random_state=config.SEED).split(gear, groups[gear]):
        mask = np.r_[np.arange(n_fixed), gear[tr]]
        fit = {**maha, **out_of_domain.fit_detector(logits[mask], feats[mask], is_in[mask], groups[mask], maha,
                                                    config.DETECTOR_C)}
        oof[te] = out_of_domain.detector_score(fit, logits[gear[te]], feats[gear[te]])
    return oof


def _share(k: int, n: int) -> dict:
    from helpers.evaluation.metrics import proportion_interval

    lo, hi = proportion_interval(k, n)
    return {"count": int(k), "of": int(n), "share": round(k / n, 4) if n else None, "low": round(lo, 4),
            "high": round(hi, 4)}


def _without_scrambled(rows, fit: dict, outs: dict, gear_reported) -> dict:
    """Round one's detector, fitted on the gear junk alone (no scrambled photos), at the same share of validation
    photos kept: what the scrambled photos change, on the same reported sets."""
    from helpers.evaluation import out_of_domain

    logits, feats, is_in, groups = rows
    own = groups != "scrambled photos"
    alone = {**fit, **out_of_domain.fit_detector(logits[own], feats[own], is_in[own], groups[own], fit,
                                                 config.DETECTOR_C)}
    rule = out_of_domain.fit_rule("detector", out_of_domain.detector_score(alone, *outs["val"]), keep=config.KEEP)
    keep = {s: out_of_domain.in_domain(rule, out_of_domain.detector_score(alone, *outs[s]))
            for s in ("val", "test", "gear", "flowers")}
    return {"threshold": rule["threshold"], "val_kept": _share(int(keep["val"].sum()), len(keep["val"])),
            "test_kept": _share(int(keep["test"].sum()), len(keep["test"])),
            "gear_junk_rejected": _share(int((~keep["gear"][gear_reported]).sum()), int(gear_reported.sum())),
            "flowers_rejected": _share(int((~keep["flowers"]).sum()), len(keep["flowers"]))}


def run(model_name: str | None = None, sets: dict | None = None, path=None) -> dict:
    """Fit, choose, report and save the rule (see the module docstring); returns the results."""
    from helpers.core.results import write_arrays_if_changed, write_json_if_changed
    from helpers.evaluation import out_of_domain
    from helpers.inputs import clothing_photos
    from helpers.models.saved_models import load, temperature_of

    name = model_name or config.FINAL_NAME
    model, record = load(name)
    size = int(record["input_shape"][0])
    sets = sets or photo_sets(size)
    t = temperature_of(record)
    features = out_of_domain.feature_model(model)
    parts = ("train", "val", "test", "gear", "flowers") + (("scrambled",) if config.SCRAMBLED_JUNK else ())
    outs = {s: _outputs(model, record, sets[s][0], features) for s in parts}
    n_classes = len(clothing_photos.CLASS_NAMES)
    maha = out_of_domain.mahalanobis_fit(outs["train"][1], sets["train"][1], n_classes)
    table = sets["gear"][1]
    garment = table["class"].isin(list(config.GEAR_AS_CLOTHING)).to_numpy()
    fit_part = table["split"].isin(list(config.GEAR_FIT_SPLITS)).to_numpy()
    rows = _detector_rows(outs, fit_part, garment)
    if "detector" in config.REJECTION_SCORES:
        maha = {**maha, **out_of_domain.fit_detector(*rows, maha, config.DETECTOR_C)}
    scores = {s: out_of_domain.all_scores(*outs[s], maha, t) for s in outs}
    fit_junk = fit_part & ~garment
    candidates = {}
    for kind in config.REJECTION_SCORES:
        rule = out_of_domain.fit_rule(kind, scores["val"][kind], keep=config.KEEP)
        judged = scores["gear"][kind][fit_junk] if kind != "detector" else _out_of_fold(rows, maha)[fit_junk[fit_part]]
        junk = ~out_of_domain.in_domain(rule, judged)
        candidates[kind] = {"threshold": rule["threshold"], "gear_junk_rejected_fit": _share(int(junk.sum()), len(junk))}
    chosen = max(config.REJECTION_SCORES, key=lambda k: (candidates[k]["gear_junk_rejected_fit"]["count"], k == "mahalanobis"))
    rule = out_of_domain.fit_rule(chosen, scores["val"][chosen], keep=config.KEEP,
                                  fitted_on="our clothing training photos (Mahalanobis fit; the detector with the gear "
                                            "photos of the gear manifest's train split"
                                            + (" and the training photos scrambled" if config.SCRAMBLED_JUNK else "")
                                            + "); threshold on validation; "
                                            "score chosen on the gear manifest's train split")
    rule, saved_fit = out_of_domain.save_rule(name, rule, maha if chosen in out_of_domain.FITTED_SCORES else None, t)
    fit = saved_fit if saved_fit is not None else maha  # the rule's fit as it is on disk, where it has one
    keep = {s: out_of_domain.in_domain(rule, out_of_domain.all_scores(*outs[s], fit, t)[chosen]) for s in outs}
    names = clothing_photos.CLASS_NAMES
    pred_gear = outs["gear"][0].argmax(1)
    report = {
        "model": name, "score": chosen, "threshold": rule["threshold"], "keep_target": config.KEEP,
        "candidates": candidates,
        "val_kept": _share(int(keep["val"].sum()), len(keep["val"])),
        "test_kept": _share(int(keep["test"].sum()), len(keep["test"])),
        "val_kept_by_class": {c: _share(int(keep["val"][sets["val"][1] == i].sum()), int((sets["val"][1] == i).sum()))
                              for i, c in enumerate(names)},
        "gear_junk_rejected": _share(int((~keep["gear"][~fit_part & ~garment]).sum()), int((~fit_part & ~garment).sum())),
        "flowers_rejected": _share(int((~keep["flowers"]).sum()), len(keep["flowers"])),
        "gear_junk_rejected_by_class": {}, "gear_garments": {}}
    for cls in sorted(set(table["class"])):
        m = (table["class"] == cls).to_numpy() & ~fit_part
        if cls in config.GEAR_AS_CLOTHING:
            right = keep["gear"][m] & (pred_gear[m] == names.index(config.GEAR_AS_CLOTHING[cls]))
            report["gear_garments"][cls] = {"expected": config.GEAR_AS_CLOTHING[cls],
                                            "kept": _share(int(keep["gear"][m].sum()), int(m.sum())),
                                            "kept_and_right": _share(int(right.sum()), int(m.sum()))}
        else:
            report["gear_junk_rejected_by_class"][cls] = _share(int((~keep["gear"][m]).sum()), int(m.sum()))
    if config.SCRAMBLED_JUNK and "detector" in config.REJECTION_SCORES:
        report["detector_without_scrambled"] = _without_scrambled(rows, maha, outs, ~fit_part & ~garment)
    write_json_if_changed(path or config.REJECTION_JSON, report, indent=1)
    write_arrays_if_changed(config.RESULTS_DIR / "rejection_scores.npz",
                            {"val": scores["val"][chosen].astype(np.float32),
                             "gear_junk": scores["gear"][chosen][~garment].astype(np.float32),
                             "flowers": scores["flowers"][chosen].astype(np.float32)})
    return report


def load(path=None) -> dict:
    path = path or config.REJECTION_JSON
    return json.loads(path.read_text()) if path.is_file() else {}
