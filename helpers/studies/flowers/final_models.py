"""From the study to saved models: the recommended settings (on validation), the input side, the recommended model,
and beyond the brief the fine-tuned and the deeper fine-tuned models (depth chosen on validation), each scored once
on test."""

from __future__ import annotations

from helpers.core.errors import HelpersError
from helpers.inputs import flower_photos as photos
from helpers.studies.flowers import config
from helpers.studies.flowers.brief_tasks import task_10
from helpers.studies.flowers.evidence import accuracy_bar, standard_error
from helpers.studies.flowers.runs import head_hparams, mirrored, run, summary
from helpers.training import cached_transfer


def recommend(runs: list[dict] | None = None, image_size: int | None = None) -> dict:
    """The recommended learning rate, momentum and epochs, from the accelerated runs' validation results at the
    study's input side (mean over seeds of the best epoch's validation loss; epochs: the median best epoch).

    ``runs``: run records (default: task 10's); ``image_size`` (int, default :data:`IMAGE_SIZE`) keeps the runs of
    that side only. Returns ``{"learning_rate", "momentum", "epochs", "val_loss_mean", "val_accuracy_mean", "seeds",
    "image_size"}``.
    """
    runs = runs if runs is not None else task_10()
    size = int(image_size or config.IMAGE_SIZE)
    chosen = [r for r in runs if r["mode"] == "accelerated" and r.get("image_size", config.IMAGE_SIZE) == size
              and "tail" not in r and not r.get("mirror")]
    if not chosen:
        raise HelpersError(f"no accelerated flower runs at {size} px to recommend from: python -m helpers.flowers task_10")
    s = summary(chosen)
    best = s.sort_values(["val_loss_mean", "learning_rate", "momentum"]).iloc[0]
    return {"learning_rate": float(best["learning_rate"]), "momentum": float(best["momentum"]),
            "epochs": int(best["best_epoch_median"]), "val_loss_mean": float(best["val_loss_mean"]),
            "val_accuracy_mean": float(best["val_accuracy_mean"]), "seeds": int(best["seeds"]), "image_size": size}


def saved_recommendation(rec: dict | None = None, record: dict | None = None) -> tuple[dict, dict]:
    """``rec`` and ``record``, or the saved recommendation (:func:`recommend`) and the recommended model's record:
    the defaults of the checks run after the study (``ranges``, ``probe``)."""
    from helpers.models import weights_store

    return rec or recommend(), record or weights_store.load_record(config.RECOMMENDED)


def size_check(rec: dict | None = None, sizes=None, seeds=None, retrain: bool = False,
               backbone_weights="imagenet", data_by_size: dict | None = None, **kw):
    """The recommended SGD settings rerun (accelerated, every seed) at each input side of ``sizes``.

    ``rec``: :func:`recommend`'s output; ``data_by_size``: ``{side: splits}`` (default: :func:`load_splits`, read
    only for runs not saved yet).
    Returns :func:`summary`'s table of those runs, one row per side, so the final side is chosen on validation.
    """
    sizes = config.FINAL_IMAGE_SIZES if sizes is None else sizes
    seeds = config.SEEDS if seeds is None else seeds
    rec = rec or recommend()
    return summary([run("accelerated", rec["learning_rate"], rec["momentum"], seed=seed, image_size=size,
                        data=(data_by_size or {}).get(size), retrain=retrain, backbone_weights=backbone_weights, **kw)
                    for size in sizes for seed in seeds])


def final_image_size(table) -> int:
    """The input side whose runs in :func:`size_check`'s ``table`` have the lowest mean best validation loss."""
    return int(table.sort_values(["val_loss_mean", "image_size"]).iloc[0]["image_size"])


def train_recommended(retrain: bool = False, data: dict | None = None, backbone_weights="imagenet", rec: dict | None = None,
                      image_size: int | None = None):
    """The recommended model, trained on cached features with the recommended SGD settings: a selection run
    of at most the recommended number of epochs on the training photos (validation loss picks the epoch,
    which may come earlier), then a refit on training + validation photos for that many epochs; saved, and
    scored once on the test split. ``image_size``: the input side (default: that of ``data``, else
    :func:`final_image_size` of :func:`size_check`). Returns ``(model, record)``."""
    from helpers.models import saved_models, weights_store
    from helpers.training import cached_transfer

    if not retrain and weights_store.exists(config.RECOMMENDED):
        return saved_models.load(config.RECOMMENDED)
    rec = rec or recommend()
    if data is None:
        size = int(image_size or final_image_size(size_check(rec, backbone_weights=backbone_weights)))
        data = photos.load_splits((size, size, 3))
    size = int(data["train"][0].shape[1])
    return cached_transfer.train_or_load_step(
        config.RECOMMENDED, backbone=config.BACKBONE, image_size=size, head_units=(), dropout=0.0, unfrozen=False,
        backbone_weights=backbone_weights, task=config.NAME, retrain=True, progress=False, data=data,
        input_shape=(size, size, 3), epochs=rec["epochs"], patience=None, learning_rate=rec["learning_rate"],
        optimizer="sgd", optimizer_config={"momentum": rec["momentum"], "nesterov": False}, batch_size=config.BATCH_SIZE,
        monitor="val_loss", refit_on_train_and_val=True, seed=config.SEED)


def fine_tune(retrain: bool = False, data: dict | None = None, backbone_weights="imagenet", epochs: int | None = None):
    """Beyond the brief: the recommended model's last two backbone layers (Conv_1, Conv_1_bn) trained with its head,
    on cached tail inputs, with the recommended SGD settings; selection run from the recommended model's selection
    head, then a refit on training + validation photos. Returns ``(model, record)``."""
    epochs = config.EPOCHS if epochs is None else epochs
    from helpers.models import saved_models, weights_store

    if not retrain and weights_store.exists(config.FINE_TUNED):
        return saved_models.load(config.FINE_TUNED)
    base = weights_store.load_record(config.RECOMMENDED)
    t, size = base["training"], int(base["hparams"]["image_size"])
    data = data if data is not None else photos.load_splits((size, size, 3))
    return cached_transfer.train_or_load_step(
        config.FINE_TUNED, backbone=config.BACKBONE, image_size=size, head_units=(), dropout=0.0, unfrozen=True,
        init_head_from=config.RECOMMENDED, backbone_weights=backbone_weights, task=config.NAME, retrain=True, progress=False,
        data=data, input_shape=(size, size, 3), epochs=epochs, patience=None, learning_rate=t["learning_rate"],
        optimizer="sgd", optimizer_config=t.get("optimizer_config"), batch_size=config.BATCH_SIZE, monitor="val_loss",
        refit_on_train_and_val=True, seed=config.SEED)


def fine_tuning_verdict(recommended: dict, fine_tuned: dict, support: dict | None = None) -> dict:
    """Does fine-tuning clearly help on validation? Compares two saved models' (selection-run) validation metrics.

    Two saved models are one seed each, so on their own the verdict is ``"within noise"``, whatever the gain. It
    is ``"better"`` (or ``"worse"``) only when ``support`` — :func:`compare_seeds` of the two recipes' runs over
    at least :data:`MIN_SEEDS` seeds — says so, and for ``"better"`` the pair agrees (lower loss, higher accuracy).
    Returns ``{"val_accuracy_gain", "val_loss_change", "standard_error", "bar", "seeds", "verdict", "clear"}``
    (``standard_error``: one standard error of the recommended model's validation accuracy; ``bar``: the smallest
    gain that can count, :func:`accuracy_bar`; ``clear``: the verdict is ``"better"``).
    """
    a, b = recommended["metrics"]["val"], fine_tuned["metrics"]["val"]
    gain, dloss = b["accuracy"] - a["accuracy"], b["loss"] - a["loss"]
    agrees = dloss < 0 and gain > 0
    verdict = support["verdict"] if support and (support["verdict"] != "better" or agrees) else "within noise"
    return {"val_accuracy_gain": gain, "val_loss_change": dloss, "standard_error": standard_error(a["accuracy"], a["n"]),
            "bar": accuracy_bar(a["accuracy"], a["n"]), "seeds": support["seeds"] if support else 1,
            "verdict": verdict, "clear": verdict == "better"}


def depth_study(rec: dict | None = None, tails=None, seeds=None, retrain: bool = False, data: dict | None = None,
                image_size: int | None = None, epochs: int | None = None, backbone_weights="imagenet",
                mirror_check: bool = True, **kw) -> list[dict]:
    """Beyond the brief: how deep to fine-tune. Every tail of ``tails`` (see :data:`TAILS`) trained on cached
    activations, with the recommended SGD settings (``rec``, default :func:`recommend`), on mirrored training
    photos, once per seed of ``seeds``; then, unless ``mirror_check`` is false, :data:`MIRROR_CHECK_TAIL` (if among
    ``tails``, else the best tail) again without mirror images, to measure what they add. ``image_size`` (int): the
    final model's side (default: the recommended model's); ``epochs`` (int, default :data:`DEEP_EPOCHS`).
    Returns the runs (:func:`run`)."""
    tails = config.TAILS if tails is None else tails
    seeds = config.SEEDS if seeds is None else seeds
    from helpers.models import weights_store

    rec = rec or recommend()
    size = int(image_size or (data["train"][0].shape[1] if data is not None
                              else weights_store.load_record(config.RECOMMENDED)["hparams"]["image_size"]))
    epochs = int(epochs or config.DEEP_EPOCHS)
    def one(tail, mirror, seed):
        return run("accelerated", rec["learning_rate"], rec["momentum"], seed=seed, epochs=epochs, data=data,
                   image_size=size, retrain=retrain, backbone_weights=backbone_weights, tail=tail, mirror=mirror, **kw)

    out = [one(t, True, seed) for t in tails for seed in seeds]
    if not mirror_check:
        return out
    check = config.MIRROR_CHECK_TAIL if config.MIRROR_CHECK_TAIL in tails else deep_choice(out)["tail"]
    return out + [one(check, False, seed) for seed in seeds]


def deep_choice(runs: list[dict], tails=None) -> dict:
    """The tail, and its epochs, for the deeper fine-tuned model, from the depth study's validation results: the
    mirrored runs' tail with the lowest mean best validation loss over seeds; epochs the median best epoch.
    ``tails``: the candidates (default: every tail in ``runs``; :data:`FIRST_ROUND_TAILS` gives the first round's).
    Returns ``{"tail", "epochs", "val_loss_mean", "val_accuracy_mean", "seeds", "learning_rate", "momentum"}``."""
    mirrored_runs = [r for r in runs if r.get("mirror") and (tails is None or r.get("tail", "head") in tails)]
    if not mirrored_runs:
        raise HelpersError("no depth-study runs to choose from: python -m helpers.flowers deeper")
    table = summary(mirrored_runs)
    best = table.sort_values(["val_loss_mean"]).iloc[0]
    return {"tail": str(best.get("tail", "head")), "epochs": int(best["best_epoch_median"]),
            "val_loss_mean": float(best["val_loss_mean"]), "val_accuracy_mean": float(best["val_accuracy_mean"]),
            "seeds": int(best["seeds"]),
            "learning_rate": float(best["learning_rate"]), "momentum": float(best["momentum"])}


def fine_tune_deeper(retrain: bool = False, data: dict | None = None, backbone_weights="imagenet",
                     choice: dict | None = None, name: str | None = None):
    """Beyond the brief: the tail :func:`deep_choice` picks (default: from :func:`depth_study`'s saved runs),
    trained with the head from a fresh seeded head, on cached activations of the training photos and their
    mirror images, with the recommended SGD settings: a selection run of at most the chosen epochs (validation
    loss picks the epoch), then a refit on training (+ mirrored) and validation photos for that many epochs;
    saved as ``name`` (:data:`DEEP_TUNED`: the first round's choice by default; :data:`DEEPER_TUNED`: the second
    round's) and scored once on the test split. Returns ``(model, record)``."""
    name = config.DEEP_TUNED if name is None else name
    from helpers.models import saved_models, weights_store

    if not retrain and weights_store.exists(name):
        return saved_models.load(name)
    size = int(data["train"][0].shape[1]) if data is not None else int(
        weights_store.load_record(config.RECOMMENDED)["hparams"]["image_size"])
    first = name == config.DEEP_TUNED
    choice = choice or deep_choice(depth_study(data=data, image_size=size, backbone_weights=backbone_weights,
                                               tails=config.FIRST_ROUND_TAILS if first else config.TAILS))
    data = data if data is not None else photos.load_splits((size, size, 3))
    hp = head_hparams(size, choice["tail"])
    return cached_transfer.train_or_load_step(
        name, backbone=config.BACKBONE, image_size=size, head_units=(), dropout=0.0, unfrozen=hp["unfrozen"],
        unfrozen_from=hp.get("unfrozen_from"), backbone_weights=backbone_weights, task=config.NAME, retrain=True,
        progress=False, data=mirrored(data), input_shape=(size, size, 3), epochs=choice["epochs"],
        patience=None, learning_rate=choice["learning_rate"], optimizer="sgd",
        optimizer_config={"momentum": choice["momentum"], "nesterov": False}, batch_size=config.BATCH_SIZE,
        monitor="val_loss", refit_on_train_and_val=True, seed=config.SEED,
        notes={"mirror": "training photos and their mirror images (the refit adds the validation photos as they are)",
               "depth_choice": choice})


def second_round(rec: dict | None = None, first_choice: dict | None = None, retrain: bool = False,
                 data: dict | None = None, backbone_weights="imagenet", retrain_model: bool | None = None, **kw) -> dict:
    """The depth study's second round (see :data:`TAILS`): every candidate depth, the first round's and the new
    deeper one, chosen again on validation (:func:`deep_choice`); when the choice moves from the first round's
    (``first_choice``, default :func:`deep_choice` of the first round), that depth is trained as
    :data:`DEEPER_TUNED` (:func:`fine_tune_deeper`) and scored once on test.
    ``retrain`` retrains the runs, ``retrain_model`` (default ``retrain``) the model.
    Returns ``{"runs", "first", "choice", "moved", "model", "record"}`` (``model`` and ``record`` ``None`` when the
    choice stays)."""
    summary = second_round_summary(depth_study(rec, retrain=retrain, data=data, backbone_weights=backbone_weights, **kw),
                                   first_choice)
    retrain_model = retrain if retrain_model is None else retrain_model
    model, record = (fine_tune_deeper(retrain=retrain_model, data=data, backbone_weights=backbone_weights,
                                      choice=summary["choice"], name=config.DEEPER_TUNED)
                     if summary["moved"] else (None, None))
    return {**summary, "model": model, "record": record}


def second_round_summary(runs: list[dict], first_choice: dict | None = None) -> dict:
    """The second round's decision from the depth study's runs: ``{"runs", "first", "choice", "moved"}``, the first
    round's choice (``first_choice``, default :func:`deep_choice` over :data:`FIRST_ROUND_TAILS`), the choice over every
    depth, and whether it moved (what :func:`second_round` trains on, and what the flower report tells)."""
    first = first_choice or deep_choice(runs, tails=config.FIRST_ROUND_TAILS)
    choice = deep_choice(runs)
    return {"runs": runs, "first": first, "choice": choice, "moved": choice["tail"] != first["tail"]}


def deployed_choice(records: dict) -> str:
    """The saved model notebook 08 deploys (``weights/deployed.txt``): the best validation accuracy of its selection
    run, a tie going to the lower validation loss. ``records``: ``{name: weight record}``."""
    best = max(records.values(), key=lambda r: (r["metrics"]["val"]["accuracy"], -r["metrics"]["val"]["loss"]))
    return best["name"]
