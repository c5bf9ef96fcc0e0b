"""Rebuild a saved model, score it on its task's test split, and print the metrics as JSON.

    python -m helpers.evaluate NAME [--split test] [--check] [--tolerance 0.0005]
    python -m helpers.evaluate --all --check
    python -m helpers.evaluate NAME --save-test-labels    # keep its test labels for sampled checks (evaluation.reproduction)

``--check`` exits 1 when a metric differs from the one recorded in ``weights/NAME.json`` by more
than the tolerance (so CI proves that every committed model still reproduces its numbers).
"""

from __future__ import annotations

import argparse
import json
import sys

from helpers.core import cli
from helpers.core.errors import HelpersError
from helpers.evaluation import metrics
from helpers.inputs import tasks
from helpers.models import weights_store

CHECKED = ("accuracy", "loss", "macro_f1")


def evaluate_saved(name: str, split: str = "test") -> dict:
    """``{"name", "task", "split", "metrics", "recorded"}`` for a saved model."""
    from helpers.models.saved_models import load, predict_proba

    model, record = load(name)
    data = tasks.get(record["task"]).splits(record.get("input_shape"))
    if split not in data:
        raise HelpersError(f"task {record['task']!r} has no split {split!r}; splits: {sorted(data)}")
    x, y = data[split]
    result = {"name": name, "task": record["task"], "split": split,
              "metrics": metrics.classification_metrics(y, predict_proba(model, x)),
              "recorded": record.get("metrics", {}).get(split)}
    if "members" in record:  # an ensemble: its members must still be the models it was made of
        from helpers.training.ensemble import check_members

        result["member_problems"] = check_members(record)
    return result


def _model_and_test(name: str):
    from helpers.models.saved_models import load

    model, record = load(name)
    x, y = tasks.get(record["task"]).splits(record.get("input_shape"))["test"]
    return model, record, x, y


def save_test_labels(name: str) -> dict:
    """Predict every test image with saved model ``name`` (through the whole network) and keep the labels for
    sampled checks, if they reproduce the recorded accuracy (:func:`helpers.evaluation.reproduction.keep_test_labels`)."""
    from helpers.evaluation import reproduction
    from helpers.models.saved_models import predict_proba

    model, record, x, y = _model_and_test(name)
    return reproduction.keep_test_labels(name, record, predict_proba(model, x).argmax(1), y)


def check_on_sample(name: str, size: int | None = None) -> dict | None:
    """Saved model ``name`` checked from its kept test labels and a fixed sample of test images pushed through the
    whole network again (:func:`helpers.evaluation.reproduction.sampled_verdict`); ``None`` when no labels are kept
    for these weights."""
    import logging

    from helpers.evaluation import reproduction
    from helpers.models.saved_models import predict_proba

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
    from helpers.models.saved_models import load, predict_proba
    from helpers.training.ensemble import average_probabilities, check_members

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


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help="saved model name(s) (weights/NAME.json)")
    ap.add_argument("--all", action="store_true", help="every saved model")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--check", action="store_true", help="exit 1 if metrics differ from the record")
    ap.add_argument("--tolerance", type=float, default=5e-4)
    ap.add_argument("--save-test-labels", action="store_true",
                    help="predict every test image and keep the labels (only if they reproduce the record), so that "
                         "notebooks can check the model on a sample (helpers.evaluation.reproduction)")
    args = ap.parse_args(argv)
    names = weights_store.list_names() if args.all else args.names
    if not names:
        ap.error("give at least one NAME, or --all")
    if args.save_test_labels:
        for name in names:
            kept = save_test_labels(name)
            print(json.dumps({"name": name, "accuracy": kept["accuracy"], "kept": str(kept["path"])}), flush=True)
        return 0
    problems = []
    for name in names:
        result = evaluate_saved(name, args.split)
        if args.check:
            found = differences(result, args.tolerance)
            result["check"] = "ok" if not found else "MISMATCH"
            problems += found
        print(json.dumps(result), flush=True)
    for p in problems:
        print(f"check failed: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
