"""Round two's teacher: the combination of our saved networks with test-time augmentation that is best on validation,
saved as an ensemble of its own, and its outputs on every image, kept for distillation.

The candidates are the networks' test-time-augmented validation outputs (``results/best_model/tta_outputs``), alone
and averaged over the k best (k = 2-4, the k best by validation accuracy only: choosing the best of every combination
would flatter it). The teacher is the candidate with the lowest validation log-loss: a student learns from the
teacher's whole distribution, not only its top class, so the quality of the probabilities is what counts; accuracy is
reported beside it. Members trained on the training split only (no refit), so their validation outputs are honest.
"""

from __future__ import annotations

import time

import numpy as np

from helpers.evaluation import metrics
from helpers.studies.best_model import config
from helpers.studies.best_model.tta import TTA_VIEWS, tta_outputs

TEACHER, TEACHER_OUTPUTS = config.TEACHER, config.TEACHER_OUTPUTS
#: Networks that may teach: our own networks trained without a refit (their validation outputs are honest).
MEMBERS = ("fashion_vgg_bn", "fashion_vgg_bn_seed43", "fashion_vgg_bn_flip", "fashion_vgg_bn_light",
           "fashion_vgg_bn_long", "fashion_vgg_bn_long_seed43", "fashion_vgg_bn_wide", "fashion_vgg_bn_wide_long")
MAX_MEMBERS = 4


def candidates(names=MEMBERS, max_members: int = MAX_MEMBERS):
    """One row per candidate teacher (the k best networks by TTA validation accuracy, k = 1..``max_members``):
    members, views, validation accuracy and log-loss, forward passes per image. Sorted as :func:`choose` reads it."""
    import pandas as pd

    outs = {n: tta_outputs(n, "val") for n in names}
    y = next(iter(outs.values()))[1]
    acc = {n: float(np.mean(p.argmax(1) == y)) for n, (p, _, _) in outs.items()}
    order = sorted(outs, key=lambda n: (-acc[n], n))
    rows = []
    for k in range(1, min(max_members, len(order)) + 1):
        members = order[:k]
        views = {len(outs[n][2]) for n in members}
        p = np.mean([outs[n][0] for n in members], axis=0)
        m = metrics.classification_metrics(y, p)
        rows.append({"members": members, "k": k, "views": views.pop() if len(views) == 1 else None,
                     "val_accuracy": m["accuracy"], "val_loss": m["loss"],
                     "passes_per_image": k * len(outs[members[0]][2])})
    return pd.DataFrame(rows).sort_values(["val_loss", "k"]).reset_index(drop=True)


def choose(table) -> dict:
    """The candidate with the lowest validation log-loss (see the module's note): ``{"members", "views", ...}``."""
    best = table.iloc[0]
    return {"members": list(best["members"]), "views": [list(v) for v in TTA_VIEWS[int(best["views"])]],
            "val_accuracy": float(best["val_accuracy"]), "val_loss": float(best["val_loss"])}


def member_outputs(name: str, views, x, batch_size: int = 512) -> np.ndarray:
    """A saved network's probabilities on ``x``, averaged over the shifted ``views`` (float32)."""
    from helpers.inputs.augment import shift_images
    from helpers.models import saved_models

    model, _ = saved_models.load(name)
    return np.mean([saved_models.predict_proba(model, shift_images(x, *v), batch_size) for v in views], axis=0)


def build(choice: dict | None = None, data: dict | None = None, progress: bool = True, task: str = "fashion"):
    """Compute the teacher's outputs on every split (each member under every view, once), save them compactly
    (:data:`TEACHER_OUTPUTS`) and save the teacher itself as an ensemble (:data:`TEACHER`, scored from those
    outputs: validation, then test once). Returns ``(model, record)``."""
    from helpers.inputs import tasks
    from helpers.training import distillation, ensemble

    choice = choice or choose(candidates())
    data = data if data is not None else tasks.get(task).load_splits()
    t0, seconds, proba = time.perf_counter(), {}, {}
    for split in ("train", "val", "test"):
        parts = []
        for name in choice["members"]:
            t = time.perf_counter()
            parts.append(member_outputs(name, choice["views"], data[split][0]))
            seconds[f"{name}/{split}"] = round(time.perf_counter() - t, 1)
            if progress:
                print(f"teacher: {name} on {split} in {seconds[f'{name}/{split}']:.0f} s", flush=True)
        proba[split] = np.mean(parts, axis=0)
    notes = {"members": choice["members"], "views": choice["views"], "seconds": seconds,
             "cpu_seconds_total": round(time.perf_counter() - t0, 1),
             "chosen": "lowest validation log-loss among the k best networks with test-time augmentation"}
    distillation.save_teacher_outputs(config.TEACHER_OUTPUTS, config.TEACHER,
                                      {s: distillation.log_probabilities(p) for s, p in proba.items()},
                                      {s: data[s][1] for s in proba}, notes=notes)
    return ensemble.make_ensemble(config.TEACHER, choice["members"], task=task, views=choice["views"], data=data,
                                  probabilities={s: proba[s] for s in ("val", "test")},
                                  notes={"role": "teacher for distillation (round two)", **notes})
