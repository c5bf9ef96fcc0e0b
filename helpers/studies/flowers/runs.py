"""The flower study's runs: the model, its trained part (head or a backbone tail), one SGD training run, and the
run store (every run's per-epoch history in ``results/flowers/runs.json``, read instead of training again)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.inputs import flower_photos as photos
from helpers.studies.flowers import config
from helpers.training import cached_transfer


def build_model(seed: int | None = None, backbone_weights="imagenet", image_size: int | None = None,
                tail: str = "head"):
    """MobileNetV2 (frozen, BatchNorm in inference mode) -> global average pooling -> Dense(5, softmax).

    Parameters: ``seed`` (int) seeds the Dense layer's initial weights; ``backbone_weights``: ``"imagenet"``,
    ``None`` (random, for tests) or a ``.weights.h5`` path; ``image_size`` (int) the input side; ``tail`` (str, one
    of :data:`TAILS`) the first backbone layer that trains (``"head"``: none).
    Returns an uncompiled Keras model taking uint8-range ``(N, S, S, 3)`` images.
    """
    seed = config.SEED if seed is None else seed
    image_size = config.IMAGE_SIZE if image_size is None else image_size
    from helpers.core.repro import set_seeds
    from helpers.models import saved_models

    set_seeds(seed)
    return saved_models.build_model(config.NAME, "transfer", head_hparams(image_size, tail),
                                input_shape=(image_size, image_size, 3), backbone_weights=backbone_weights)


def head_hparams(image_size: int | None = None, tail: str = "head") -> dict:
    """The transfer model's settings for a trained ``tail`` (see :data:`TAILS`)."""
    image_size = config.IMAGE_SIZE if image_size is None else image_size
    if tail not in (*config.TAILS, config.DEPTH_PROBE_TAIL):
        raise ValueError(f"tail must be one of {', '.join((*config.TAILS, config.DEPTH_PROBE_TAIL))}, not {tail!r}")
    deeper = tail not in ("head", "Conv_1")
    return {"backbone": config.BACKBONE, "image_size": int(image_size), "head_units": [], "dropout": 0.0,
            "unfrozen": tail == "Conv_1", **({"unfrozen_from": tail} if deeper else {})}


def tail_cut(tail: str):
    """The backbone layers whose cached outputs feed a trained ``tail`` (None for the head alone)."""
    from helpers.models import transfer

    if tail == "head":
        return None
    return transfer.tail_cut(config.BACKBONE, None if tail == "Conv_1" else tail)


def mirrored(data: dict) -> dict:
    """``data`` with its training split doubled by mirror images (left-right flips); validation and test unchanged.
    ``data``: ``{split: (x uint8 (N, S, S, 3), y (N,))}``; returns the same with ``2 N`` training photos."""
    x, y = data["train"]
    return {**data, "train": (np.concatenate([x, x[:, :, ::-1, :]]), np.concatenate([y, y]))}


def features(model, data: dict, backbone_weights="imagenet") -> dict:
    """The accelerated datasets: ``{split: (F(x) float32 (N, 1280), y)}``, F the frozen backbone + pooling.

    Computed once and cached in ``data/cache/features`` keyed by backbone, size, weights sha256 and images.
    """

    size = int(model.input_shape[1])
    key = cached_transfer.weights_id(config.BACKBONE, backbone_weights)
    return {s: (cached_transfer.cached_features(model, config.BACKBONE, size, key, x, s, progress=False)[0], y)
            for s, (x, y) in data.items()}


def run_key(mode: str, learning_rate: float, momentum: float, seed: int, epochs: int | None = None,
            batch_size: int | None = None, size: int | None = None, tail: str = "head", mirror: bool = False) -> str:
    """The name of a run in ``runs.json``: every setting that changes its result."""
    epochs = config.EPOCHS if epochs is None else epochs
    batch_size = config.BATCH_SIZE if batch_size is None else batch_size
    size = config.IMAGE_SIZE if size is None else size
    extra = ("" if tail == "head" else f"_tail-{tail}") + ("_mirror" if mirror else "")
    return f"{mode}_lr{learning_rate:g}_m{momentum:g}_s{seed}_e{epochs}_b{batch_size}_px{size}{extra}"


def load_runs(path: Path | None = None) -> dict:
    path = Path(path or config.RUNS_JSON)
    return json.loads(path.read_text()) if path.is_file() else {}


def _save_run(key: str, run: dict, path: Path | None = None) -> None:
    path = Path(path or config.RUNS_JSON)
    runs = load_runs(path)
    runs[key] = run
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(runs.items())), indent=1) + "\n")
    tmp.replace(path)


def val_report(y_true, proba) -> dict:
    """Accuracy, per-class and macro precision and recall (:func:`helpers.evaluation.metrics.class_scores`)."""
    from helpers.evaluation.metrics import class_scores

    return class_scores(y_true, proba, config.CLASS_NAMES,
                        fields=("accuracy", "precision", "recall", "macro_precision", "macro_recall"))


def run(mode: str, learning_rate: float, momentum: float = 0.0, seed: int | None = None, epochs: int | None = None,
        data: dict | None = None, backbone_weights="imagenet", retrain: bool = False, path: Path | None = None,
        batch_size: int | None = None, image_size: int | None = None, tail: str = "head", mirror: bool = False) -> dict:
    """One SGD training run of the 5-class head (and of a backbone tail, if asked); returns (and saves) its record.

    Parameters: ``mode`` ``"standard"`` (the full model on images: every photo through the frozen backbone
    every epoch) or ``"accelerated"`` (the head alone on :func:`features`, or a ``tail`` with the head on the
    cached activations at its input); ``learning_rate`` and ``momentum`` (floats) of plain SGD
    (``nesterov=False``); ``seed`` (int) the head's initial weights and the batch order, identical in both
    modes; ``epochs`` (int) a fixed number of epochs (no early stopping, so whole curves are compared);
    ``tail`` (str, one of :data:`TAILS`, accelerated only) the first backbone layer that trains; ``mirror``
    (bool) adds the training photos' mirror images (:func:`mirrored`: a flower seen in a mirror is the same flower,
    and cached activations cannot be augmented at random each epoch, so this is their augmentation).
    Returns ``{"mode", "learning_rate", "momentum", "seed", "tail", "mirror", "history", "best_epoch",
    "val_report"}``: ``history`` has per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` and
    ``epoch_seconds``; ``val_report`` scores the best validation-loss epoch (precision and recall per class).
    Saved in ``results/flowers/runs.json`` and loaded from there unless ``retrain`` (a saved run needs no photos:
    ``image_size``, default that of ``data`` else :data:`IMAGE_SIZE`, completes its key).
    """
    seed = config.SEED if seed is None else seed
    epochs = config.EPOCHS if epochs is None else epochs
    batch_size = config.BATCH_SIZE if batch_size is None else batch_size
    from helpers.models import saved_models, transfer
    from helpers.training import trainer

    if mode not in ("standard", "accelerated"):
        raise ValueError(f"mode must be 'standard' or 'accelerated', not {mode!r}")
    if tail != "head" and mode != "accelerated":
        raise ValueError("a backbone tail is trained on cached activations: mode must be 'accelerated'")
    size = int(data["train"][0].shape[1]) if data is not None else int(image_size or config.IMAGE_SIZE)
    key = run_key(mode, learning_rate, momentum, seed, epochs, batch_size, size, tail, mirror)
    saved = load_runs(path)
    if not retrain and key in saved:
        return saved[key]
    data = data if data is not None else photos.load_splits((size, size, 3))
    data = mirrored(data) if mirror else data
    model = build_model(seed, backbone_weights, size, tail)
    if mode == "standard":
        trained, inputs = model, {s: xy[0] for s, xy in data.items()}
    elif tail == "head":
        trained, inputs = model.get_layer("head"), {s: xy[0] for s, xy in features(model, data, backbone_weights).items()}
    else:
        cut, wkey = tail_cut(tail), cached_transfer.weights_id(config.BACKBONE, backbone_weights)
        trained = transfer.tail_model(model, config.BACKBONE, cut)
        inputs = {s: cached_transfer.cached_features(model, config.BACKBONE, size, wkey, xy[0], s, progress=False, cut=cut)[1]
                  for s, xy in data.items() if s != "test"}
    work = paths.data_dir() / "checkpoints" / f"flowers_{key}"
    shutil.rmtree(work, ignore_errors=True)
    history = trainer.run_fit(
        trained, (inputs["train"], data["train"][1]), (inputs["val"], data["val"][1]), work_dir=work, epochs=epochs,
        batch_size=batch_size, optimizer="sgd", learning_rate=learning_rate,
        optimizer_config={"momentum": momentum, "nesterov": False}, loss="sparse_categorical_crossentropy",
        monitor="val_loss", patience=None, input_pipeline="steady", seed=seed,
        steps_per_execution=8 if mode == "accelerated" else 1)
    shutil.rmtree(work, ignore_errors=True)
    result = {"mode": mode, "learning_rate": learning_rate, "momentum": momentum, "seed": seed, "epochs": epochs,
              "batch_size": batch_size, "image_size": int(data["train"][0].shape[1]),
              **({"tail": tail} if tail != "head" else {}), **({"mirror": True} if mirror else {}),
              "train_size": int(len(data["train"][1])), "history": history,
              "best_epoch": trainer.best_epoch(history, "val_loss"),
              "val_report": val_report(data["val"][1], saved_models.predict_proba(trained, inputs["val"]))}
    _save_run(key, result, path)
    return result


def summary(runs: list[dict]):
    """Mean and spread over seeds per (mode, image size, learning rate, momentum, and for the depth study's runs
    tail and mirror): best validation loss and accuracy, best epoch, seconds per epoch (epochs 2.., the first one
    includes graph tracing)."""
    import pandas as pd

    rows = [{"mode": r["mode"], "image_size": r.get("image_size", config.IMAGE_SIZE), "learning_rate": r["learning_rate"],
             "momentum": r["momentum"], "seed": r["seed"],
             "best_val_loss": min(r["history"]["val_loss"]),
             "val_accuracy_at_best": r["history"]["val_accuracy"][r["best_epoch"] - 1], "best_epoch": r["best_epoch"],
             "seconds_per_epoch": float(np.mean(r["history"]["epoch_seconds"][1:] or r["history"]["epoch_seconds"]))}
            for r in runs]
    keys = ["mode", "image_size", "learning_rate", "momentum"]
    if any("tail" in r or "mirror" in r for r in runs):  # the depth study's runs
        for row, r in zip(rows, runs):
            row.update(tail=r.get("tail", "head"), mirror=bool(r.get("mirror", False)))
        keys += ["tail", "mirror"]
    df = pd.DataFrame(rows)
    return df.groupby(keys, sort=len(keys) == 4).agg(  # the depth study keeps its runs' order (shallow to deep)
        seeds=("seed", "count"), val_loss_mean=("best_val_loss", "mean"), val_loss_std=("best_val_loss", "std"),
        val_accuracy_mean=("val_accuracy_at_best", "mean"), val_accuracy_std=("val_accuracy_at_best", "std"),
        best_epoch_median=("best_epoch", "median"), seconds_per_epoch=("seconds_per_epoch", "mean")).reset_index()


# --- the runs each statement is about ----------------------------------------------------------------------------

def study_runs(runs: dict, mode: str, image_size: int | None = None) -> list[dict]:
    """The SGD study's runs (the head alone, no mirror images, the study's epochs and batch) of ``mode`` at
    ``image_size`` (default :data:`IMAGE_SIZE`)."""
    size = int(image_size or config.IMAGE_SIZE)
    return [r for r in runs.values() if r["mode"] == mode and "tail" not in r and not r.get("mirror")
            and r["epochs"] == config.EPOCHS and r["batch_size"] == config.BATCH_SIZE
            and r.get("image_size", config.IMAGE_SIZE) == size]


def setting_runs(runs: list[dict], learning_rate: float, momentum: float) -> list[dict]:
    """The runs (one per seed) of one SGD setting."""
    return [r for r in runs if r["learning_rate"] == learning_rate and r["momentum"] == momentum]


def depth_runs(runs: dict, record: dict) -> list[dict]:
    """The depth study's runs (:func:`depth_study`) at the recommended model's side and settings (``record``), in
    the order they were made (shallow to deep, then the chosen depth without mirror images)."""
    t, size = record["training"], int(record["hparams"]["image_size"])
    order = {tail: i for i, tail in enumerate(config.TAILS)}
    chosen = [r for r in runs.values() if ("tail" in r or r.get("mirror")) and r["mode"] == "accelerated"
              and r.get("tail", "head") in order  # the depth probe's deeper tail is not a candidate
              and r.get("image_size") == size and r["epochs"] == config.DEEP_EPOCHS and r["batch_size"] == config.BATCH_SIZE
              and r["learning_rate"] == t["learning_rate"]
              and r["momentum"] == (t.get("optimizer_config") or {}).get("momentum", 0.0)]
    return sorted(chosen, key=lambda r: (not r.get("mirror"), order[r.get("tail", "head")], r["seed"]))


def exploratory_runs(runs: dict) -> list[dict]:
    """The single-seed runs at a final-model side other than the study's (:data:`FINAL_IMAGE_SIZES`), seed
    :data:`SEED`, made to look before the size check was set up; none of them chose anything. One row per run:
    ``{"image_size", "learning_rate", "momentum", "val_loss", "val_accuracy", "best_epoch", "epochs"}``."""
    sides = [s for s in config.FINAL_IMAGE_SIZES if s != config.IMAGE_SIZE]
    rows = [{"image_size": s, "learning_rate": r["learning_rate"], "momentum": r["momentum"],
             "val_loss": min(r["history"]["val_loss"]), "val_accuracy": r["history"]["val_accuracy"][r["best_epoch"] - 1],
             "best_epoch": r["best_epoch"], "epochs": r["epochs"]}
            for s in sides for r in study_runs(runs, "accelerated", s) if r["seed"] == config.SEED]
    return sorted(rows, key=lambda r: (r["image_size"], r["learning_rate"], r["momentum"]))
