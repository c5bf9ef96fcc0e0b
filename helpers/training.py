"""Train-or-load: the one way every notebook fits a model.

``train_or_load(name, ...)`` loads ``weights/<name>`` when present (sha256-verified) unless
``retrain`` is set; otherwise it trains with a checkpoint that keeps the best *validation* loss,
early stopping on validation loss, a resumable backup (``data/checkpoints/<name>``) and a CSV
history, then scores validation and test once and saves weights + record. Learning curves are
always drawn from the record's history, so a loaded model looks exactly like a trained one.
"""

from __future__ import annotations

import shutil
import time

import numpy as np

from . import metrics, models, paths, tasks, weights_store
from .repro import DEFAULT_SEED, set_seeds


def build_model(task_name: str, architecture: str, hparams: dict):
    task = tasks.get(task_name)
    return models.build(architecture, task.input_shape, task.n_outputs, task.output_activation, **hparams)


def build_from_record(record: dict):
    return build_model(record["task"], record["architecture"], record.get("hparams", {}))


def predict_proba(model, x, batch_size: int = 512) -> np.ndarray:
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)


def score(model, data: dict, splits=("val", "test")) -> dict:
    return {s: metrics.classification_metrics(data[s][1], predict_proba(model, data[s][0])) for s in splits}


class _EpochTimer:
    """Adds ``epoch_seconds`` to each epoch's logs (so the CSV history records it)."""

    def __new__(cls):
        import keras

        class EpochTimer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self._t = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                if logs is not None:
                    logs["epoch_seconds"] = time.perf_counter() - self._t

        return EpochTimer()


def _read_history(csv_path) -> dict:
    import pandas as pd

    df = pd.read_csv(csv_path).drop_duplicates("epoch", keep="last").sort_values("epoch")
    return {c: [round(float(v), 6) for v in df[c]] for c in df.columns if c != "epoch"}


def fit(name: str, *, task: str, architecture: str, hparams: dict, data: dict | None = None,
        epochs: int = 50, batch_size: int = 32, optimizer: str = "adam", learning_rate: float = 1e-3,
        patience: int = 5, seed: int = DEFAULT_SEED, notes: dict | None = None, fit_kwargs: dict | None = None):
    """Train, score validation and test once, save; returns ``(model, record)``."""
    import keras

    task_obj = tasks.get(task)
    data = data if data is not None else task_obj.load_splits()
    set_seeds(seed)
    model = build_model(task, architecture, hparams)
    opt = keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
    model.compile(optimizer=opt, loss=task_obj.loss, metrics=["accuracy"])

    work = paths.data_dir() / "checkpoints" / name
    work.mkdir(parents=True, exist_ok=True)
    best = work / "best.weights.h5"
    history_csv = work / "history.csv"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(work / "backup")),
        keras.callbacks.ModelCheckpoint(str(best), monitor="val_loss", save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience),
        _EpochTimer(),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    (x_tr, y_tr), (x_va, y_va) = data["train"], data["val"]
    model.fit(x_tr, y_tr, validation_data=(x_va, y_va), epochs=epochs, batch_size=batch_size,
              callbacks=callbacks, verbose=0, **(fit_kwargs or {}))
    history = _read_history(history_csv)
    model.load_weights(best)
    val_loss = history["val_loss"]
    record = {
        "task": task, "architecture": architecture, "hparams": hparams,
        "training": {"optimizer": optimizer, "learning_rate": learning_rate, "batch_size": batch_size,
                     "max_epochs": epochs, "epochs_run": len(val_loss),
                     "best_epoch": int(np.argmin(val_loss)) + 1, "early_stopping_patience": patience,
                     "monitor": "val_loss", "loss": task_obj.loss, "seed": seed,
                     "seconds": round(float(sum(history.get("epoch_seconds", []))), 1),
                     "train_size": int(len(y_tr)), "val_size": int(len(y_va))},
        "params": int(model.count_params()),
        "history": history,
        "metrics": score(model, data),
        "notes": notes or {},
    }
    record = weights_store.save(name, model, record)
    shutil.rmtree(work, ignore_errors=True)
    return model, record


def load(name: str):
    """Rebuild a saved model from its record and load its verified weights: ``(model, record)``."""
    record = weights_store.load_record(name)
    model = build_from_record(record)
    weights_store.load_weights(model, name)
    return model, record


def train_or_load(name: str, *, retrain: bool = False, **fit_args):
    """Load ``weights/<name>`` when present and ``retrain`` is false; train and save otherwise."""
    if not retrain and weights_store.exists(name):
        return load(name)
    return fit(name, **fit_args)
