"""The training recipe: :class:`Recipe`, every setting of one training run as one value, and its parts:
label-smoothed cross-entropy, per-epoch learning-rate schedules, and the precision policy (mixed bfloat16) a model
is built under."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from helpers.core.repro import DEFAULT_SEED


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything :func:`helpers.training.trainer.fit` needs besides the model's name and the data.

    The model: ``task``, ``architecture``, ``hparams`` (recorded), ``input_shape`` (image-folder tasks; recorded),
    ``build_kwargs`` (to the builder, not recorded: e.g. where pretrained weights come from).
    The selection run: ``epochs``, ``batch_size``, ``optimizer``, ``learning_rate``, ``optimizer_config``,
    ``patience`` (early stopping; ``None``: never), ``monitor``, ``reduce_lr_patience`` or a named ``schedule``,
    ``label_smoothing``, ``seed``; how it is fed: ``steps_per_execution``, ``input_pipeline``, ``fit_kwargs``.
    Optional parts, each off by default:

    - *refit* (``refit_on_train_and_val``): a fresh model trained on training + validation images for the chosen
      number of epochs;
    - *mixed precision* (``mixed_precision``): training under ``mixed_bfloat16``, scoring a float32 twin;
    - *distillation* (``soft_targets`` ``{"train", "val"}`` -> a teacher's log-probabilities, with ``distillation``
      ``{"temperature", "alpha"}``);
    - *EMA* (``ema_momentum``): the moving average of the weights is what is validated and kept;
    - ``prepare`` (train part of the model on transformed inputs, e.g. cached backbone features),
      ``selection_outputs`` (where the selection run's validation probabilities go), ``selection_only`` (stop after
      the selection run), ``notes`` (added to the record).

    The keyword form of ``fit`` (``fit(name, task=..., epochs=...)``) builds one of these
    (``Recipe(**settings)``); :meth:`as_record` is the part of it a new record keeps.
    """

    task: str
    architecture: str
    hparams: dict
    epochs: int = 50
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    optimizer_config: dict | None = None
    patience: int | None = 5
    monitor: str = "val_loss"
    reduce_lr_patience: int | None = None
    schedule: dict | None = None
    label_smoothing: float = 0.0
    seed: int = DEFAULT_SEED
    steps_per_execution: int = 1
    input_pipeline: str = "keras"
    fit_kwargs: dict | None = None
    input_shape: Any = None
    build_kwargs: dict | None = None
    # optional parts
    refit_on_train_and_val: bool = False
    mixed_precision: bool = False
    soft_targets: dict | None = None
    distillation: dict | None = None
    ema_momentum: float | None = None
    prepare: Callable | None = None
    selection_outputs: Any = None
    selection_only: bool = False
    notes: dict | None = None

    #: Fields that are not settings of the recipe as recorded: data, code, paths, unrecorded builder arguments.
    NOT_RECORDED = ("soft_targets", "prepare", "selection_outputs", "build_kwargs", "notes")

    def replace(self, **changes) -> Recipe:
        """This recipe with some settings changed."""
        return dataclasses.replace(self, **changes)

    def as_record(self) -> dict:
        """The recipe as JSON-ready settings (what a new record keeps under ``"recipe"``): every field but
        :data:`NOT_RECORDED`, with ``distillation`` present only when a teacher was used."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name in self.NOT_RECORDED:
                continue
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(value):
    """``value`` as JSON can hold it: mappings with string keys, lists, plain numbers; anything else as its repr."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def as_recipe(recipe: Recipe | None = None, **settings) -> Recipe:
    """``recipe`` (with ``settings`` changed), or a recipe made of ``settings`` alone (the keyword form)."""
    if recipe is None:
        return Recipe(**settings)
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, not {type(recipe).__name__}")
    return recipe.replace(**settings) if settings else recipe


def smoothed_sparse_crossentropy(label_smoothing: float, n_classes: int):
    """Cross-entropy against one-hot targets mixed with the uniform distribution: ``(1 - s) * onehot + s / C``.

    Keeps the network from pushing its outputs to exactly 0 and 1 (over-confidence); integer labels in.
    """
    import keras
    from keras import ops

    s, c = float(label_smoothing), int(n_classes)
    if not 0.0 <= s < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), not {label_smoothing}")

    def loss(y_true, y_pred):
        onehot = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), c)
        target = onehot * (1.0 - s) + s / c
        return keras.losses.categorical_crossentropy(target, ops.cast(y_pred, "float32"))

    loss.__name__ = f"sparse_categorical_crossentropy_smoothed_{s:g}"
    return loss


def lr_schedule_values(schedule: dict | None, learning_rate: float, epochs: int) -> list | None:
    """Per-epoch learning rates of a named schedule (``None``: constant, or plateau-driven).

    ``{"kind": "cosine", "warmup_epochs": W, "final_fraction": f}``: linear warm-up over ``W`` epochs to
    ``learning_rate``, then cosine decay to ``f * learning_rate`` at the last epoch (one-cycle-like, and
    with a fixed length the last epoch is usually the best one).
    """
    if not schedule:
        return None
    kind = schedule.get("kind")
    if kind != "cosine":
        raise ValueError(f"unknown learning-rate schedule {kind!r}; known: 'cosine'")
    w, f = int(schedule.get("warmup_epochs", 0)), float(schedule.get("final_fraction", 0.0))
    out = []
    for e in range(int(epochs)):
        if e < w:
            out.append(learning_rate * (e + 1) / (w + 1))
        else:
            t = (e - w) / max(1, epochs - w - 1)
            out.append(learning_rate * (f + (1 - f) * 0.5 * (1 + np.cos(np.pi * t))))
    return [round(float(v), 10) for v in out]


@contextlib.contextmanager
def precision_policy(name: str | None):
    """Use a Keras dtype policy (e.g. ``mixed_bfloat16``) inside the block; ``None``: leave it."""
    import keras

    if name is None:
        yield
        return
    old = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(old)
