"""Notebook 11's tables: the photos per class and split, the modelling runs side by side, per-class scores with
intervals, and which errors cost an offer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.studies.clothing import config


def photo_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(per class: photos in each of our splits and in all; per photo: file, class, split, width, height)``; only
    the files' headers are read."""
    from PIL import Image

    from helpers.inputs import clothing_photos

    _, rows = clothing_photos.checked_manifest()
    root = clothing_photos.dataset_dir()
    sizes = []
    for r in rows:
        with Image.open(root / r["file"]) as im:
            sizes.append(im.size)
    files = pd.DataFrame({"file": [r["file"] for r in rows], "class": [r["class"] for r in rows],
                          "split": [r["split"] for r in rows], "width": [w for w, _ in sizes],
                          "height": [h for _, h in sizes]})
    counts = files.pivot_table(index="class", columns="split", values="file", aggfunc="count", fill_value=0)
    counts = counts.reindex(index=clothing_photos.CLASS_NAMES, columns=["train", "val", "test"])
    counts["all"] = counts.sum(axis=1)
    return counts, files


def runs_table(runs: dict) -> pd.DataFrame:
    """One row per fine-tuning run: its settings, best epoch, validation accuracy with its interval (plain and with
    test-time mirroring), minutes of training on this machine."""
    rows = []
    for key, r in sorted(runs.items()):
        rows.append({"tail from": r["tail"], "augmented views": r["views"], "training images": r["train_images"],
                     "learning rate": r["learning_rate"], "epochs": r["epochs"], "best epoch": r["best_epoch"],
                     "val loss": r["history"]["val_loss"][r["best_epoch"] - 1],
                     "val accuracy": r["plain"]["val_accuracy"],
                     "95 % interval": f"{r['plain']['val_low']:.3f}–{r['plain']['val_high']:.3f}",
                     "with mirror (TTA)": r["mirror"]["val_accuracy"], "minutes": round(r["seconds"] / 60)})
    return pd.DataFrame(rows)


def per_class(y, proba, class_names) -> pd.DataFrame:
    """Per class: photos, recall with its 95 % interval, precision, and the class it is most often mistaken for."""
    from helpers.evaluation.metrics import proportion_interval

    y, pred = np.asarray(y), np.asarray(proba).argmax(1)
    rows = {}
    for i, c in enumerate(class_names):
        mine = y == i
        right = int((pred[mine] == i).sum())
        lo, hi = proportion_interval(right, int(mine.sum()))
        wrong = pred[mine & (pred != i)]
        called = int((pred == i).sum())
        top = np.bincount(wrong, minlength=len(class_names)).argmax() if len(wrong) else None
        rows[c] = {"photos": int(mine.sum()), "recall": round(right / max(mine.sum(), 1), 3), "low": round(lo, 3),
                   "high": round(hi, 3), "precision": round(int((y[pred == i] == i).sum()) / called, 3) if called else None,
                   "most often taken for": class_names[top] if top is not None else "—"}
    return pd.DataFrame(rows).T.rename_axis("class")


def offer_cost_of_errors(y, proba, class_names) -> dict:
    """The errors, split by what they cost: ``same_offer`` (both classes feed one offer, e.g. t-shirt taken for a
    longsleeve: both are tops), ``wrong_offer`` (another offer, or none) -- counts."""
    y, pred = np.asarray(y), np.asarray(proba).argmax(1)
    wrong = pred != y
    offer = np.array([config.PHOTO_OFFER[c] or c for c in class_names], dtype=object)
    same = wrong & (offer[pred] == offer[y])
    return {"errors": int(wrong.sum()), "same_offer": int(same.sum()), "wrong_offer": int((wrong & ~same).sum()),
            "photos": int(len(y))}
