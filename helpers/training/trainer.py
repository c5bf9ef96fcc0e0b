"""Train-or-load: the one way every notebook fits a model.

``train_or_load(name, ...)`` loads ``weights/<name>`` when present (sha256-verified) unless
``retrain`` is set. Otherwise :func:`fit` runs the project's protocol:

1. *selection run* on the training split, validated on the validation split, with a checkpoint
   of the best validation epoch, early stopping, an optional learning-rate reduction on plateaus,
   a resumable backup (``data/checkpoints/<name>``) and a CSV history;
2. optionally a *refit* of a fresh model on training + validation images for the chosen number of
   epochs (same seed, same learning-rate schedule);
3. validation metrics (of the selection run) and test metrics (of the final model, once), saved
   with the weights in ``weights/<name>.json``.

Learning curves are drawn from the record's history, so a loaded model looks like a trained one.
Loading a saved model and predicting with it live one layer down, in :mod:`helpers.models.saved_models`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.repro import DEFAULT_SEED, set_seeds
from helpers.evaluation import metrics
from helpers.inputs import tasks
from helpers.models import weights_store
from helpers.models.saved_models import build_model, load, predict_proba
from helpers.training.recipe import (
    Recipe,
    as_recipe,
    lr_schedule_values,
    precision_policy,
    smoothed_sparse_crossentropy,
)


def epoch_timer():
    """A callback that adds ``epoch_seconds`` to each epoch's logs (so the history records it)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if logs is not None:
                logs["epoch_seconds"] = time.perf_counter() - self._t

    return EpochTimer()


#: How ``run_fit`` feeds arrays to ``fit``: "keras" (Keras' own pipeline) or "steady" (:func:`array_dataset`).
INPUT_PIPELINES = ("keras", "steady")


def array_dataset(x, y, batch_size: int, shuffle_seed: int | None = None):
    """``(x, y)`` arrays as a steady tf.data pipeline of batches (TensorFlow backend).

    Shuffled every epoch from ``shuffle_seed`` (``None``: in order), with tf.data's autotuner off
    and one private thread. Keras' own pipeline for arrays lets the autotuner add threads; on two
    cores they compete with the training step, and for a small model fed from large arrays a third
    to a half of the epochs ran about 70% slower (step 3's tail on 10,000 cached samples: 1.5 s or
    2.5 s an epoch at random, always 1.5 s with this pipeline). ``x`` may be a list of arrays (a
    model with several inputs). Only the indices go through the shuffle buffer; each batch is
    gathered from one in-memory copy of the arrays.
    """
    import tensorflow as tf

    x = tuple(tf.constant(a) for a in x) if isinstance(x, (list, tuple)) else tf.constant(x)
    y = tf.constant(y)
    order = tf.data.Dataset.range(int(y.shape[0]))
    if shuffle_seed is not None:
        order = order.shuffle(int(y.shape[0]), seed=shuffle_seed, reshuffle_each_iteration=True)

    def gather(i):
        return tf.nest.map_structure(lambda a: tf.gather(a, i), x), tf.gather(y, i)

    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return order.batch(batch_size).map(gather).prefetch(1).with_options(options)


def fit_data(train, val, batch_size: int, input_pipeline: str = "keras", seed: int = DEFAULT_SEED) -> dict:
    """The data arguments of ``model.fit`` for ``(x, y)`` arrays, through the chosen input pipeline."""
    if effective_settings(input_pipeline, 1)[0] == "steady":
        return dict(x=array_dataset(*train, batch_size, shuffle_seed=seed), shuffle=False,
                    validation_data=None if val is None else array_dataset(*val, batch_size))
    return dict(x=train[0], y=train[1], batch_size=batch_size, validation_data=val)


def effective_settings(input_pipeline: str, steps_per_execution: int) -> tuple:
    """``(input_pipeline, steps_per_execution)`` as this backend can honour them: the steady pipeline
    needs TensorFlow, and Keras' PyTorch trainer only runs one batch per call."""
    import keras

    if input_pipeline not in INPUT_PIPELINES:
        raise ValueError(f"input_pipeline must be one of {INPUT_PIPELINES}, not {input_pipeline!r}")
    backend = keras.backend.backend()
    return (input_pipeline if backend == "tensorflow" else "keras",
            1 if backend == "torch" else int(steps_per_execution))


def _read_history(csv_path) -> dict:
    import pandas as pd

    df = pd.read_csv(csv_path).drop_duplicates("epoch", keep="last").sort_values("epoch")
    df = df.dropna(axis=1, how="all")  # CSVLogger pads absent validation columns with "NA"
    return {c: [round(float(v), 6) for v in df[c]] for c in df.columns if c != "epoch"}


def run_fit(model, train, val, *, work_dir, epochs: int, batch_size: int, optimizer: str = "adam",
            learning_rate: float = 1e-3, loss: str, monitor: str = "val_loss", patience: int | None = 5,
            reduce_lr_patience: int | None = None, lr_schedule: list | None = None,
            steps_per_execution: int = 1, input_pipeline: str = "keras", seed: int = DEFAULT_SEED,
            fit_kwargs: dict | None = None, optimizer_config: dict | None = None,
            label_smoothing: float = 0.0, distillation: dict | None = None,
            ema_momentum: float | None = None) -> dict:
    """Compile and fit ``model`` with the project's callbacks; returns the per-epoch history.

    The weights left in ``model`` are those of the best epoch by ``monitor`` (a checkpoint); training
    stops early after ``patience`` epochs without improvement (``None``: never) and, if
    ``reduce_lr_patience`` is set, halves the learning rate on a plateau (``lr_schedule``, a list
    of per-epoch rates, replays such a schedule without validation data). A backup in ``work_dir``
    lets an interrupted run resume; the CSV history survives the interruption.

    ``steps_per_execution`` runs that many batches per call of the compiled training function. The
    updates are the same batch by batch (the weights come out identical); only the Python overhead
    per batch goes, which matters for small models such as heads trained on cached features.
    ``input_pipeline="steady"`` feeds the arrays through :func:`array_dataset` (shuffled from
    ``seed``) instead of Keras' own pipeline. Settings a backend cannot honour fall back (see
    :func:`effective_settings`).

    ``optimizer_config`` adds to the optimizer's configuration (e.g. ``{"weight_decay": 5e-4}`` for AdamW,
    ``{"momentum": 0.9, "nesterov": True}`` for SGD); ``label_smoothing`` trains a softmax model against
    targets smoothed towards the uniform distribution (:func:`smoothed_sparse_crossentropy`).

    ``distillation`` (``{"temperature", "alpha"}``) trains against :func:`helpers.training.distillation.targets`
    (label and teacher log-probabilities) with :func:`~helpers.training.distillation.distillation_loss`.
    ``ema_momentum`` keeps an exponential moving average of the weights (Keras' optimizer EMA); the averaged weights
    are the ones validated, checkpointed and kept (``SwapEMAWeights``).
    """
    import keras

    input_pipeline, steps_per_execution = effective_settings(input_pipeline, steps_per_execution)
    mode = "min" if "loss" in monitor else "max"
    ema = {"use_ema": True, "ema_momentum": float(ema_momentum)} if ema_momentum else {}
    opt = keras.optimizers.get({"class_name": optimizer,
                                "config": {"learning_rate": learning_rate, **(optimizer_config or {}), **ema}})
    metric = "accuracy"
    if distillation:
        from helpers.training.distillation import distillation_loss, label_accuracy

        loss = distillation_loss(int(model.output_shape[-1]), distillation["temperature"], distillation["alpha"],
                                 label_smoothing)
        metric = label_accuracy
    elif label_smoothing:
        if loss != "sparse_categorical_crossentropy":
            raise ValueError("label_smoothing is implemented for sparse categorical cross-entropy only")
        loss = smoothed_sparse_crossentropy(label_smoothing, int(model.output_shape[-1]))
    model.compile(optimizer=opt, loss=loss, metrics=[metric], steps_per_execution=steps_per_execution)
    work_dir.mkdir(parents=True, exist_ok=True)
    best = work_dir / "best.weights.h5"
    history_csv = work_dir / "history.csv"
    callbacks = [keras.callbacks.BackupAndRestore(str(work_dir / "backup"))]
    if ema:  # before the checkpoint: validation and the saved best epoch see the averaged weights
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    if val is not None:
        callbacks.append(keras.callbacks.ModelCheckpoint(str(best), monitor=monitor, mode=mode,
                                                         save_best_only=True, save_weights_only=True))
        if patience is not None:
            callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience))
        if reduce_lr_patience:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                               patience=reduce_lr_patience, min_lr=1e-6))
    if lr_schedule:
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda epoch, lr: float(lr_schedule[epoch])))
    callbacks += [epoch_timer(), keras.callbacks.CSVLogger(str(history_csv), append=True)]
    data = fit_data(train, val, batch_size, input_pipeline, seed)
    clash = set(fit_kwargs or {}) & (set(data) | {"epochs", "callbacks", "verbose"}
                                     | ({"sample_weight"} if input_pipeline == "steady" else set()))
    if clash:
        raise ValueError(f"fit_kwargs may not set {sorted(clash)}: run_fit sets them itself")
    model.fit(**data, epochs=epochs, callbacks=callbacks, verbose=0, **(fit_kwargs or {}))
    history = _read_history(history_csv)
    if val is not None:
        model.load_weights(best)
    return history


def best_epoch(history: dict, monitor: str = "val_loss") -> int:
    values = history[monitor]
    return int(np.argmin(values) if "loss" in monitor else np.argmax(values)) + 1


def _float32_twin(model, task, architecture, hparams, input_shape=None):
    twin = build_model(task, architecture, hparams, input_shape=input_shape)
    twin.set_weights(model.get_weights())
    return twin


def _concat(a, b):
    if isinstance(a, (list, tuple)):
        return [np.concatenate([u, v]) for u, v in zip(a, b)]
    return np.concatenate([a, b])


def fit(name: str, recipe: Recipe | None = None, *, data: dict | None = None, **settings):
    """Train, score validation and test once, save; returns ``(model, record)``.

    ``selection_outputs`` (a path): the selection run's validation probabilities are saved there
    (``.npz``, key ``val``), so that ensembles and temperatures can be chosen on outputs of a model
    that never saw the validation split, even when the saved model was refitted on it.

    With ``refit_on_train_and_val`` the number of epochs is chosen on the validation split first;
    then a fresh model (same seed and learning-rate schedule) is trained on training + validation
    images for exactly that many epochs, and that model is saved and tested. Its recorded validation
    metrics are those of the selection run (the refit model has seen the validation images).

    ``build_kwargs`` go to the architecture builder without being recorded (e.g. where to take
    pretrained weights from). ``prepare(model, data, phase) -> (trained_model, inputs_by_split)``
    lets a caller train part of the model on transformed inputs (cached backbone features); the full
    ``model`` is what is saved. ``phase`` is ``"select"`` or ``"refit"``, so that a model that starts
    from another model's weights can start the selection run from weights that never saw the
    validation split.

    ``selection_only`` stops after the selection run and returns ``(model, history)``: nothing is
    scored or saved (used to replay a selection run, which is deterministic).

    ``optimizer_config`` and ``label_smoothing`` go to :func:`run_fit`; ``schedule`` names a per-epoch
    learning-rate schedule (:func:`lr_schedule_values`), replayed exactly by the refit.

    ``input_shape`` overrides the task's input shape (image-folder tasks, whose models take several
    sizes); it is recorded so that the model can be rebuilt.

    ``soft_targets`` (``{"train", "val"}`` -> a teacher's log-probabilities) with ``distillation``
    (``{"temperature", "alpha"}``) trains a student by knowledge distillation (:mod:`helpers.training.distillation`);
    scores stay against the labels. ``ema_momentum`` keeps the moving average of the weights (:func:`run_fit`).

    ``mixed_precision`` trains under Keras' ``mixed_bfloat16`` policy (about 40% faster on CPUs with
    bf16 instructions); the trained weights are then copied into a float32 twin, which is scored and
    saved, so that ``helpers.evaluate`` reproduces the recorded metrics exactly.

    Every setting above is a field of ``recipe`` (:class:`~helpers.training.recipe.Recipe`); given as keywords
    (``fit(name, task=..., epochs=...)``) they make the recipe, given with a recipe they change it. A new record keeps
    the recipe's settings under ``"recipe"`` (:meth:`~helpers.training.recipe.Recipe.as_record`).
    """
    r = as_recipe(recipe, **settings)
    task, architecture, hparams = r.task, r.architecture, r.hparams
    input_shape, build_kwargs = r.input_shape, r.build_kwargs
    epochs, batch_size, optimizer, learning_rate = r.epochs, r.batch_size, r.optimizer, r.learning_rate
    optimizer_config, patience, monitor = r.optimizer_config, r.patience, r.monitor
    reduce_lr_patience = r.reduce_lr_patience
    schedule, label_smoothing, seed = r.schedule, r.label_smoothing, r.seed
    steps_per_execution, input_pipeline, fit_kwargs = r.steps_per_execution, r.input_pipeline, r.fit_kwargs
    refit_on_train_and_val, mixed_precision, ema_momentum = r.refit_on_train_and_val, r.mixed_precision, r.ema_momentum
    soft_targets, distillation, prepare = r.soft_targets, r.distillation, r.prepare
    selection_outputs, selection_only, notes = r.selection_outputs, r.selection_only, r.notes
    task_obj = tasks.get(task)
    input_pipeline, steps_per_execution = effective_settings(input_pipeline, steps_per_execution)
    data = data if data is not None else task_obj.splits(input_shape)

    if schedule and reduce_lr_patience:
        raise ValueError("give either a learning-rate schedule or reduce_lr_patience, not both")
    if mixed_precision and prepare is not None:
        raise ValueError("mixed_precision is only supported for models trained whole")

    def fresh(phase):
        set_seeds(seed)
        with precision_policy("mixed_bfloat16" if mixed_precision else None):
            model = build_model(task, architecture, hparams, input_shape=input_shape, **(build_kwargs or {}))
        if prepare is None:
            return model, model, {s: xy[0] for s, xy in data.items()}
        return (model, *prepare(model, data, phase))

    y = {s: xy[1] for s, xy in data.items()}
    if bool(soft_targets) != bool(distillation):
        raise ValueError("distillation needs both soft_targets and distillation settings")
    if soft_targets and refit_on_train_and_val:
        raise ValueError("a distilled student is not refitted (its teacher outputs on validation images are not "
                         "training targets)")
    from helpers.training.distillation import targets as kd_targets

    fit_y = {s: kd_targets(y[s], soft_targets[s]) for s in ("train", "val")} if soft_targets else y
    model, trained, inputs = fresh("select")
    work = paths.data_dir() / "checkpoints" / name
    args = dict(batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate, loss=task_obj.loss,
                steps_per_execution=steps_per_execution, input_pipeline=input_pipeline, seed=seed,
                fit_kwargs=fit_kwargs, optimizer_config=optimizer_config, label_smoothing=label_smoothing,
                distillation=distillation, ema_momentum=ema_momentum)
    history = run_fit(trained, (inputs["train"], fit_y["train"]), (inputs["val"], fit_y["val"]), work_dir=work / "select",
                      epochs=epochs, monitor=monitor, patience=patience, reduce_lr_patience=reduce_lr_patience,
                      lr_schedule=lr_schedule_values(schedule, learning_rate, epochs), **args)
    chosen = best_epoch(history, monitor)
    if mixed_precision:
        model = trained = _float32_twin(model, task, architecture, hparams, input_shape)
    if selection_only:
        shutil.rmtree(work, ignore_errors=True)
        return model, history
    proba_val = predict_proba(trained, inputs["val"])
    metrics_val = metrics.classification_metrics(y["val"], proba_val)
    if selection_outputs is not None:
        selection_outputs = Path(selection_outputs)
        selection_outputs.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(selection_outputs, val=proba_val.astype(np.float32), y_val=np.asarray(y["val"]))
    training_info = {"optimizer": optimizer, "learning_rate": learning_rate, "batch_size": batch_size,
                     "max_epochs": epochs, "epochs_run": len(history["loss"]), "best_epoch": chosen,
                     "early_stopping_patience": patience, "monitor": monitor,
                     "reduce_lr_on_plateau_patience": reduce_lr_patience, "loss": task_obj.loss, "seed": seed,
                     **({"optimizer_config": optimizer_config} if optimizer_config else {}),
                     **({"label_smoothing": label_smoothing} if label_smoothing else {}),
                     **({"schedule": schedule} if schedule else {}),
                     **({"distillation": distillation} if distillation else {}),
                     **({"ema_momentum": ema_momentum} if ema_momentum else {}),
                     "precision": "mixed_bfloat16 training, float32 scoring" if mixed_precision else "float32",
                     "steps_per_execution": steps_per_execution, "input_pipeline": input_pipeline,
                     "seconds": round(float(sum(history.get("epoch_seconds", []))), 1),
                     "train_size": int(len(y["train"])), "val_size": int(len(y["val"]))}
    if refit_on_train_and_val:
        model, trained, inputs = fresh("refit")
        x_all, y_all = _concat(inputs["train"], inputs["val"]), np.concatenate([y["train"], y["val"]])
        refit_history = run_fit(trained, (x_all, y_all), None, work_dir=work / "refit", epochs=chosen, patience=None,
                                lr_schedule=history.get("learning_rate"), **args)
        if mixed_precision:
            model = trained = _float32_twin(model, task, architecture, hparams, input_shape)
        training_info["refit"] = {"epochs": chosen, "train_size": int(len(y_all)),
                                  "seconds": round(float(sum(refit_history.get("epoch_seconds", []))), 1),
                                  "history": refit_history}
    record = {
        "task": task, "architecture": architecture, "hparams": hparams,
        **({"input_shape": [int(d) for d in input_shape]} if input_shape is not None else {}),
        "training": training_info,
        "params": int(model.count_params()),
        "trainable_params": int(sum(int(np.prod(w.shape)) for w in trained.trainable_weights)),
        "history": history,
        "metrics": {"val": metrics_val,
                    "test": metrics.classification_metrics(y["test"], predict_proba(trained, inputs["test"]))},
        "notes": notes or {},
        "recipe": r.as_record(),
    }
    record = weights_store.save(name, model, record)
    shutil.rmtree(work, ignore_errors=True)
    return model, record


def train_or_load(name: str, recipe: Recipe | None = None, *, retrain: bool = False, **fit_args):
    """Load ``weights/<name>`` when present and ``retrain`` is false; train and save otherwise (:func:`fit`)."""
    if not retrain and weights_store.exists(name):
        return load(name)
    return fit(name, recipe, **fit_args)
