"""The first question of notebook 11's modelling: with the ImageNet backbone frozen, how far does a linear classifier
on its pooled features go on real clothing photos, and which framing of a photo (centre square or padded) serves it
better? Decided on the validation split only (with a 95 % interval: 341 photos).

The backbone runs once per photo and framing (``helpers.training.cached_transfer``: features cached in
``data/cache/features``); the probe is a multinomial logistic regression (standardised features, L2 penalty
``1/C``) solved to a tight tolerance, so that its validation labels are the same on any CPU. The results go to ``results/clothing/probe.json``.
"""

from __future__ import annotations

import json

import numpy as np

from helpers.studies.clothing import config


def backbone_model(image_size: int | None = None, backbone_weights="imagenet"):
    """MobileNetV2 (frozen) -> pooling -> a softmax head for the ten classes (the head is not used by the probe)."""
    from helpers.models import saved_models

    size = image_size or config.IMAGE_SIZE
    return saved_models.build_model(config.NAME, "transfer", {"backbone": config.BACKBONE, "image_size": size},
                                    input_shape=(size, size, 3), backbone_weights=backbone_weights)


def pooled_features(data: dict, image_size: int | None = None, backbone_weights="imagenet", model=None) -> dict:
    """``{split: (pooled features float32 (N, 1280), y)}`` of ``data`` (``{split: (x uint8, y)}``), cached
    (``model``: a :func:`backbone_model` built once, when called many times)."""
    from helpers.training import cached_transfer

    size = image_size or config.IMAGE_SIZE
    model = model or backbone_model(size, backbone_weights)
    key = cached_transfer.weights_id(config.BACKBONE, backbone_weights)
    return {s: (cached_transfer.cached_features(model, config.BACKBONE, size, key, x, f"clothing_{s}",
                                                progress=False)[0], y) for s, (x, y) in data.items()}


def fit_probe(x, y, c: float, seed: int | None = None):
    """A standardised multinomial logistic regression, solved to a tight tolerance: ``(scaler, classifier)``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=c, max_iter=1000, tol=1e-6, solver="lbfgs",
                             random_state=config.SEED if seed is None else seed)
    return scaler, clf.fit(scaler.transform(x), y)


def run(framings=None, cs=None, backbone_weights="imagenet", image_size: int | None = None, path=None) -> dict:
    """Every framing x penalty, trained on the training split and scored on validation; saved to ``path``."""
    from helpers.core.results import write_json_if_changed
    from helpers.evaluation.metrics import proportion_interval
    from helpers.inputs import clothing_photos

    framings, cs = framings or config.FRAMINGS, cs or config.PROBE_C
    size = image_size or config.IMAGE_SIZE
    out = {"backbone": config.BACKBONE, "image_size": size, "runs": {}}
    model = backbone_model(size, backbone_weights)
    for framing in framings:
        data = clothing_photos.load_splits((size, size, 3), framing)
        feats = pooled_features({s: data[s] for s in ("train", "val")}, size, backbone_weights, model)
        (xt, yt), (xv, yv) = feats["train"], feats["val"]
        for c in cs:
            scaler, clf = fit_probe(xt, yt, c)
            right = int((clf.predict(scaler.transform(xv)) == yv).sum())
            lo, hi = proportion_interval(right, len(yv))
            out["runs"][f"{framing}, C={c:g}"] = {
                "framing": framing, "C": c, "val_accuracy": round(right / len(yv), 4), "val_right": right,
                "val_photos": len(yv), "val_low": round(lo, 4), "val_high": round(hi, 4),
                "train_accuracy": round(float((clf.predict(scaler.transform(xt)) == yt).mean()), 4)}
    best = max(out["runs"], key=lambda k: (out["runs"][k]["val_accuracy"], -out["runs"][k]["C"]))
    out["best"] = best
    write_json_if_changed(path or config.PROBE_JSON, out, indent=1)
    return out


def load(path=None) -> dict:
    path = path or config.PROBE_JSON
    return json.loads(path.read_text()) if path.is_file() else {}
