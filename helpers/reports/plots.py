"""Plots the notebooks share: learning curves (from saved histories), confusion matrices, image grids, and the
flower study's depth comparison (shared with its PDF report)."""

from __future__ import annotations

import numpy as np


def learning_curves(records, metrics=("loss", "accuracy"), title=None):
    """Train and validation curves per epoch for one or more saved-model records, side by side.

    Drawn from the record's history, so a loaded model shows the same curves as a trained one;
    the best (checkpointed) epoch is marked.
    """
    import matplotlib.pyplot as plt

    records = [records] if isinstance(records, dict) else list(records)
    fig, axes = plt.subplots(len(metrics), len(records), figsize=(4.2 * len(records), 3.0 * len(metrics)),
                             squeeze=False, sharey="row")
    for j, rec in enumerate(records):
        h = rec["history"]
        best = rec.get("training", {}).get("best_epoch")
        for i, m in enumerate(metrics):
            ax = axes[i, j]
            epochs = np.arange(1, len(h[m]) + 1)
            ax.plot(epochs, h[m], label="train")
            if f"val_{m}" in h:
                ax.plot(epochs, h[f"val_{m}"], label="validation")
            if best:
                ax.axvline(best, color="grey", ls=":", lw=1, label=f"best epoch ({best})")
            ax.set_xlabel("epoch")
            ax.set_ylabel(m)
            if i == 0:
                ax.set_title(rec.get("name", ""))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true, y_pred, class_names, title=None, ax=None, normalize=False):
    """An annotated confusion matrix (rows: true class, columns: predicted)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from sklearn.metrics import confusion_matrix as cm

    m = cm(y_true, y_pred, labels=np.arange(len(class_names)))
    shown = m / m.sum(axis=1, keepdims=True) if normalize else m
    if ax is None:
        size = max(4.0, 0.6 * len(class_names) + 2)
        _, ax = plt.subplots(figsize=(size, size * 0.85))
    sns.heatmap(shown, annot=True, fmt=".2f" if normalize else "d", cmap="Blues", cbar=False,
                xticklabels=class_names, yticklabels=class_names, ax=ax, annot_kws={"fontsize": 8})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    ax.figure.tight_layout()
    return m


def image_grid(images, titles=None, ncols=10, size=1.2, cmap="gray", suptitle=None):
    """Show images in a grid (uint8 grey or RGB)."""
    import matplotlib.pyplot as plt

    n = len(images)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            img = np.asarray(images[k])
            ax.imshow(img.squeeze(), cmap=cmap if img.ndim == 2 or img.shape[-1] == 1 else None, vmin=0, vmax=255)
            if titles is not None:
                ax.set_title(titles[k], fontsize=7)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def depth_study(table, axes=None):
    """The flower study's depth comparison: best validation loss and validation accuracy per first trained layer,
    mean ± one standard deviation over seeds, with and without mirror images. ``table``: ``flowers.summary`` of the
    depth study's runs (columns ``tail``, ``mirror``, ``val_loss_mean/std``, ``val_accuracy_mean/std``).
    Returns the figure."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, key, label in [(axes[0], "val_loss", "best validation loss"), (axes[1], "val_accuracy", "validation accuracy")]:
        for mirror, marker in ((True, "o"), (False, "s")):
            rows = table[table["mirror"] == mirror]
            if len(rows):
                ax.errorbar(rows["tail"], rows[f"{key}_mean"], yerr=rows[f"{key}_std"].fillna(0), fmt=marker, capsize=4,
                            label="with mirror images" if mirror else "without")
        ax.set_xlabel("first trained layer"); ax.set_ylabel(f"{label} (mean ± sd over seeds)")
        ax.tick_params(axis="x", labelsize=8)
    axes[1].legend(fontsize=8)
    return axes[0].figure
