"""The whole-backbone probe: every MobileNetV2 layer trained with the head, on the photos themselves with a fresh
random augmentation each epoch (mirror, small rotation, small zoom). It is the one start deeper than the depth probe
(:data:`~helpers.studies.flowers.config.DEPTH_PROBE_TAIL`) and the one augmentation that cached activations cannot
serve, so every epoch runs every photo through the whole network: about 2 minutes an epoch on 2 CPU cores.

Like the depth probe it is not a candidate: one seed (:data:`~helpers.studies.flowers.config.SEED`), the recommended
SGD settings, :data:`~helpers.studies.flowers.config.DEEP_EPOCHS` epochs over the training photos, compared on
validation only with the chosen depth's run of the same seed. It says whether the depth range opens at the whole
backbone with augmentation; the test split is not touched. Its per-epoch history is kept in :data:`WHOLE_JSON`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers.core import paths
from helpers.studies.flowers import config

#: The first backbone layer that trains: MobileNetV2's first convolution, so every layer trains (BatchNorm keeps its
#: ImageNet statistics, as in every other flower model).
FIRST_LAYER = "Conv1"
#: The random augmentation, drawn afresh for every photo in every epoch (Keras' preprocessing layers; inactive at
#: inference): left-right mirror, rotation up to this fraction of a full turn, zoom in or out up to this fraction.
AUGMENTATION = {"flip": "horizontal", "rotation": 0.05, "zoom": 0.1}
WHOLE_JSON = config.RESULTS_DIR / "whole_backbone.json"


def hparams(image_size: int) -> dict:
    """The transfer model's settings with every backbone layer trained."""
    return {"backbone": config.BACKBONE, "image_size": int(image_size), "head_units": [], "dropout": 0.0,
            "unfrozen": False, "unfrozen_from": FIRST_LAYER}


def augmenter(seed: int, augmentation: dict | None = None):
    """The random augmentation as Keras layers (seeded; reflect at the borders, so no black corners)."""
    import keras

    a = augmentation or AUGMENTATION
    return keras.Sequential([
        keras.layers.RandomFlip(a["flip"], seed=seed),
        keras.layers.RandomRotation(a["rotation"], fill_mode="reflect", seed=seed + 1),
        keras.layers.RandomZoom(a["zoom"], fill_mode="reflect", seed=seed + 2)], name="augmentation")


def load(path: Path | None = None) -> dict | None:
    """The saved probe (see :func:`probe`), or ``None`` when it was not run."""
    path = Path(path or WHOLE_JSON)
    return json.loads(path.read_text()) if path.is_file() else None


def probe(record: dict | None = None, retrain: bool = False, data: dict | None = None, backbone_weights="imagenet",
          seed: int | None = None, epochs: int | None = None, batch_size: int | None = None,
          path: Path | None = None, augmentation: dict | None = None) -> dict:
    """Train the whole backbone with the head (see the module's docstring); loaded from ``path`` (default
    :data:`WHOLE_JSON`) when saved, unless ``retrain``. ``record``: the recommended model's record (default:
    the saved one), whose side and SGD settings the depth study used; ``data``: ``{split: (x uint8, y)}`` (default the photos at that side).
    An interrupted run resumes from its backup in ``data/checkpoints``.
    Returns ``{"tail", "seed", "epochs", "batch_size", "image_size", "learning_rate", "momentum", "augmentation",
    "train_size", "history", "best_epoch", "val_report"}`` (``history`` as :func:`runs.run`'s)."""
    seed = config.SEED if seed is None else seed
    epochs = config.DEEP_EPOCHS if epochs is None else epochs
    batch_size = config.BATCH_SIZE if batch_size is None else batch_size
    import keras

    from helpers.core.repro import set_seeds
    from helpers.models import saved_models, weights_store
    from helpers.studies.flowers.runs import val_report
    from helpers.training import trainer

    saved = load(path)
    if saved is not None and not retrain:
        return saved
    record = record or weights_store.load_record(config.RECOMMENDED)
    t = record["training"]
    rate, momentum = t["learning_rate"], (t.get("optimizer_config") or {}).get("momentum", 0.0)
    if data is None:
        from helpers.inputs import flower_photos as photos

        data = photos.load_splits((int(record["hparams"]["image_size"]),) * 2 + (3,))
    size, augmentation = int(data["train"][0].shape[1]), augmentation or AUGMENTATION
    set_seeds(seed)
    model = saved_models.build_model(config.NAME, "transfer", hparams(size), input_shape=(size, size, 3),
                                backbone_weights=backbone_weights)
    trained = keras.Sequential([keras.Input((size, size, 3)), augmenter(seed, augmentation), model])
    work = paths.data_dir() / "checkpoints" / f"flowers_whole_s{seed}_e{epochs}_px{size}"
    history = trainer.run_fit(
        trained, data["train"], data["val"], work_dir=work, epochs=epochs, batch_size=batch_size, optimizer="sgd",
        learning_rate=rate, optimizer_config={"momentum": momentum, "nesterov": False},
        loss="sparse_categorical_crossentropy", monitor="val_loss", patience=None, input_pipeline="steady", seed=seed)
    result = {"tail": FIRST_LAYER, "seed": seed, "epochs": epochs, "batch_size": batch_size, "image_size": size,
              "learning_rate": rate, "momentum": momentum, "augmentation": augmentation,
              "train_size": int(len(data["train"][1])), "history": history,
              "best_epoch": trainer.best_epoch(history, "val_loss"),
              "val_report": val_report(data["val"][1], saved_models.predict_proba(model, data["val"][0]))}
    out = Path(path or WHOLE_JSON)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return result


def reference(runs: dict, record: dict, seed: int | None = None) -> dict | None:
    """The depth study's run of its chosen depth (mirror images) with ``seed``: what the probe is compared with."""
    seed = config.SEED if seed is None else seed
    from helpers.studies.flowers.probe import chosen_runs

    return next((r for r in chosen_runs(runs, record) if r["seed"] == seed), None)


def facts(whole: dict, ref: dict) -> dict:
    """The probe against ``ref`` (:func:`reference`) on validation: each one's best validation loss, the accuracy at
    that epoch and the epoch; ``ref`` also after the same number of training photos seen as the probe's whole run
    (its training set holds the mirror images, so it sees more photos per epoch); the probe's CPU seconds and whether
    its best epoch sits at the edge of its budget."""
    from helpers.studies.flowers.story import at_edge

    def best(h, n):
        i = min(range(n), key=lambda k: h["val_loss"][k])
        return {"epoch": i + 1, "val_loss": h["val_loss"][i], "val_accuracy": h["val_accuracy"][i]}

    h, rh = whole["history"], ref["history"]
    seen = whole["epochs"] * whole["train_size"]
    same = max(1, min(len(rh["val_loss"]), round(seen / ref["train_size"])))
    return {"tail": whole["tail"], "against": ref.get("tail", "head"), "seed": whole["seed"], "epochs": whole["epochs"],
            "train_size": whole["train_size"], "ref_epochs": len(rh["val_loss"]), "same_photos_epochs": same,
            "best": best(h, len(h["val_loss"])), "ref_same_photos": best(rh, same), "ref_best": best(rh, len(rh["val_loss"])),
            "seconds": float(sum(h["epoch_seconds"])),
            "at_edge": at_edge(whole["best_epoch"], whole["epochs"])}


def sentence(whole: dict, ref: dict, n_val: int) -> str:
    """What the whole-backbone probe found, in plain text (one seed: a direction, no verdict)."""
    from helpers.studies.flowers.wording import count, num, pct, signed

    f = facts(whole, ref)
    b, s, r = f["best"], f["ref_same_photos"], f["ref_best"]

    def photos(a, z):
        right = round((a["val_accuracy"] - z["val_accuracy"]) * n_val)
        return f"{signed(right, 0)} {'photo' if abs(right) == 1 else 'photos'}"

    a = whole["augmentation"]
    return (f"Every backbone layer (from {f['tail']}) trained with the head on the photos, each epoch with a fresh random "
            f"mirror, rotation (up to {a['rotation'] * 360:.0f}° either way) and zoom (up to "
            f"{pct(a['zoom'], 0)}); seed {f['seed']}, plain SGD at {whole['learning_rate']:g} with momentum {whole['momentum']:g} (the recommended "
            f"settings), BatchNorm statistics kept, {f['epochs']} epochs over the "
            f"{count(f['train_size'])} training photos ({num(f['seconds'] / 60, 0)} minutes on 2 CPU cores). Best "
            f"validation loss {num(b['val_loss'])} at epoch {b['epoch']} of {f['epochs']}"
            + (" (at the edge: its loss was still falling)" if f["at_edge"] else "")
            + f", accuracy {pct(b['val_accuracy'])}. {f['against']} on the same seed, after as many training photos "
            f"({f['same_photos_epochs']} of its epochs with mirror images): {num(s['val_loss'])} and {pct(s['val_accuracy'])} "
            f"({signed(b['val_loss'] - s['val_loss'])} in loss for the whole backbone, {photos(b, s)} of the "
            f"{count(n_val)} in validation); after all its {f['ref_epochs']} epochs: {num(r['val_loss'])} and "
            f"{pct(r['val_accuracy'])} ({signed(b['val_loss'] - r['val_loss'])}, {photos(b, r)}). One seed gives a "
            f"direction, not a verdict ({config.MIN_SEEDS} seeds needed), and no model was trained from it.")


def plot(whole: dict, ref: dict):
    """Validation loss against training photos seen (thousands): the probe and ``ref``. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3))
    for run, label in ((whole, f"whole backbone ({whole['tail']}), random augmentation"),
                       (ref, f"{ref.get('tail', 'head')}, mirror images")):
        n = len(run["history"]["val_loss"])
        ax.plot([run["train_size"] * (i + 1) / 1000 for i in range(n)], run["history"]["val_loss"], marker=".", label=label)
    ax.set_xlabel("training photos seen (thousands)"); ax.set_ylabel("validation loss"); ax.grid(alpha=0.3)
    ax.legend(fontsize=8); ax.set_title(f"Seed {whole['seed']}: the whole backbone against the chosen depth", fontsize=9)
    fig.tight_layout()
    return fig
