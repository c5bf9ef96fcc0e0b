"""Choosing what to deploy on validation: the experiment log, ensemble candidates, the candidate table and the
deployment rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import json

from helpers.models import weights_store
from helpers.studies.best_model import config
from helpers.studies.best_model.training_costs import (
    cpu_training_cost,
    cpu_training_seconds,
    inference_speeds,
    trained_on,
)
from helpers.studies.best_model.experiments import EXPERIMENTS
from helpers.studies.best_model.tta import _tta_path, selection_outputs, tta_outputs

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd


def experiment_log(names=None, candidates=None):
    """One row per saved experiment (and other saved models given in ``names``: earlier models, the teacher, a saved
    ensemble), then one per combined candidate of ``candidates`` (:func:`candidate_table` rows that are not single
    models: test-time augmentation, ensembles), as a DataFrame. Training time is split by where it ran: the seconds
    on a GPU (empty for a CPU run) and the cost on the team's 2-core CPU (measured there, or estimated)."""
    import pandas as pd

    speeds = inference_speeds()
    rows = []
    for name in names or [n for n in EXPERIMENTS if weights_store.exists(n)]:
        rec = weights_store.load_record(name)
        t, notes = rec.get("training", {}), rec.get("notes", {})
        e = EXPERIMENTS.get(name)
        members = [m["name"] for m in rec.get("members", [])]
        where = (" / ".join(sorted({trained_on(weights_store.load_record(m)) for m in members})) if members
                 else trained_on(rec))
        rows.append({"name": name, "kind": "ensemble" if members else "single model",
                     "members": " + ".join(members) or name,
                     "direction": e.direction if e else notes.get("direction", "combining models" if members else "earlier model"),
                     "idea": e.idea if e else notes.get("idea", ""),
                     "parameters": json.dumps(rec.get("hparams", {}), sort_keys=True),
                     "epochs": t.get("refit", {}).get("epochs", t.get("epochs_run")), "trained_on": where,
                     "gpu_training_seconds": None if members or where == "CPU" else weights_store.training_seconds(rec),
                     **dict(zip(("cpu_training_seconds", "cpu_training"), cpu_training_cost(rec))),
                     "val_accuracy": rec["metrics"]["val"]["accuracy"], "val_loss": rec["metrics"]["val"]["loss"],
                     "inference_images_per_s": speeds.get(name)})
    combined = candidates[candidates["kind"] != "single model"] if candidates is not None else []
    for _, c in getattr(combined, "iterrows", lambda: [])():
        rows.append({"name": c["name"], "kind": c["kind"], "members": c["members"], "direction": "combining models",
                     "idea": f"{c['kind']} of saved models (their validation outputs combined; nothing trained)",
                     "cpu_training_seconds": c["cpu_training_seconds"], "cpu_training": c["cpu_training"],
                     "val_accuracy": round(float(c["val_accuracy"]), 6), "inference_images_per_s": round(float(c["images_per_s"]), 1)})
    return pd.DataFrame(rows, columns=["name", "kind", "members", "direction", "idea", "parameters", "epochs",
                                       "trained_on", "gpu_training_seconds", "cpu_training_seconds", "cpu_training",
                                       "val_accuracy", "val_loss", "inference_images_per_s"])


def write_log(names=None, candidates=None):
    """:func:`experiment_log` written to :data:`EXPERIMENTS_CSV`."""
    df = experiment_log(names, candidates)
    config.EXPERIMENTS_CSV.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(config.EXPERIMENTS_CSV, index=False)
    return df


def export_summary(path=None, **items):
    """Write notebook 05's results to :data:`SUMMARY_JSON` (same results, same bytes); returns the path."""
    from helpers.core.results import write_summary

    return write_summary(path or config.SUMMARY_JSON, **items)


def ensemble_candidates(names=None, min_members: int = 2, max_members: int = 4):
    """Validation accuracy and loss of the ensembles of the *k* best saved experiments (by their own validation
    accuracy), ``k = min_members .. max_members``, their softmax outputs averaged.

    Only the top-*k* ensembles are scored, not every combination: picking the best of hundreds of
    combinations on the validation split would flatter the winner. Scored on the members' *selection-run*
    validation outputs (models that never saw the validation split), so the ranking is honest even for
    members that were later refitted. Columns: members, size, val accuracy and loss, and the best member's
    accuracy for comparison.
    """
    import pandas as pd

    from helpers.evaluation import metrics

    names = [n for n in (names or EXPERIMENTS) if (config.SELECTION_DIR / f"{n}.npz").is_file()]
    outputs = {n: selection_outputs(n) for n in names}
    ys = [outputs[n][1] for n in names]
    if any(len(y) != len(ys[0]) or (y != ys[0]).any() for y in ys):
        raise ValueError(f"the selection outputs of {names} are not on the same validation images")
    own = {n: metrics.classification_metrics(outputs[n][1], outputs[n][0]) for n in names}
    ranked = sorted(names, key=lambda n: (-own[n]["accuracy"], own[n]["loss"], n))
    rows = []
    for size in range(min_members, min(max_members, len(ranked)) + 1):
        group = ranked[:size]
        m = metrics.classification_metrics(ys[0], sum(outputs[n][0] for n in group) / size)
        rows.append({"members": " + ".join(group), "size": size, "val_accuracy": m["accuracy"],
                     "val_loss": m["loss"], "best_member_val_accuracy": own[group[0]]["accuracy"]})
    cols = ["members", "size", "val_accuracy", "val_loss", "best_member_val_accuracy"]
    return pd.DataFrame(rows, columns=cols)


#: The brief's test-accuracy target for the final model, and its training budget on the team's 2-core machine.
def deployment_choice(candidates, speed_target: float | None = None, budget_seconds: float | None = None,
                      tolerance: float | None = None) -> dict:
    """The most accurate candidate on validation, the fastest one close to it, and the one to deploy.

    ``candidates``: a DataFrame with ``name``, ``val_accuracy``, ``images_per_s`` (batch 512) and
    ``cpu_training_seconds``. Deployed: the most accurate candidate that meets the speed bar and whose
    training fits the budget on the team's CPU (``None`` if none does). Also named: the most accurate
    candidate of all, and the fastest candidate within ``tolerance`` of its accuracy (what the accuracy costs
    in speed). Ties in accuracy go to the faster model. The test split plays no part.
    """
    speed_target = config.SPEED_TARGET if speed_target is None else speed_target
    budget_seconds = config.BUDGET_SECONDS if budget_seconds is None else budget_seconds
    tolerance = config.ACCURACY_TOLERANCE if tolerance is None else tolerance
    if candidates.empty:
        raise ValueError("no candidates to choose from")
    df = candidates.sort_values(["val_accuracy", "images_per_s"], ascending=False, kind="stable")
    best = df.iloc[0]
    near = df[(df["val_accuracy"] >= best["val_accuracy"] - tolerance - 1e-12)]
    fastest_near = near.sort_values("images_per_s", ascending=False, kind="stable").iloc[0]
    eligible = df[(df["images_per_s"] >= speed_target) & (df["cpu_training_seconds"] <= budget_seconds)]
    deployed = eligible.iloc[0] if len(eligible) else None
    return {"most_accurate": best["name"], "most_accurate_val_accuracy": float(best["val_accuracy"]),
            "most_accurate_images_per_s": float(best["images_per_s"]),
            "most_accurate_cpu_training_seconds": float(best["cpu_training_seconds"]),
            "fastest_within_tolerance": fastest_near["name"],
            "fastest_within_tolerance_images_per_s": float(fastest_near["images_per_s"]),
            "deployed": None if deployed is None else deployed["name"],
            "deployed_val_accuracy": None if deployed is None else float(deployed["val_accuracy"]),
            "speed_target": speed_target, "budget_seconds": budget_seconds, "tolerance": tolerance}


def candidate_table(names, ensembles=None) -> "pd.DataFrame":
    """Every way of classifying that notebook 05 weighs, one row each: the saved models ``names``, each
    experiment under test-time augmentation (where its outputs are saved) and the ``ensembles``
    (:func:`ensemble_candidates`). Columns: name, kind, members, validation accuracy, images/s at batch 512
    (a model's over its views; an ensemble's members one after the other) and the training cost on the
    team's 2-core CPU (an ensemble's members added up)."""
    import numpy as np
    import pandas as pd

    from helpers.evaluation import metrics

    speeds = inference_speeds()
    cost = {n: cpu_training_seconds(n) for n in names}
    rows = [{"name": n, "kind": "single model", "members": n,
             "val_accuracy": weights_store.load_record(n)["metrics"]["val"]["accuracy"],
             "images_per_s": speeds.get(n, np.nan), "cpu_training_seconds": cost[n][0], "cpu_training": cost[n][1]}
            for n in names]
    for n in names:
        if _tta_path(n).is_file():
            p, y, views = tta_outputs(n)
            rows.append({"name": f"{n} + TTA x{len(views)}", "kind": "test-time augmentation", "members": n,
                         "val_accuracy": metrics.classification_metrics(y, p)["accuracy"],
                         "images_per_s": speeds.get(n, np.nan) / len(views), "cpu_training_seconds": cost[n][0],
                         "cpu_training": cost[n][1]})
    for _, e in (ensembles if ensembles is not None else pd.DataFrame()).iterrows():
        members = e["members"].split(" + ")
        parts = [cost[m] if m in cost else cpu_training_seconds(m) for m in members]
        rows.append({"name": f"ensemble of the {e['size']} best", "kind": "ensemble", "members": e["members"],
                     "val_accuracy": e["val_accuracy"],
                     "images_per_s": 1 / sum(1 / speeds.get(m, np.nan) for m in members),
                     "cpu_training_seconds": (None if any(c[0] is None for c in parts) else sum(c[0] for c in parts)),
                     "cpu_training": "estimated" if any(c[1] == "estimated" for c in parts) else "measured"})
    return pd.DataFrame(rows).astype({"cpu_training_seconds": float})
