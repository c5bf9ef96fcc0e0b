"""Accelerated transfer learning: the frozen part of the backbone runs once, its outputs are cached, and only the
head (and a tail of the backbone) trains on them.

While the backbone is frozen its output does not change between epochs, so it is computed once per split and cached
on disk (:func:`cached_features`); the head then trains on the cached vectors, ~100x faster per epoch. For
fine-tuning the last layers, the activations at the *input* of the unfrozen layers are cached instead, so each epoch
runs only the unfrozen tail and the head. Cache files are keyed by backbone, input size, the weights file's sha256
and the images.
"""

from __future__ import annotations

import hashlib
import time
import warnings
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.checksums import file_digest
from helpers.inputs import tasks
from helpers.models import backbones
from helpers.models.transfer import (
    TAILS,
    feature_extractor,
    parts,
    tail_cut,
    tail_model,
)


def feature_cache_dir() -> Path:
    return paths.data_dir() / "cache" / "features"


def weights_id(backbone: str, weights) -> str:
    """A short id of the backbone weights: the sha256 of the file, or 'random'."""
    if weights == "imagenet":
        weights = backbones.local_weights_file(backbone) or "imagenet-keras"
    if weights is None:
        return "random"
    p = Path(str(weights))
    if p.is_file():
        return file_digest(p)[:12]
    return str(weights)


#: The most pixels one batch of the feature pass may hold: 256 images at 96 px. An eager pass keeps every layer's
#: activations of the batch (measured: about 0.1 GB per 224-px image with MobileNetV2), so larger inputs go in
#: smaller batches (47 at 224 px) and memory stays near 5 GB.
FEATURE_BATCH_PIXELS = 256 * 96 * 96


def feature_batch_size(image_size: int, batch_size: int = 256) -> int:
    """The feature pass's batch size for ``image_size``-px inputs: ``batch_size`` within :data:`FEATURE_BATCH_PIXELS`."""
    return max(1, min(int(batch_size), FEATURE_BATCH_PIXELS // (int(image_size) ** 2)))


def cached_features(model, backbone: str, image_size: int, weights_key: str, x: np.ndarray, split: str,
                    batch_size: int = 256, progress: bool = True, cut=None) -> list:
    """``[pooled, *tail_inputs]`` for images ``x``, computed once and cached in ``data/cache/features``.

    ``batch_size`` is capped by :func:`feature_batch_size`, so large inputs do not exhaust memory.

    One pass through the frozen backbone gives both the pooled features (steps 1 and 2) and the
    activations at the input of the unfrozen tail (step 3; ``cut`` names other tail-input layers for a
    deeper tail, kept in files of their own). A tqdm progress bar shows while features are computed; a
    cache hit prints nothing.
    """
    data_key = hashlib.sha1(np.ascontiguousarray(x).tobytes()).hexdigest()[:10]
    cut = tuple(cut or TAILS[backbone].cut)
    cut_tag = "" if cut == TAILS[backbone].cut else "_cut-" + "+".join(cut)
    path = feature_cache_dir() / f"{backbone}_{image_size}_{weights_key}{cut_tag}_{split}_{data_key}.npz"
    if path.is_file():
        with np.load(path) as z:
            return [z[k] for k in sorted(z.files)]
    from tqdm.auto import tqdm

    extractor = feature_extractor(model, backbone, with_tail_inputs=True, cut=cut)
    batch_size = feature_batch_size(image_size, batch_size)
    chunks = None
    for start in tqdm(range(0, len(x), batch_size), desc=f"{backbone} features, {split}", unit="batch",
                      disable=not progress, leave=False):
        outs = extractor(x[start:start + batch_size], training=False)
        outs = [np.asarray(o, dtype=np.float32) for o in (outs if isinstance(outs, (list, tuple)) else [outs])]
        chunks = [[o] for o in outs] if chunks is None else [c + [o] for c, o in zip(chunks, outs)]
    arrays = [np.concatenate(c) for c in chunks]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **{f"a{i}": a for i, a in enumerate(arrays)})
    tmp.replace(path)
    return arrays


def train_or_load_step(name: str, *, backbone: str, image_size: int = 96, head_units=(), dropout: float = 0.0,
                       unfrozen: bool = False, init_head_from: str | None = None, backbone_weights="imagenet",
                       task: str = "fashion", retrain: bool = False, progress: bool = True,
                       unfrozen_from: str | None = None, notes: dict | None = None, **fit_args):
    """One step of the transfer benchmark, trained on cached features (or loaded when saved).

    Step 1: ``head_units=()``; step 2: two dense layers; step 3: ``unfrozen=True`` with
    ``init_head_from`` the step-2 model, so fine-tuning starts from the trained head. The saved
    step-2 head was refitted on training + validation images, so it may only start step 3's refit;
    step 3's selection run starts from step 2's head as its own selection run left it (training
    images only, replayed by :func:`replay_selection_head`), so that validation scores stay honest.
    ``unfrozen_from`` (instead of ``unfrozen``): deeper fine-tuning, that backbone layer and every later
    one trained on cached activations at its input (:data:`DEEPER_CUTS`).
    Raises :class:`~helpers.core.errors.PretrainedWeightsUnavailable` when the ImageNet weights cannot be had.
    """
    from helpers.models import saved_models, weights_store
    from helpers.training import trainer

    if not retrain and weights_store.exists(name):
        return saved_models.load(name)
    fit_args.setdefault("steps_per_execution", STEPS_PER_EXECUTION)
    fit_args.setdefault("input_pipeline", "steady")
    trainer.effective_settings(fit_args["input_pipeline"], fit_args["steps_per_execution"])  # fail early
    notes = dict(notes or {})
    init_heads = None
    if init_head_from:
        saved_head = saved_models.load(init_head_from)[0].get_layer("head").get_weights()
        t = time.perf_counter()
        selection_head, identical = replay_selection_head(init_head_from, backbone_weights, data=fit_args.get("data"),
                                                          progress=progress)
        init_heads = {"select": selection_head, "refit": saved_head}
        notes["init_head_for_selection"] = (
            f"{init_head_from}'s selection run (training split only), replayed: "
            + ("identical to its recorded history" if identical else "its history differs from the record, "
               "still trained on the training split only"))
        notes["init_head_replay_seconds"] = round(time.perf_counter() - t, 1)
        notes["init_head_sha1"] = {phase: weights_digest(w) for phase, w in init_heads.items()}
    return _fit_step(name, backbone=backbone, image_size=image_size, head_units=head_units, dropout=dropout,
                     unfrozen=unfrozen, init_heads=init_heads, init_head_from=init_head_from,
                     backbone_weights=backbone_weights, task=task, progress=progress, notes=notes,
                     unfrozen_from=unfrozen_from, **fit_args)


def trained_backbone_layers(model) -> list[str]:
    """The backbone layers with trainable weights in a transfer model (what fine-tuning changes)."""
    base, _ = parts(model)
    return [layer.name for layer in base.layers if layer.trainable and layer.trainable_weights]


def _fit_step(name, *, backbone, image_size, head_units, dropout, unfrozen, init_heads, init_head_from,
              backbone_weights, task, progress, notes=None, unfrozen_from=None, **fit_args):
    from helpers.training import trainer

    fit_args.setdefault("steps_per_execution", STEPS_PER_EXECUTION)
    fit_args.setdefault("input_pipeline", "steady")
    if unfrozen and unfrozen_from:
        raise ValueError("give either unfrozen (the last two layers) or unfrozen_from (a layer name), not both")
    hparams = {"backbone": backbone, "image_size": image_size, "head_units": list(head_units),
               "dropout": dropout, "unfrozen": unfrozen, **({"unfrozen_from": unfrozen_from} if unfrozen_from else {})}
    key = weights_id(backbone, backbone_weights)
    cut = tail_cut(backbone, unfrozen_from)
    tuned = unfrozen or bool(unfrozen_from)

    def prepare(model, data, phase):
        if init_heads is not None:
            model.get_layer("head").set_weights(init_heads[phase])
        feats = {s: cached_features(model, backbone, image_size, key, xy[0], s, progress=progress, cut=cut)
                 for s, xy in data.items()}
        if not tuned:
            return model.get_layer("head"), {s: f[0] for s, f in feats.items()}
        tail_inputs = {s: (f[1] if len(f) == 2 else f[1:]) for s, f in feats.items()}
        return tail_model(model, backbone, cut), tail_inputs

    notes = {"accelerated": "trained on cached backbone features" + (" (tail inputs)" if tuned else ""),
             "unfrozen_layers": (list(TAILS[backbone].unfrozen) if unfrozen else
                                 _layers_from(backbone, image_size, unfrozen_from) if unfrozen_from else []),
             "init_head_from": init_head_from, **(notes or {}), "backbone_weights": key}
    return trainer.fit(name, task=task, architecture="transfer", hparams=hparams, prepare=prepare,
                        build_kwargs={"backbone_weights": backbone_weights}, notes=notes, **fit_args)


def _layers_from(backbone: str, image_size: int, unfrozen_from: str) -> list[str]:
    """The backbone layers with weights from ``unfrozen_from`` on (built without pretrained weights)."""
    from helpers.models import saved_models

    model = saved_models.build_model("fashion", "transfer", {"backbone": backbone, "image_size": image_size,
                                                         "unfrozen_from": unfrozen_from})
    return trained_backbone_layers(model)


def replay_selection_head(name: str, backbone_weights="imagenet", data: dict | None = None, progress: bool = True):
    """The head of saved step ``name`` as its selection run left it (trained on the training split only).

    The run is replayed from the record (same seed, settings and cached features); training is
    deterministic, so on the same machine and versions it is the original run. Returns
    ``(head_weights, identical)``, ``identical`` telling whether the replayed history matches the record.
    """
    from helpers.models import weights_store

    rec = weights_store.load_record(name)
    hp, t = rec["hparams"], rec["training"]
    key = weights_id(hp["backbone"], backbone_weights)
    if rec["notes"].get("backbone_weights") != key:
        raise ValueError(f"{name} was trained with backbone weights {rec['notes'].get('backbone_weights')}, not {key}")
    if hp["unfrozen"] or hp.get("unfrozen_from") or rec["notes"].get("init_head_from"):
        raise ValueError(f"{name}: only a step trained from a fresh head on a frozen backbone can be replayed")
    splits = data if data is not None else tasks.get(rec["task"]).splits(rec.get("input_shape"))
    sizes = {"train_size": len(splits["train"][1]), "val_size": len(splits["val"][1])}
    if any(t.get(k) != v for k, v in sizes.items()):
        raise ValueError(f"{name} was trained on {t.get('train_size')}/{t.get('val_size')} training/validation images, "
                         f"not {sizes['train_size']}/{sizes['val_size']}: its selection run cannot be replayed on them")
    model, history = _fit_step(
        f"{name}_selection_replay", backbone=hp["backbone"], image_size=hp["image_size"], head_units=hp["head_units"],
        dropout=hp["dropout"], unfrozen=False, init_heads=None, init_head_from=None, backbone_weights=backbone_weights,
        task=rec["task"], progress=progress, data=splits, selection_only=True, epochs=t["max_epochs"],
        batch_size=t["batch_size"], optimizer=t["optimizer"], learning_rate=t["learning_rate"],
        patience=t["early_stopping_patience"], monitor=t["monitor"], reduce_lr_patience=t["reduce_lr_on_plateau_patience"],
        seed=t["seed"], steps_per_execution=t.get("steps_per_execution", 1), input_pipeline=t.get("input_pipeline", "keras"),
        input_shape=rec.get("input_shape"), optimizer_config=t.get("optimizer_config"))
    identical = history["loss"] == rec["history"]["loss"]
    if not identical:
        warnings.warn(f"replaying {name}'s selection run gave another history than its record (other hardware, "
                      "library versions or an interrupted original run); the replayed head is still trained on the "
                      "training split only", stacklevel=2)
    return model.get_layer("head").get_weights(), identical


def weights_digest(weights) -> str:
    """A short sha1 of a list of weight arrays (to record which weights a run started from)."""
    h = hashlib.sha1()
    for w in weights:
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()[:12]


#: Batches per call of the compiled training function when training on cached features. A head's
#: batch takes well under a millisecond, so Keras' per-batch Python overhead would otherwise be a
#: third of an epoch; the updates (and the trained weights) are identical to one batch per call.
#: Cached arrays are fed through ``trainer.array_dataset`` (input_pipeline="steady"), whose epochs
#: are not slowed at random by tf.data's autotuner.
STEPS_PER_EXECUTION = 8


def precompute_features(backbone: str, image_size: int, data: dict, progress: bool = True) -> float:
    """Fill the feature cache for every split (raises if the ImageNet weights are unavailable); seconds taken."""
    from helpers.models import saved_models

    t = time.perf_counter()
    model = saved_models.build_model("fashion", "transfer", {"backbone": backbone, "image_size": image_size},
                                 backbone_weights="imagenet")
    key = weights_id(backbone, "imagenet")
    for split, (x, _) in data.items():
        cached_features(model, backbone, image_size, key, x, split, progress=progress)
    return time.perf_counter() - t


def predict_cached(model, record: dict, split: str, data: dict) -> np.ndarray:
    """Class probabilities of a saved transfer model for one split, from the feature cache (fast)."""
    from helpers.models import saved_models

    hp = record["hparams"]
    cut = tail_cut(hp["backbone"], hp.get("unfrozen_from"))
    feats = cached_features(model, hp["backbone"], hp["image_size"], record["notes"]["backbone_weights"],
                            data[split][0], split, progress=False, cut=cut)
    if hp["unfrozen"] or hp.get("unfrozen_from"):
        return saved_models.predict_proba(tail_model(model, hp["backbone"], cut),
                                          feats[1] if len(feats) == 2 else feats[1:])
    return saved_models.predict_proba(model.get_layer("head"), feats[0])
