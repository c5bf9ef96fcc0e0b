"""Round two's cheap runs: a student's recipe on a stratified subset of the training split, scored on the whole
validation split, kept as results (validation scores, per-epoch validation accuracy, seconds), not as weights; the
test split is never scored. The learning curve (``learning_curve``) and the check of the distillation settings
(``kd_settings``) are made of them.
"""

from __future__ import annotations

import json
import re

import numpy as np


def subset(labels, n: int, seed: int = 42) -> np.ndarray:
    """``n`` indices into ``labels``, stratified by label, sorted, reproducible."""
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    if not 0 < n < len(labels):
        raise ValueError(f"a subset needs between 1 and {len(labels) - 1} images, not {n}")
    idx, _ = train_test_split(np.arange(len(labels)), train_size=n, stratify=labels, random_state=seed)
    return np.sort(idx)


def saved_runs(path) -> dict:
    """``{key: run}`` from a results file (empty when none is saved)."""
    return json.loads(path.read_text())["runs"] if path.is_file() else {}


def train(key: str, experiment: str, n: int, path, *, header: dict, retrain: bool = False, data: dict | None = None,
          mixed_precision: bool = True, task: str = "fashion", architecture: str | None = None,
          hparams: dict | None = None, **overrides) -> dict:
    """Train ``experiment``'s recipe (changed by ``overrides``) on ``n`` training images, with the teacher's outputs
    on them when it is distilled, score the whole validation split and save the run under ``key`` in ``path``
    (with ``header`` on top); a saved run is loaded unless ``retrain``. ``data`` defaults to the task's splits;
    ``task``, ``architecture`` and ``hparams`` let tests run a tiny version. Returns the run."""
    from helpers.core.results import write_summary
    from helpers.evaluation import metrics
    from helpers.inputs import tasks
    from helpers.models import saved_models
    from helpers.studies.best_model import config, experiments
    from helpers.training import trainer

    runs = saved_runs(path)
    if key in runs and not retrain:
        return runs[key]
    e = experiments.get(experiment)
    data = data if data is not None else tasks.get(task).load_splits()
    args = {**e.training, **overrides}
    (x, y), val = data["train"], data["val"]
    idx = subset(y, n, seed=args.get("seed", 42))
    soft = {}
    if args.get("distillation"):
        saved = experiments.checked_teacher_outputs(data, args.pop("teacher_outputs", config.TEACHER_OUTPUTS))
        soft = {"soft_targets": {"train": saved["train"][0][idx], "val": saved["val"][0]}}
    work_name = f"{experiment}_proxy_{n}_" + re.sub(r"[^A-Za-z0-9.]+", "_", key)   # its checkpoints, to resume
    model, history = trainer.fit(work_name, task=task, architecture=architecture or e.architecture,
                                 hparams=dict(hparams or e.hparams), data={"train": (x[idx], y[idx]), "val": val},
                                 mixed_precision=mixed_precision, selection_only=True, **soft, **args)
    scores = metrics.classification_metrics(val[1], saved_models.predict_proba(model, val[0]))
    runs[key] = {"train_size": n, "seed": args.get("seed", 42), "epochs": len(history["loss"]),
                 **({k: args["distillation"][k] for k in ("temperature", "alpha")} if args.get("distillation") else {}),
                 "val_accuracy": scores["accuracy"], "val_loss": scores["loss"],
                 "val_accuracy_by_epoch": [round(float(v), 4) for v in history.get("val_accuracy", [])],
                 "seconds": round(float(sum(history.get("epoch_seconds", []))), 1)}
    write_summary(path, **header, runs=dict(sorted(runs.items())))
    return runs[key]
