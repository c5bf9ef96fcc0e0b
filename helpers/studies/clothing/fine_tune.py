"""Fine-tuning the ImageNet MobileNetV2 on real clothing photos, on cached activations (notebook 11's modelling).

Each run trains the backbone from ``tail`` on (the head from a fresh seeded head), with Adam, on the cached
activations at the tail's input of: the training photos, their mirror images, and ``views`` augmented views per
photo (``helpers.inputs.photo_views``: crops and zooms, small rotations, colour). The frozen part of the backbone
runs once per image; an epoch runs only the tail. Validation loss picks the epoch (the weights kept are that
epoch's); each run records its history, its best epoch's validation accuracy with a 95 % interval, and the same with
test-time mirroring (the photo's and its mirror image's probabilities averaged). Runs are saved to
``results/clothing/runs.json`` (their validation probabilities to ``results/clothing/val_outputs/``) and loaded
when saved; a run's trained weights are kept in ``data/cache/clothing_runs/`` so that the chosen one becomes the
final model (:mod:`helpers.studies.clothing.final_model`) without training again. The test split is never touched
here.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from helpers.studies.clothing import config


def run_key(tail: str, views: int, epochs: int, learning_rate: float, seed: int, batch_size: int) -> str:
    return f"{tail}, views={views}, epochs={epochs}, lr={learning_rate:g}, seed={seed}, batch={batch_size}"


def _slug(key: str) -> str:
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def load_runs(path=None) -> dict:
    path = path or config.RUNS_JSON
    return json.loads(path.read_text()) if path.is_file() else {}


def weights_cache(key: str):
    from helpers.core import paths

    return paths.data_dir() / "cache" / "clothing_runs" / f"{_slug(key)}.weights.h5"


def outputs_path(key: str):
    return config.OUTPUTS_DIR / f"{_slug(key)}.npz"


def training_set(data: dict, views: int, size: int, view_data=None):
    """The training photos, their mirror images and ``views`` augmented views of each (``view_data``: ``(x, y)``
    of the views, default :func:`helpers.inputs.clothing_photos.train_views`)."""
    x, y = data["train"]
    xs, ys = [x, x[:, :, ::-1]], [y, y]
    if views:
        if view_data is None:
            from helpers.inputs import clothing_photos

            view_data = clothing_photos.train_views(views, size)
        xs.append(view_data[0])
        ys.append(view_data[1])
    return np.concatenate(xs), np.concatenate(ys)


def build(tail: str, size: int, backbone_weights="imagenet"):
    from helpers.models import saved_models

    return saved_models.build_model(config.NAME, "transfer", hparams(tail, size), input_shape=(size, size, 3),
                                    backbone_weights=backbone_weights)


def hparams(tail: str, size: int) -> dict:
    return {"backbone": config.BACKBONE, "image_size": int(size), "head_units": [], "dropout": 0.0,
            "unfrozen": False, "unfrozen_from": tail}


def val_probabilities(model, tail: str, x_val, backbone_weights="imagenet") -> dict:
    """``{"plain", "mirror"}``: the model's validation probabilities, and the mean of the photo's and its mirror
    image's (computed from cached activations at the tail's input)."""
    from helpers.models import saved_models
    from helpers.models.transfer import tail_cut, tail_model
    from helpers.training import cached_transfer

    size = int(x_val.shape[1])
    cut = tail_cut(config.BACKBONE, tail)
    key = cached_transfer.weights_id(config.BACKBONE, backbone_weights)
    tail_net = tail_model(model, config.BACKBONE, cut)

    def proba(x, split):
        f = cached_transfer.cached_features(model, config.BACKBONE, size, key, x, split, progress=False, cut=cut)
        return saved_models.predict_proba(tail_net, f[1] if len(f) == 2 else f[1:])

    plain = proba(x_val, "clothing_val")
    return {"plain": plain, "mirror": (plain + proba(x_val[:, :, ::-1], "clothing_val_mirror")) / 2}


def run(tail: str | None = None, views: int = 0, epochs: int | None = None, learning_rate: float | None = None,
        seed: int | None = None, batch_size: int | None = None, retrain: bool = False, data: dict | None = None,
        view_data=None, backbone_weights="imagenet", path=None, train_if_missing: bool = True) -> dict:
    """One fine-tuning run (see the module docstring), loaded from ``runs.json`` when saved unless ``retrain``;
    ``train_if_missing=False`` (a notebook that only loads) raises instead of training a run that is not saved."""
    from helpers.core.results import write_arrays_if_changed, write_json_if_changed
    from helpers.evaluation.metrics import proportion_interval
    from helpers.inputs import clothing_photos
    from helpers.training import cached_transfer

    tail, epochs = tail or config.TAIL, int(epochs or config.EPOCHS)
    lr = float(learning_rate or config.LEARNING_RATE)
    seed = config.SEED if seed is None else int(seed)
    batch_size = int(batch_size or config.BATCH_SIZE)
    key = run_key(tail, views, epochs, lr, seed, batch_size)
    path = path or config.RUNS_JSON
    runs = load_runs(path)
    if key in runs and not retrain:
        return runs[key]
    if not retrain and not train_if_missing:
        from helpers.core.errors import HelpersError

        raise HelpersError(f"the fine-tuning run {key!r} is not saved in {path.name}: set RETRAIN = True to train it "
                           "(tens of minutes on 2 CPU cores), or restore results/clothing/ from git.")
    size = config.IMAGE_SIZE if data is None else int(data["train"][0].shape[1])
    data = data or clothing_photos.load_splits((size, size, 3))
    train = training_set(data, views, size, view_data)
    model, history = cached_transfer.train_or_load_step(
        "clothing_run", backbone=config.BACKBONE, image_size=size, unfrozen_from=tail, backbone_weights=backbone_weights,
        task=config.NAME, retrain=True, progress=False, data={"train": train, "val": data["val"]},
        input_shape=(size, size, 3), epochs=epochs, patience=None, learning_rate=lr, optimizer="adam",
        batch_size=batch_size, monitor="val_loss", seed=seed, selection_only=True)
    cache = weights_cache(key)
    cache.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(cache)
    y_val = data["val"][1]
    probs = val_probabilities(model, tail, data["val"][0], backbone_weights)
    out = {"tail": tail, "views": views, "epochs": epochs, "learning_rate": lr, "seed": seed, "batch_size": batch_size,
           "image_size": size, "train_images": int(len(train[1])), "val_photos": int(len(y_val)),
           "best_epoch": int(np.argmin(history["val_loss"]) + 1),
           "history": {k: [round(float(v), 4) for v in history[k]] for k in ("loss", "accuracy", "val_loss", "val_accuracy")},
           "seconds": round(float(sum(history["epoch_seconds"])), 0)}
    for kind, p in probs.items():
        right = int((p.argmax(1) == y_val).sum())
        lo, hi = proportion_interval(right, len(y_val))
        out[kind] = {"val_accuracy": round(right / len(y_val), 4), "val_right": right, "val_low": round(lo, 4),
                     "val_high": round(hi, 4)}
    write_arrays_if_changed(outputs_path(key), {k: v.astype(np.float32) for k, v in probs.items()} | {"y": y_val})
    runs = load_runs(path)
    runs[key] = out
    write_json_if_changed(path, dict(sorted(runs.items())), indent=1)
    return out
