"""Task 1: our own CNN for the catalogue, its design table, class weights and the verdict of its curves."""

from __future__ import annotations

import numpy as np

from helpers.core.errors import HelpersError
from helpers.inputs import gear_photos as catalogue
from helpers.studies.gear import config
from helpers.studies.gear.data_summary import split_counts


def cnn_design_table():
    """Our CNN, element by element, with the reason for each choice (rendered from :data:`CNN_HPARAMS` and the
    split manifest)."""
    import pandas as pd

    hp, tr = config.CNN_HPARAMS, config.CNN_TRAINING
    counts = split_counts()
    n_train, per_class = int(counts["train"].sum()), counts.sum(axis=1)
    f = hp["filters"]
    side = config.CNN_SIZE // 2 ** len(f)
    rows = [
        ("input", f"{config.CNN_SIZE}×{config.CNN_SIZE} RGB, pixels / 255 inside the model",
         "colour matters (rope and tents come in bright colours, crampons are grey metal); the saved model takes raw pixels"),
        ("augmentation (training only)",
         f"left-right flips, rotations up to ±{hp['rotate'] * 360:.0f}°, zooms ±{hp['zoom']:.0%}, shifts ±{hp['translate']:.0%}, "
         "empty space filled white",
         f"{n_train:,} training photos are few for a CNN: each epoch sees a slightly different catalogue; flips are "
         "safe because no class depends on which way an item faces; white fill matches the photos' background"),
        ("convolutional blocks", f"{len(f)} × [Conv 3×3 → BatchNorm → ReLU → MaxPool 2×2], filters "
         + " → ".join(str(x) for x in f),
         f"the brief's conv → pool pattern, deep enough that the last filters see most of the item "
         f"({config.CNN_SIZE} → {side} pixels); filters double as the resolution halves; BatchNorm lets a small network train "
         "fast and steadily"),
        ("pooling to a vector", "global average pooling",
         "one number per filter, wherever the item sits; a flattened map would need many more weights and over-fit"),
        ("dropout", f"{hp['dropout']:g} before the output", "regularises the only dense layer"),
        ("output", f"Dense {len(config.CLASS_NAMES)}, softmax", "one probability per gear class"),
        ("training", f"Adam, learning rate {tr['learning_rate']:g}, batch {tr['batch_size']}, at most {tr['epochs']} epochs; "
         f"learning rate halved after {tr['reduce_lr_patience']} epochs without progress",
         "Adam's default rate trains BatchNorm networks reliably without a search"),
        ("against over-fitting", f"checkpoint of the best validation loss, early stopping after {tr['patience']} epochs "
         "without improvement, augmentation, dropout",
         "the model kept is the one that generalised best to photos it did not train on"),
        ("unbalanced classes", "class weights n / (k · n_class); the alternative, trained without, is compared on validation",
         f"the rarest class ({per_class.idxmin()}) has {per_class.min() / per_class.max():.0%} of the largest one's "
         "photos: unweighted, the loss hardly notices it"),
    ]
    return pd.DataFrame(rows, columns=["element", "choice", "why"]).set_index("element")


def overfitting_summary(record: dict) -> dict:
    """From a record's history: the best epoch, its train and validation loss, and where validation loss
    ended (the curves' verdict on over-fitting)."""
    h = record["history"]
    best = int(np.argmin(h["val_loss"]))
    return {"best epoch": best + 1, "epochs run": len(h["val_loss"]), "train loss at best": round(h["loss"][best], 3),
            "val loss at best": round(h["val_loss"][best], 3), "val loss at the end": round(h["val_loss"][-1], 3),
            "train accuracy at best": round(h["accuracy"][best], 3),
            "val accuracy at best": round(h["val_accuracy"][best], 3)}


def class_weights(y) -> dict:
    """``{class: n / (k * n_class)}``: each class weighs as much in the loss as a balanced class would."""
    counts = np.bincount(np.asarray(y), minlength=len(config.CLASS_NAMES))
    if (counts == 0).any():
        missing = [config.CLASS_NAMES[i] for i in np.where(counts == 0)[0]]
        raise HelpersError(f"no training images of {', '.join(missing)}: class weights are undefined")
    return {i: float(len(y) / (len(config.CLASS_NAMES) * c)) for i, c in enumerate(counts)}


def train_own_cnn(retrain: bool = False, weighted: bool = True, data: dict | None = None, **overrides):
    """Task 1: our CNN on 128x128 photos; returns ``(model, record)`` (loaded when saved and not ``retrain``).

    Parameters: ``weighted`` weights each class's loss by ``class_weights`` (the unbalanced-class answer);
    ``data`` the splits (default :func:`load_splits` at 128x128); ``overrides`` change
    :data:`CNN_TRAINING` (tests use tiny data). The best validation epoch is kept (checkpoint on
    validation loss, early stopping); the test split is scored once and recorded.
    """
    from helpers.models import saved_models
    from helpers.training import trainer

    name = config.OWN_CNN_WEIGHTED if weighted else config.OWN_CNN_UNWEIGHTED
    if not retrain and trainer.weights_store.exists(name):
        return saved_models.load(name)
    data = data if data is not None else catalogue.load_splits((config.CNN_SIZE, config.CNN_SIZE, 3))
    shape = tuple(int(d) for d in data["train"][0].shape[1:])
    args = {**config.CNN_TRAINING, **overrides}
    fit_kwargs = {"class_weight": class_weights(data["train"][1])} if weighted else None
    return trainer.fit(name, task=config.NAME, architecture="catalogue_cnn", hparams=dict(config.CNN_HPARAMS), data=data,
                        input_shape=shape, fit_kwargs=fit_kwargs, refit_on_train_and_val=False,
                        notes={"class_weights": "balanced (n / (k * n_class))" if weighted else "none",
                               "kept": "the best validation epoch (checkpoint); no refit"}, **args)
