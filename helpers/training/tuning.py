"""Hyperparameter search for our own CNN with KerasTuner: random search vs Hyperband at an equal budget.

Each strategy searches the same space (:data:`SPACE`) on the same stratified subsample of the training
split, scored on a subsample of the validation split (never the test set). Every trial's hyperparameters,
validation accuracy, epochs and time go to a CSV under version control; the notebook reads it back
instead of searching again.

KerasTuner imports TensorBoard; ``tensorflow-cpu`` 2.21 no longer installs it, and without it every
trial fails while ``search()`` still returns a "best" model. :func:`check_ready` makes that a clear
error up front, and :func:`search` raises if any trial failed.
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import pandas as pd

from helpers.core import paths
from helpers.core.errors import HelpersError
from helpers.inputs import tasks

#: The search space: (kind, arguments). Why these ranges is explained in notebook 04.
SPACE = {
    "filters": ("choice", [16, 32]),
    "dense_units": ("choice", [128, 256, 512]),
    "conv_dropout": ("float", 0.0, 0.4, 0.1),
    "dense_dropout": ("float", 0.2, 0.6, 0.1),
    "learning_rate": ("log", 3e-4, 3e-3),
}
#: Not tuned. Augmentation slows convergence, so a search with a few epochs per trial always rejects it even
#: where it pays off over a full training run; it is a design decision instead (see notebook 04).
FIXED = {"blocks": 2, "augment": True, "flip": False}


def check_ready() -> None:
    missing = [m for m in ("keras_tuner", "tensorboard") if importlib.util.find_spec(m) is None]
    if missing:
        raise HelpersError(f"KerasTuner needs {', '.join(missing)}: pip install keras-tuner tensorboard "
                           "(tensorflow-cpu 2.21 no longer installs tensorboard; without it every trial fails).")


def subsample(data: dict, n_train: int, n_val: int, seed: int = 0) -> dict:
    """A stratified subsample of the training and validation splits (no test images)."""
    from sklearn.model_selection import train_test_split

    out = {}
    for split, n in (("train", n_train), ("val", n_val)):
        x, y = data[split]
        idx, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
        idx = np.sort(idx)
        out[split] = (x[idx], y[idx])
    return out


def _hypermodel(task_name: str):
    import keras

    from helpers.models import saved_models

    task = tasks.get(task_name)

    def build(hp):
        values = {}
        for name, spec in SPACE.items():
            kind = spec[0]
            if kind == "choice":
                values[name] = hp.Choice(name, spec[1])
            elif kind == "float":
                values[name] = hp.Float(name, spec[1], spec[2], step=spec[3])
            elif kind == "log":
                values[name] = hp.Float(name, spec[1], spec[2], sampling="log")
            elif kind == "bool":
                values[name] = hp.Boolean(name)
        lr = values.pop("learning_rate")
        model = saved_models.build_model(task_name, "own_cnn", {**FIXED, **values})
        model.compile(optimizer=keras.optimizers.Adam(lr), loss=task.loss, metrics=["accuracy"])
        return model

    return build


def search_equal_budget(data: dict, *, max_epochs: int, hyperband_iterations: int = 1, batch_size: int = 128,
                        seed: int = 42, task: str = "fashion") -> pd.DataFrame:
    """Hyperband first; then random search with as many full-length trials as Hyperband's epochs allow."""
    hb = search("hyperband", data, max_epochs=max_epochs, hyperband_iterations=hyperband_iterations,
                batch_size=batch_size, seed=seed, task=task)
    budget = int(hb["epochs"].sum())
    rs = search("random", data, max_epochs=max_epochs, budget_epochs=budget, batch_size=batch_size, seed=seed,
                task=task)
    return pd.concat([rs, hb], ignore_index=True)


def search(strategy: str, data: dict, *, max_epochs: int, budget_epochs: int | None = None,
           hyperband_iterations: int = 1, batch_size: int = 128, seed: int = 42, task: str = "fashion",
           directory=None) -> pd.DataFrame:
    """Run one strategy; one row per trial. Random search runs ``budget_epochs // max_epochs`` trials
    (trials stopped early spend less); Hyperband runs ``hyperband_iterations`` full rounds."""
    check_ready()
    import keras
    import keras_tuner as kt

    directory = directory or paths.data_dir() / "tuning"
    common = dict(objective="val_accuracy", seed=seed, directory=str(directory), project_name=strategy,
                  overwrite=True, max_consecutive_failed_trials=1)
    if strategy == "random":
        tuner = kt.RandomSearch(_hypermodel(task), max_trials=max(1, round((budget_epochs or max_epochs) / max_epochs)),
                                **common)
    elif strategy == "hyperband":
        tuner = kt.Hyperband(_hypermodel(task), max_epochs=max_epochs, factor=3,
                             hyperband_iterations=hyperband_iterations, **common)
    else:
        raise HelpersError(f"unknown strategy {strategy!r}: random or hyperband")

    epochs_seen = {}

    class Count(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.t = time.perf_counter()
            self.n = 0

        def on_epoch_end(self, epoch, logs=None):
            self.n += 1

        def on_train_end(self, logs=None):
            tid = tuner.oracle.ongoing_trials[tuner.tuner_id].trial_id if tuner.oracle.ongoing_trials else "?"
            epochs_seen[tid] = (epochs_seen.get(tid, (0, 0.0))[0] + self.n,
                                epochs_seen.get(tid, (0, 0.0))[1] + time.perf_counter() - self.t)

    stop = keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2)
    kwargs = {} if strategy == "hyperband" else {"epochs": max_epochs}
    try:
        tuner.search(*data["train"], validation_data=data["val"], batch_size=batch_size, verbose=0,
                     callbacks=[stop, Count()], **kwargs)
    except RuntimeError as e:  # KerasTuner gives up after max_consecutive_failed_trials
        raise HelpersError(f"{strategy} search failed: a trial failed ({str(e).strip().splitlines()[-1][:300]}). "
                           "Check that tensorboard is installed and rerun.") from None
    rows = []
    for trial in tuner.oracle.trials.values():
        status = str(trial.status).split(".")[-1].upper()
        n, secs = epochs_seen.get(trial.trial_id, (0, 0.0))
        rows.append({"strategy": strategy, "trial": trial.trial_id, "status": status,
                     **{k: trial.hyperparameters.values.get(k) for k in SPACE},
                     "val_accuracy": trial.score, "epochs": n, "seconds": round(secs, 1)})
    df = pd.DataFrame(rows)
    failed = df[df["status"] != "COMPLETED"]
    if len(failed):
        raise HelpersError(f"{len(failed)} of {len(df)} {strategy} trials failed (statuses: "
                           f"{sorted(set(failed['status']))}); the 'best' model would be meaningless. "
                           "Check that tensorboard is installed and rerun.")
    return df
