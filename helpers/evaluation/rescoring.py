"""Saved models scored again: the logic of ``python -m helpers.evaluate`` and of the notebooks' reproduction lines.

:func:`evaluate_saved` rebuilds a saved model and scores it on a split of its task (``--check`` compares with the
record: :func:`differences`); :func:`save_test_labels` and :func:`check_on_sample` keep a slow model's test labels and
check it on a sample (:mod:`helpers.evaluation.reproduction` judges); :func:`reproduction_lines` gives the one line
per model that notebooks print. Models are loaded through :mod:`helpers.models.saved_models` (the layer below).
"""

from __future__ import annotations

from helpers.core.errors import HelpersError
from helpers.evaluation import metrics, reproduction
from helpers.inputs import tasks
from helpers.models import weights_store
from helpers.models.saved_models import (
    average_probabilities,
    check_members,
    load,
    predict_proba,
)

#: The recorded metrics ``--check`` compares.
CHECKED = ("accuracy", "loss", "macro_f1")


def evaluate_saved(name: str, split: str = "test") -> dict:
    """``{"name", "task", "split", "metrics", "recorded"}`` for a saved model."""

    model, record = load(name)
    data = tasks.get(record["task"]).splits(record.get("input_shape"))
    if split not in data:
        raise HelpersError(f"task {record['task']!r} has no split {split!r}; splits: {sorted(data)}")
    x, y = data[split]
    result = {"name": name, "task": record["task"], "split": split,
              "metrics": metrics.classification_metrics(y, predict_proba(model, x)),
              "recorded": record.get("metrics", {}).get(split)}
    if "members" in record:  # an ensemble: its members must still be the models it was made of
        result["member_problems"] = check_members(record)
    return result


def _model_and_test(name: str):

    model, record = load(name)
    x, y = tasks.get(record["task"]).splits(record.get("input_shape"))["test"]
    return model, record, x, y


def save_test_labels(name: str) -> dict:
    """Predict every test image with saved model ``name`` (through the whole network) and keep the labels for
    sampled checks, if they reproduce the recorded accuracy (:func:`helpers.evaluation.reproduction.keep_test_labels`)."""

    model, record, x, y = _model_and_test(name)
    return reproduction.keep_test_labels(name, record, predict_proba(model, x).argmax(1), y)


def check_on_sample(name: str, size: int | None = None) -> dict | None:
    """Saved model ``name`` checked from its kept test labels and a fixed sample of test images pushed through the
    whole network again (:func:`helpers.evaluation.reproduction.sampled_verdict`); ``None`` when no labels are kept
    for these weights."""
    import logging


    model, record, x, y = _model_and_test(name)
    kept = reproduction.saved_test_labels(name, record)
    if kept is None:
        return None
    idx = reproduction.sample(len(y), size or reproduction.SAMPLE_SIZE)
    tf_log = logging.getLogger("tensorflow")   # a sample after a full pass retraces the predict step: a notice per model
    level = tf_log.level
    tf_log.setLevel(logging.ERROR)
    try:
        again = predict_proba(model, x[idx]).argmax(1)
    finally:
        tf_log.setLevel(level)
    return reproduction.sampled_verdict(name, record, kept, y, idx, again)


def reproduction_lines(names, sampled=(), proba: dict | None = None, tolerance: float = 5e-4) -> list[str]:
    """Each saved model of ``names`` scored again on its test split, one line each: ``NAME test accuracy A (recorded
    R) -> reproduced`` (or ``-> DIFFERENT``; ``tests/test_saved_models.py`` reads these lines in notebooks). An
    ensemble from its members' outputs, a transfer model through :func:`evaluate_saved`, a model of ``sampled`` by
    :func:`check_on_sample` (its kept labels and a re-predicted sample), any other network through the whole network.
    ``proba``: test probabilities already computed (``{name: array}``), filled as models are scored."""

    proba = {} if proba is None else proba

    def outputs(name):
        if name not in proba:
            model, record = load(name)
            proba[name] = predict_proba(model, tasks.get(record["task"]).splits(record.get("input_shape"))["test"][0])
        return proba[name]

    lines = []
    for name in names:
        rec = weights_store.load_record(name)
        recorded, note = rec["metrics"]["test"]["accuracy"], ""
        y = tasks.get(rec["task"]).splits(rec.get("input_shape"))["test"][1]
        if name in sampled:
            r = check_on_sample(name)
            again, ok = r["accuracy"], r["reproduced"]
            note = f" from kept labels, {r['disagree']} of {r['sample']:,} re-predicted images differ"
        else:
            if rec["architecture"] == "ensemble":
                if check_members(rec):
                    raise HelpersError(f"{name}: {check_members(rec)}")
                again = metrics.classification_metrics(y, average_probabilities(
                    [outputs(m["name"]) for m in rec["members"]]))["accuracy"]
            elif rec["architecture"] == "transfer":
                again = evaluate_saved(name)["metrics"]["accuracy"]
            else:
                again = float((outputs(name).argmax(1) == y).mean())
            ok = abs(again - recorded) < tolerance
        lines.append(f"{name:34s} test accuracy {again:.4f}{note} (recorded {recorded:.4f})"
                     + (" -> reproduced" if ok else " -> DIFFERENT"))
    return lines


def differences(result: dict, tolerance: float) -> list[str]:
    recorded = result.get("recorded")
    if not recorded:
        return [f"{result['name']}: no recorded {result['split']} metrics to check against"]
    out = [f"{result['name']}: {p}" for p in result.get("member_problems", [])]
    for k in CHECKED:
        if k in recorded and abs(result["metrics"][k] - recorded[k]) > tolerance:
            out.append(f"{result['name']}: {result['split']} {k} is {result['metrics'][k]}, recorded {recorded[k]}")
    return out
