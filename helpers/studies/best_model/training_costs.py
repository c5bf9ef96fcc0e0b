"""What each candidate costs: where it was trained, its CPU training time (measured or estimated), its inference speed."""

from __future__ import annotations

import json

from helpers.models import weights_store
from helpers.studies.best_model import config


def trained_on(record: dict) -> str:
    """Where a saved model was trained: the GPU's name, or "CPU"."""
    v = record.get("versions", {})
    return v["device"] if v.get("device") and v.get("device") != "cpu" else "CPU"


def cpu_training_seconds(name: str, cost_path=None) -> tuple:
    """``(seconds, how)``: what training ``name`` costs on a 2-core CPU (:func:`cpu_training_cost` of its record)."""
    cost_path = config.TRAINING_COST_JSON if cost_path is None else cost_path
    return cpu_training_cost(weights_store.load_record(name), cost_path)


def cpu_training_cost(rec: dict, cost_path=None) -> tuple:
    """``(seconds, how)`` for a saved model's record. ``how`` is "measured" for a model trained on a CPU (its
    record's time), "estimated" for one trained on a GPU (``benchmarks/training_cost.py``'s estimate for its
    experiment); an ensemble's is its members' added up (estimated if any member's is); ``(None, None)`` when
    there is no figure."""
    cost_path = config.TRAINING_COST_JSON if cost_path is None else cost_path
    if rec.get("architecture") == "ensemble":
        parts = [cpu_training_seconds(m["name"], cost_path) for m in rec["members"]]
        if any(p[0] is None for p in parts):
            return None, None
        return round(sum(p[0] for p in parts), 1), ("estimated" if any(p[1] == "estimated" for p in parts) else "measured")
    if trained_on(rec) == "CPU":
        return weights_store.training_seconds(rec), "measured"
    costs = json.loads(cost_path.read_text())["results"] if cost_path.is_file() else {}
    if rec.get("name") in costs:
        return float(costs[rec["name"]]["estimated_seconds"]), "estimated"
    return None, None


def inference_speeds(path=None) -> dict:
    """``{model: images/s at batch 512}`` from the inference benchmark's results (empty if not run)."""
    from helpers.evaluation.speed import recorded_speeds

    return recorded_speeds(path or config.INFERENCE_JSON)


def retraining_estimate(name: str, path=None) -> dict | None:
    """A student's retraining cost from the saved teacher outputs, estimated by ``benchmarks/student_cost.py``
    from a short real run on an idle CPU: ``{"epochs_run", "epoch_seconds", "seconds_per_epoch", "epochs",
    "estimated_seconds", "precision", "machine", "measured"}``, or ``None`` when it has not been measured."""
    path = path or config.STUDENT_COST_JSON
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    found = saved.get("results", {}).get(name)
    return None if found is None else {**found, "machine": saved.get("machine", {}), "measured": saved.get("measured")}
