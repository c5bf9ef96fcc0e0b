"""Evidence against noise, for notebook 08 and the flower report: 95 % intervals of test accuracies, McNemar's exact
test for two saved models on the same test photos, and validation verdicts that count only what several seeds
support (a single-seed difference, or one inside the seeds' spread, is "within noise")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from helpers.core.errors import HelpersError
from helpers.studies.flowers import config


def standard_error(accuracy: float, n: int) -> float:
    """One binomial standard error of an accuracy measured on ``n`` photos, ``sqrt(p (1 - p) / n)``."""
    return float(np.sqrt(accuracy * (1 - accuracy) / n)) if n else float("nan")


def accuracy_bar(accuracy: float, n: int) -> float:
    """The smallest validation-accuracy gain that can count as a help: :data:`CLEAR_GAIN` or one standard error
    of ``accuracy`` on ``n`` photos, whichever is larger."""
    return max(config.CLEAR_GAIN, standard_error(accuracy, n))


def accuracy_interval(metrics: dict, level: float = 0.95) -> dict:
    """The Wilson interval of a recorded accuracy. ``metrics``: a record's split metrics (``accuracy``, ``n``).
    Returns ``{"accuracy", "correct", "n", "low", "high"}`` (``correct``: the photos classified right)."""
    from helpers.evaluation.metrics import proportion_interval

    n = int(metrics["n"])
    correct = round(metrics["accuracy"] * n)
    low, high = proportion_interval(correct, n, level)
    return {"accuracy": correct / n if n else float("nan"), "correct": correct, "n": n, "low": low, "high": high}


def seed_scores(runs: list[dict]) -> dict:
    """``{seed: (best validation loss, validation accuracy at that epoch)}`` of runs (one per seed)."""
    return {r["seed"]: (min(r["history"]["val_loss"]), r["history"]["val_accuracy"][r["best_epoch"] - 1]) for r in runs}


def _difference(a, b) -> tuple[float, float]:
    """Mean of ``b`` minus mean of ``a`` and the standard error of that difference (from the spreads; NaN with
    fewer than two values on a side)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    se = (float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))) if min(len(a), len(b)) > 1
          else float("nan"))
    return float(b.mean() - a.mean()), se


def compare_seeds(base_runs: list[dict], other_runs: list[dict], n_val: int) -> dict:
    """Does ``other`` beat ``base`` on validation? Each a list of runs (:func:`run`), one per seed; ``n_val``: the
    validation photos (for the accuracy bar, :func:`accuracy_bar`).

    Returns ``{"seeds", "loss_change", "loss_se", "accuracy_gain", "accuracy_se", "bar", "verdict"}``; ``verdict``:
    ``"better"`` with at least :data:`MIN_SEEDS` seeds on each side, a best validation loss lower by more than
    :data:`NOISE_SE` standard errors of the difference and a validation accuracy higher by at least the bar and
    by more than :data:`NOISE_SE` standard errors; ``"worse"`` with those seeds and a loss higher by more than
    :data:`NOISE_SE` standard errors; otherwise ``"within noise"`` (a tie).
    """
    a, b = seed_scores(base_runs), seed_scores(other_runs)
    seeds = min(len(a), len(b))
    dloss, loss_se = _difference([v[0] for v in a.values()], [v[0] for v in b.values()])
    gain, acc_se = _difference([v[1] for v in a.values()], [v[1] for v in b.values()])
    bar = accuracy_bar(float(np.mean([v[1] for v in a.values()])), n_val)
    enough = seeds >= config.MIN_SEEDS and np.isfinite(loss_se)
    loss_clear = enough and abs(dloss) > config.NOISE_SE * loss_se
    acc_clear = enough and gain >= bar and gain > config.NOISE_SE * acc_se
    verdict = ("better" if loss_clear and dloss < 0 and acc_clear else
               "worse" if loss_clear and dloss > 0 else "within noise")
    return {"seeds": seeds, "loss_change": dloss, "loss_se": loss_se, "accuracy_gain": gain, "accuracy_se": acc_se,
            "bar": bar, "verdict": verdict}


def test_photos() -> tuple[list[str], list[int]]:
    """The test split's files and labels, in the manifest's order (the order of ``load_splits()["test"]``)."""
    from helpers.inputs import flower_photos as photos

    _, rows, _ = photos.FOLDER.checked_manifest()
    test = [r for r in rows if r["split"] == "test"]
    return [r["file"] for r in test], [int(r["label"]) for r in test]


def test_predictions(names=None, recompute: bool = False, path: Path | None = None) -> dict:
    """Each saved model's predicted class for every test photo, made from its saved weights (no training).

    ``names``: saved models (default: those of :data:`SAVED_MODELS` that exist). Read from
    :data:`PREDICTIONS_JSON` unless ``recompute``, or a model is missing there, or its weights changed (sha256);
    new predictions are written back. Returns ``{"split", "files", "labels", "models": {name: {"sha256", "pred"}}}``.
    """
    from helpers.inputs import flower_photos as photos
    from helpers.models import saved_models, weights_store

    path = Path(path or config.PREDICTIONS_JSON)
    names = list(names or [n for n in config.SAVED_MODELS if weights_store.exists(n)])
    files, labels = test_photos()
    saved = json.loads(path.read_text()) if path.is_file() else {}
    models = dict(saved.get("models", {})) if (saved.get("files"), saved.get("labels")) == (files, labels) else {}
    tests, changed = {}, False
    for name in names:
        sha = weights_store.load_record(name)["sha256"]
        if not recompute and models.get(name, {}).get("sha256") == sha:
            continue
        model, record = saved_models.load(name)
        shape = tuple(record["input_shape"])
        x, y = tests.setdefault(shape, photos.load_splits(shape)["test"])
        if y.tolist() != labels:
            raise HelpersError("the cached test photos are not the manifest's: delete data/cache/images and rerun")
        models[name] = {"sha256": record["sha256"],
                        "pred": saved_models.predict_proba(model, x).argmax(axis=1).tolist()}
        changed = True
    out = {"split": "test", "files": files, "labels": labels, "models": dict(sorted(models.items()))}
    if changed or not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=None, separators=(",", ":")) + "\n")
    return {**out, "models": {n: models[n] for n in names}}


def load_predictions(path: Path | None = None) -> dict | None:
    """The saved test predictions (:func:`test_predictions`), or ``None`` when there are none."""
    path = Path(path or config.PREDICTIONS_JSON)
    return json.loads(path.read_text()) if path.is_file() else None


def test_evidence(predictions: dict, records: dict, base: str | None = None) -> dict:
    """Every model's test accuracy with its 95 % Wilson interval, and each model against ``base`` on the same
    test photos by McNemar's exact test.

    ``predictions``: :func:`test_predictions`' output; ``records``: ``{name: weight record}`` (their sha256 must be
    those the predictions were made with, and the predictions must give the recorded test accuracy).
    Returns ``{"models": [{"name", "accuracy", "correct", "n", "low", "high"}], "pairs": [{"base", "name",
    "only_base", "only_other", "gain", "p_value", "significant"}]}``.
    """
    base = config.RECOMMENDED if base is None else base
    from helpers.studies.binary import mcnemar

    y = np.asarray(predictions["labels"])
    preds, models = {}, []
    for name, record in records.items():
        saved = predictions["models"].get(name)
        if saved is None or saved["sha256"] != record["sha256"]:
            raise HelpersError(f"the test predictions of {name} are missing or stale: rerun notebook 08 "
                               "(flowers.test_predictions(recompute=True))")
        preds[name] = np.asarray(saved["pred"])
        row = {"name": name, **accuracy_interval({"accuracy": float(np.mean(preds[name] == y)), "n": len(y)})}
        if row["correct"] != accuracy_interval(record["metrics"]["test"])["correct"]:
            raise HelpersError(f"{name}'s saved test predictions do not give its recorded test accuracy")
        models.append(row)
    pairs = []
    for name in (n for n in records if n != base and base in records):
        m = mcnemar(y, preds[base], preds[name])
        pairs.append({"base": base, "name": name, "only_base": m["only A right"], "only_other": m["only B right"],
                      "gain": float(np.mean(preds[name] == y) - np.mean(preds[base] == y)), "p_value": m["p-value"],
                      "significant": bool(m["p-value"] < config.ALPHA)})
    return {"models": models, "pairs": pairs}
