"""The clothing-photo model that is kept: the fine-tuning run chosen on validation, saved with its record,
calibrated, and scored once on our test split.

:func:`choose` picks the run with the most validation photos right (a tie: the lower validation loss at its best
epoch); :func:`mirror_verdict` says whether averaging the photo's and its mirror image's probabilities is better
than the photo alone on validation (exact McNemar test on the photos where they disagree: it doubles the serving
cost, so it must be clearly better). :func:`save` turns the chosen run's weights (kept by
:mod:`~helpers.studies.clothing.fine_tune`; trained again, deterministically, when that cache is gone) into
``weights/clothing_mobilenet_v2``, scores validation and, once, test, and fits the temperature on validation.
"""

from __future__ import annotations

import numpy as np

from helpers.studies.clothing import config, fine_tune


def choose(runs: dict | None = None) -> str:
    runs = fine_tune.load_runs() if runs is None else runs
    if not runs:
        raise ValueError("no fine-tuning run saved yet: run helpers.studies.clothing.fine_tune.run() first")

    def rank(k):
        r = runs[k]
        return (r["plain"]["val_right"], -r["history"]["val_loss"][r["best_epoch"] - 1])

    return max(sorted(runs), key=rank)


def mcnemar(y, proba_a, proba_b) -> dict:
    """Paired comparison of two sets of predictions of the same photos: photos only ``a`` gets right, only ``b``
    gets right, and the exact two-sided p-value of the difference."""
    from scipy.stats import binomtest

    y = np.asarray(y)
    a, b = np.asarray(proba_a).argmax(1) == y, np.asarray(proba_b).argmax(1) == y
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    p = binomtest(only_b, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    return {"only_a": only_a, "only_b": only_b, "p_value": round(float(p), 4)}


def mirror_verdict(key: str, level: float = 0.05) -> dict:
    """Test-time mirroring against the photo alone, for run ``key``, on validation (:func:`mcnemar`)."""
    with np.load(fine_tune.outputs_path(key)) as z:
        y, plain, mirror = z["y"], z["plain"], z["mirror"]
    m = mcnemar(y, plain, mirror)
    return {**m, "adopt": bool(m["only_b"] > m["only_a"] and m["p_value"] < level)}


def save(key: str | None = None, retrain: bool = False, name: str | None = None, data: dict | None = None,
         backbone_weights="imagenet"):
    """The chosen run as the saved, calibrated model ``name``; loaded when saved, unless ``retrain``.
    Returns ``(model, record)``."""
    from helpers.evaluation.metrics import classification_metrics
    from helpers.inputs import clothing_photos
    from helpers.models import saved_models, weights_store
    from helpers.training import calibration

    name = name or config.FINAL_NAME
    key = key or choose()
    earlier = weights_store.load_record(name) if weights_store.exists(name) else None
    if not retrain and earlier is not None:
        if earlier.get("notes", {}).get("run") != key:
            from helpers.core.errors import HelpersError

            raise HelpersError(f"the saved {name!r} is run {earlier.get('notes', {}).get('run')!r}, but validation now "
                               f"chooses {key!r}: set RETRAIN = True to save the chosen run (its test score is then "
                               "taken once more, for the new final model), or restore weights/ and results/ from git.")
        return saved_models.load(name)
    r = fine_tune.load_runs()[key]
    settings = {k: r[k] for k in ("tail", "views", "epochs", "learning_rate", "seed", "batch_size")}
    if not fine_tune.weights_cache(key).is_file():
        fine_tune.run(**settings, retrain=True, data=data, backbone_weights=backbone_weights)
    size = int(r["image_size"])
    data = data or clothing_photos.load_splits((size, size, 3))
    model = fine_tune.build(r["tail"], size, backbone_weights)
    model.load_weights(fine_tune.weights_cache(key))
    proba_val = saved_models.predict_proba(model, data["val"][0], batch_size=64)
    proba_test = saved_models.predict_proba(model, data["test"][0], batch_size=64)  # the one test score
    record = {
        "task": config.NAME, "architecture": "transfer", "hparams": fine_tune.hparams(r["tail"], size),
        "input_shape": [size, size, 3],
        "training": {"optimizer": "adam", "learning_rate": r["learning_rate"], "batch_size": r["batch_size"],
                     "max_epochs": r["epochs"], "epochs_run": r["epochs"], "best_epoch": r["best_epoch"],
                     "early_stopping_patience": None, "monitor": "val_loss", "seed": r["seed"],
                     "loss": "sparse_categorical_crossentropy", "seconds": r["seconds"],
                     "train_size": r["train_images"], "val_size": r["val_photos"]},
        "params": int(model.count_params()), "history": r["history"],
        "metrics": {"val": classification_metrics(data["val"][1], proba_val),
                    "test": classification_metrics(data["test"][1], proba_test)},
        "notes": {"accelerated": "trained on cached backbone activations (tail inputs)", "run": key,
                  "training_images": f"{len(data['train'][1])} training photos, their mirror images and "
                                     f"{r['views']} augmented views of each", "framing": clothing_photos.FRAMING,
                  "backbone_weights": _weights_key(backbone_weights),
                  "earlier_final_models": _earlier(earlier, key)}}
    weights_store.save(name, model, record)
    record = calibration.store(name, {**calibration.calibration_record(data["val"][1], proba_val),
                                      "fitted_on": "val (the selection run's own model: no refit)"})
    return model, record


def _earlier(record: dict | None, key: str) -> list:
    """The final models saved before this one under the same name, each with the test score it got: every use of
    the test split stays on record (a new final model is scored on test once more)."""
    if record is None:
        return []
    notes = record.get("notes", {})
    past = list(notes.get("earlier_final_models", []))
    if notes.get("run") not in (None, key) and "test" in record.get("metrics", {}):
        past.append({"run": notes["run"], "test_accuracy": round(float(record["metrics"]["test"]["accuracy"]), 4),
                     "val_accuracy": round(float(record["metrics"]["val"]["accuracy"]), 4)})
    return past


def _weights_key(backbone_weights) -> str:
    from helpers.training import cached_transfer

    return cached_transfer.weights_id(config.BACKBONE, backbone_weights)
