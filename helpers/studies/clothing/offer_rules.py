"""Offer rules for photos: which photo classes offer what, the confidence each needs, written to the same versioned
rule file as notebook 06's (``results/offers/rules_<model>.json``, read by ``helpers.offers``).

Decided on the validation split only, the way notebook 06 decides (:mod:`helpers.studies.launch`): a category's
threshold is the lowest calibrated confidence (0.001 steps) at which its validation precision reaches
``launch.TARGET``; the upper-body garments merge into one ``tops`` offer; pants and shoes are offered as the site's
``trousers`` and ``footwear``; any other category launches when its threshold still labels ``launch.MIN_COVERAGE``
of its validation photos (amber within the noise margin), and is held otherwise. The new categories (hat, shorts,
skirt) pass the same bar.
"""

from __future__ import annotations

import numpy as np

from helpers.studies.clothing import config


def validation_outputs(model_name: str | None = None, data: dict | None = None):
    """``(y_val, calibrated probabilities)`` of the saved photo model on validation."""
    from helpers.evaluation.temperature import apply_temperature
    from helpers.inputs import clothing_photos
    from helpers.models.saved_models import load, predict_proba, temperature_of

    model, record = load(model_name or config.FINAL_NAME)
    size = int(record["input_shape"][0])
    x, y = (data or clothing_photos.load_splits((size, size, 3)))["val"]
    return y, apply_temperature(predict_proba(model, x, batch_size=64), temperature_of(record))


def status(y_val, p_val):
    """Per category: threshold, validation precision and coverage, margin, status, light, reason, and the offer it
    feeds (``None`` when held)."""
    from helpers.inputs.clothing_photos import CLASS_NAMES
    from helpers.studies import launch
    from helpers.studies.error_analysis import threshold_for_precision

    rows = []
    for i, c in enumerate(CLASS_NAMES):
        t, prec, cov = threshold_for_precision(y_val, p_val, i, launch.TARGET)
        rows.append({"class": c, "threshold": t, "val precision": prec, "val coverage": cov})
    import pandas as pd

    points = pd.DataFrame(rows).set_index("class")
    counts = {c: int((np.asarray(y_val) == i).sum()) for i, c in enumerate(CLASS_NAMES)}
    in_group = launch.in_group_errors(y_val, np.asarray(p_val).argmax(1), CLASS_NAMES, config.TOPS)
    table = launch.category_status(points, counts, CLASS_NAMES, in_group, tops=config.TOPS)
    renamed = {c: offer for offer, members in config.RENAMED.items() for c in members}
    table["offer"] = [("tops" if s == "merge into tops" else renamed.get(c, c)) if s != "hold" else None
                      for c, s in zip(table.index, table["status"])]
    return table


def rule_set(model_name: str, table) -> dict:
    """The rule file's content for ``model_name`` from :func:`status`'s table."""
    from helpers.inputs.clothing_photos import CLASS_NAMES
    from helpers.serving import rules
    from helpers.studies import launch

    merge: dict = {}
    launched, held = [], []
    for c in CLASS_NAMES:
        offer, s = table.loc[c, "offer"], table.loc[c, "status"]
        if s == "hold":
            held.append(c)
        elif offer == c:
            launched.append(c)
        else:
            merge.setdefault(offer, []).append(c)
    thresholds = {c: (1.0 + 1e-6 if table.loc[c, "threshold"] is None else table.loc[c, "threshold"]) for c in CLASS_NAMES}
    offered = launched + sorted(merge)
    return rules.build_rules(
        model_name, CLASS_NAMES, thresholds=thresholds, launch=launched, merge=merge, hold=held,
        min_images={o: config.MIN_IMAGES for o in offered}, rejection_rule="clothing",
        decided_on=f"thresholds and status: validation split of the clothing photos ({launch.TARGET:.0%} precision, "
                   f"{launch.MIN_COVERAGE:.0%} coverage); rejection rule: notebook 11 (clothing training photos, "
                   f"validation threshold, gear photos' train split); {config.MIN_IMAGES} counted photos per offer "
                   "(a stated default)")


def write(model_name: str | None = None, table=None) -> dict:
    """Decide on validation and write the versioned rule file; returns the rules as written."""
    import json

    from helpers.serving import rules

    name = model_name or config.FINAL_NAME
    if table is None:
        table = status(*validation_outputs(name))
    return json.loads(rules.write_rules(rule_set(name, table)).read_text())  # same decisions: same file
