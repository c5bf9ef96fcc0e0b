"""What the deployed Fashion-MNIST model does with real clothing photos (notebook 11's evaluation that sends the
project back to data understanding).

Each photo goes through exactly what ``helpers.predict --task fashion`` does to it (grey, padded and shrunk to
28 x 28, the deployed model, its temperature, its rejection rule). Per photo class: how many photos, the label the
model gives most, the share each label gets, the share the rejection rule keeps, and the share right at the offer
level (:data:`~helpers.studies.clothing.config.PHOTO_OFFER` against
:data:`~helpers.studies.clothing.config.FASHION_OFFER`). Saved to ``results/clothing/thumbnail_model.json``.
"""

from __future__ import annotations

import json

import numpy as np

from helpers.studies.clothing import config


def photo_inputs(split: str = "val"):
    """``(rows, x_fashion (N, 28, 28, 1) uint8)`` of our ``split`` of the clothing photos (``rows``: the manifest's
    rows of that split), each photo prepared the way the fashion task prepares an upload."""
    from helpers.inputs import clothing_photos, tasks
    from helpers.inputs.images import open_rgb

    _, rows = clothing_photos.checked_manifest()
    root = clothing_photos.dataset_dir()
    rows = [r for r in rows if r["split"] == split]
    prepare = tasks.get("fashion").prepare
    return rows, np.stack([prepare(open_rgb(root / r["file"])) for r in rows]).astype(np.uint8)


def outcomes(split: str = "val", model_name: str | None = None):
    """One row per photo: true class, the thumbnail model's label and calibrated confidence, whether the rejection
    rule keeps it, whether the label is right at the offer level; and the inputs (a ``DataFrame``, ``x``)."""
    import pandas as pd

    from helpers.evaluation import out_of_domain
    from helpers.evaluation.temperature import apply_temperature
    from helpers.inputs import tasks
    from helpers.models.saved_models import load, predict_proba, temperature_of
    from helpers.serving.classify import best_model_name

    name = model_name or best_model_name("fashion")
    model, record = load(name)
    names = tasks.get("fashion").class_names
    rows, x = photo_inputs(split)
    p = apply_temperature(predict_proba(model, x), temperature_of(record))
    rule, maha = out_of_domain.load_rule(name)
    keep = out_of_domain.score_inputs(model, rule, maha, x)[1] if rule else np.ones(len(x), bool)
    label = [names[i] for i in p.argmax(1)]
    table = pd.DataFrame({"file": [r["file"] for r in rows], "class": [r["class"] for r in rows], "label": label,
                          "confidence": p.max(1).round(3), "kept": keep})
    table["offer right"] = [config.PHOTO_OFFER[c] is not None and config.PHOTO_OFFER[c] == config.FASHION_OFFER[lab]
                            for c, lab in zip(table["class"], table["label"])]
    return table, x, name


def run(split: str = "val", model_name: str | None = None, path=None, table=None, name: str | None = None) -> dict:
    """Per class and overall: photos, the commonest label and its share, the share of each label, the share kept
    by the rejection rule, the share right at the offer level. Written to ``path`` when its content changed.
    ``table`` and ``name``: :func:`outcomes` already computed (else computed here)."""
    from helpers.core.results import write_json_if_changed

    if table is None:
        table, _, name = outcomes(split, model_name)
    out = {"model": name, "split": split, "photos": int(len(table)), "kept": int(table["kept"].sum()),
           "offer_right": int(table["offer right"].sum()), "labels": _shares(table["label"]), "classes": {}}
    for c, g in table.groupby("class", sort=True):
        shares = _shares(g["label"])
        out["classes"][c] = {"photos": int(len(g)), "top_label": next(iter(shares)), "labels": shares,
                             "kept": int(g["kept"].sum()), "offer_right": int(g["offer right"].sum()),
                             "offer": config.PHOTO_OFFER[c]}
    write_json_if_changed(path or config.THUMBNAIL_JSON, out, indent=1)
    return out


def _shares(labels) -> dict:
    counts = labels.value_counts()
    return {k: round(int(counts[k]) / len(labels), 4) for k in sorted(counts.index, key=lambda k: (-counts[k], k))}


def load(path=None) -> dict:
    path = path or config.THUMBNAIL_JSON
    return json.loads(path.read_text()) if path.is_file() else {}
