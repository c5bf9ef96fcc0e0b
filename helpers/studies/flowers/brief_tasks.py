"""The brief's ten tasks, one function each (``python -m helpers.flowers task_7`` repeats task 7)."""

from __future__ import annotations

import time

import numpy as np

from helpers.inputs import flower_photos as photos
from helpers.inputs import image_folder
from helpers.studies.flowers import config
from helpers.studies.flowers.runs import build_model, features, run, summary


def task_1(download_if_missing: bool = True) -> dict:
    """Load the flower dataset. Returns ``{"folder": Path, "counts": {class: images}, "skipped": [(file, why)]}``
    (unreadable files are skipped with a warning, never a crash)."""
    folder = photos.dataset_dir(download_if_missing)
    files, labels, names, skipped = image_folder.scan(folder)
    return {"folder": folder, "counts": dict(zip(names, np.bincount(labels, minlength=len(names)).tolist())),
            "skipped": skipped}


def task_2(backbone_weights="imagenet", image_size: int | None = None):
    """MobileNetV2 without its ImageNet classifier, ImageNet weights from the shared file (frozen).
    Returns the Keras backbone taking preprocessed ``(N, S, S, 3)`` inputs."""
    image_size = config.IMAGE_SIZE if image_size is None else image_size
    from helpers.models import backbones

    return backbones.get_backbone(config.BACKBONE, (image_size, image_size, 3), weights=backbone_weights)


def task_3(seed: int | None = None, backbone_weights="imagenet", image_size: int | None = None):
    """The network with its last layer replaced by ``Dense(5, softmax)`` (see :func:`build_model`)."""
    seed = config.SEED if seed is None else seed
    image_size = config.IMAGE_SIZE if image_size is None else image_size
    return build_model(seed, backbone_weights, image_size)


def task_4() -> dict:
    """The stratified, seeded split for standard training. Returns ``{split: (x uint8 (N,S,S,3), y int64 (N,))}``."""
    return photos.load_splits()


def task_5(retrain: bool = False, **kw) -> dict:
    """Standard training with SGD, learning rate 0.01, momentum 0, nesterov False. Returns the run (:func:`run`)."""
    return run("standard", config.TASK5_SGD["learning_rate"], config.TASK5_SGD["momentum"], retrain=retrain, **kw)


def task_6(result: dict | None = None) -> dict:
    """Curves of a run (default task 5's): ``{"epochs", "seconds" (cumulative), "loss", "val_loss", "accuracy",
    "val_accuracy", "val_report"}`` (per-class and macro precision and recall of its best epoch)."""
    r = result or task_5()
    h = r["history"]
    return {"epochs": list(range(1, len(h["loss"]) + 1)), "seconds": np.cumsum(h["epoch_seconds"]).round(1).tolist(),
            **{k: h[k] for k in ("loss", "val_loss", "accuracy", "val_accuracy")}, "val_report": r["val_report"]}


def best_by_validation(runs: list[dict]) -> dict:
    """The run whose best epoch has the lowest validation loss."""
    return min(runs, key=lambda r: (min(r["history"]["val_loss"]), r["learning_rate"], r["momentum"]))


def task_7(retrain: bool = False, **kw) -> list[dict]:
    """Standard training at :data:`LEARNING_RATES` (momentum 0). Returns the runs."""
    return [run("standard", lr, 0.0, retrain=retrain, **kw) for lr in config.LEARNING_RATES]


def task_8(retrain: bool = False, **kw) -> list[dict]:
    """Standard training at task 7's best learning rate with :data:`MOMENTA`. Returns the runs."""
    lr = best_by_validation(task_7(**kw))["learning_rate"]
    return [run("standard", lr, m, retrain=retrain, **kw) for m in config.MOMENTA]


def task_9(backbone_weights="imagenet", data: dict | None = None) -> dict:
    """The accelerated datasets. Returns ``{split: (F(x) (N, 1280), y (N,))}`` and the seconds the pass took."""
    t = time.perf_counter()
    data = data if data is not None else photos.load_splits()
    feats = features(build_model(config.SEED, backbone_weights, int(data["train"][0].shape[1])), data, backbone_weights)
    return {"features": feats, "seconds": round(time.perf_counter() - t, 1)}


def task_10(retrain: bool = False, seeds=None, **kw) -> list[dict]:
    """Tasks 7 and 8 repeated on the accelerated datasets, for every seed: the three learning rates, then the
    momenta at the learning rate whose best validation loss is lowest on average over the seeds. Returns the runs."""
    seeds = config.SEEDS if seeds is None else seeds
    out = [run("accelerated", lr, 0.0, seed=s, retrain=retrain, **kw) for lr in config.LEARNING_RATES for s in seeds]
    lr_table = summary(out)
    best_lr = float(lr_table.sort_values(["val_loss_mean", "learning_rate"]).iloc[0]["learning_rate"])
    out += [run("accelerated", best_lr, m, seed=s, retrain=retrain, **kw) for m in config.MOMENTA for s in seeds]
    return out


TASKS = {f"task_{i}": f for i, f in enumerate([task_1, task_2, task_3, task_4, task_5, task_6, task_7, task_8, task_9,
                                               task_10], start=1)}
