"""Plots the notebooks share: learning curves (from saved histories), confusion matrices, image grids, the flower
study's depth comparison (shared with its PDF report), the best-model study's accuracy against cost, and reliability
diagrams (calibration)."""

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
        ax.set_xlabel("first trained layer"); ax.set_ylabel(f"{label}\n(mean ± sd over seeds)")
        ax.tick_params(axis="x", labelsize=8, labelrotation=20)
    axes[1].legend(fontsize=8)
    return axes[0].figure


def epoch_probe(probe: dict, axes=None):
    """The flower study's epoch probe (``flowers.epoch_probe``): training and validation loss, and validation accuracy,
    per epoch of the longer run, the depth study's run of the same seed beside it, the shorter budget's end marked
    and the best validation epoch circled. Returns the figure."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    long, short, n = probe["run"]["history"], probe["short"]["history"], probe["short_epochs"]
    best = probe["run"]["best_epoch"]
    for ax, keys, label in [(axes[0], ("loss", "val_loss"), "loss"), (axes[1], ("val_accuracy",), "validation accuracy")]:
        for key in keys:
            epochs = range(1, len(long[key]) + 1)
            ax.plot(epochs, long[key], label=f"{key.replace('_', ' ')}, {probe['epochs']} epochs")
            ax.plot(range(1, len(short[key]) + 1), short[key], ":", color="black", lw=1,
                    label=f"{key.replace('_', ' ')}, depth study ({n})")
        ax.axvline(n, color="grey", lw=0.8, ls="--")
        ax.plot([best], [long[keys[-1]][best - 1]], "o", mfc="none", ms=10, color="tab:red", label=f"best epoch ({best})")
        ax.set_xlabel("epoch"); ax.set_ylabel(label); ax.legend(fontsize=7)
    axes[0].figure.suptitle(f"Epoch probe: {probe['tail']}, seed {probe['seed']}")
    return axes[0].figure


def edge_checks(checks: dict, axes=None):
    """The flower study's edge checks (``flowers.ranges.edge_checks``): validation loss per epoch of each seed's long
    run, left the smallest learning rate beside the recommended one's study runs, right the recommended settings at
    the final side; the short range's end dashed, each seed's best epoch dotted. Returns the figure."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    for ax, key in zip(axes, ("smallest_rate", "final_side")):
        c = checks[key]
        for i, r in enumerate(c["runs"]):
            h = r["history"]["val_loss"]
            ax.plot(range(1, len(h) + 1), h, color=f"C{i}", lw=1, label=f"lr {c['learning_rate']:g}, seed {r['seed']}")
            ax.plot([r["best_epoch"]], [h[r["best_epoch"] - 1]], "o", color=f"C{i}", ms=4)
        for j, r in enumerate(c.get("reference") or []):
            h = r["history"]["val_loss"]
            ax.plot(range(1, len(h) + 1), h, ":", color="black", lw=1, label="lr {:g} (study runs)".format(r["learning_rate"]) if j == 0 else None)
        ax.axvline(c["short_epochs"], color="grey", lw=0.8, ls="--", label=f"{c['short_epochs']} epochs")
        ax.set_xlabel("epoch"); ax.set_ylabel("validation loss"); ax.legend(fontsize=7)
        ax.set_title(f"{c['image_size']} px, momentum {c['momentum']:g}", fontsize=9)
    axes[0].figure.suptitle("Head-only ranges run longer (every seed)")
    return axes[0].figure


def refit_curve(curve, verdict: dict, noise_points: float | None = None, ax=None):
    """Round two's learning curve (``best_model.learning_curve``): validation error against training images on log
    axes, the fitted power law extended to the refit's size, and the predicted point there, with the seed spread as
    an error bar (the noise one run carries). Returns the figure."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    sizes, err = curve.index.to_numpy(), (1 - curve["val_accuracy"].to_numpy()) * 100
    noise = verdict["noise_points"] if noise_points is None else noise_points
    ax.errorbar(sizes, err, yerr=noise / 2, fmt="o", capsize=3, label=f"runs (bar: ± half the {noise:.2f}-point seed spread)")
    n = np.geomspace(sizes.min(), verdict["refit_size"], 50)
    ax.plot(n, verdict["a"] * n ** -verdict["b"] * 100, "--", color="grey",
            label=f"power law, error ∝ n^-{verdict['b']:.2f}")
    pred = (1 - verdict["predicted_val_accuracy"]) * 100
    ax.plot([verdict["refit_size"]], [pred], "s", mfc="none", color="tab:red", ms=8,
            label=f"predicted at {verdict['refit_size']:,} ({verdict['predicted_gain_points']:+.2f} points)")
    ax.set_xscale("log"); ax.set_xticks(list(sizes) + [verdict["refit_size"]])
    ax.set_xticklabels([f"{s / 1000:g}k" for s in list(sizes) + [verdict["refit_size"]]])
    ax.minorticks_off()
    ax.set_xlabel("training images"); ax.set_ylabel("validation error (%)"); ax.legend(fontsize=7)
    ax.set_title("The deployed student's recipe on fewer images")
    return ax.figure


def plot_accuracy_vs_cost(candidates, ax_pair=None, deployed: str | None = None, labelled: int = 6,
                          highlight: str | None = None):
    """Validation accuracy against training hours on 2 CPU cores and against images/s (batch 512), one point per
    candidate (:func:`helpers.studies.best_model.candidate_table`), coloured by kind, with the best-model study's
    training budget and speed bar. The ``deployed`` candidate is a red star (``highlight``, e.g. the model it
    replaced, a black ring); names are written for these, the most accurate candidate and the ``labelled`` most
    accurate single models only, in a column beside the points, moved apart so that no two overlap."""
    import matplotlib.pyplot as plt

    from helpers.studies.best_model.config import BUDGET_SECONDS, SPEED_TARGET

    if ax_pair is None:
        fig, ax_pair = plt.subplots(1, 2, figsize=(11, 4.8), sharey=True)
    else:
        fig = ax_pair[0].figure
    singles = candidates[candidates["kind"] == "single model"]
    named = set(singles.nlargest(labelled, "val_accuracy")["name"])
    named |= {deployed, highlight, candidates.loc[candidates["val_accuracy"].idxmax(), "name"]} - {None}
    for ax, col, label in ((ax_pair[0], "cpu_training_seconds", "training time on 2 CPU cores (hours; measured or estimated)"),
                           (ax_pair[1], "images_per_s", "images/s at batch 512 (2-core CPU)")):
        d = candidates.dropna(subset=[col])
        x_of = (lambda v: v / 3600) if col == "cpu_training_seconds" else (lambda v: v)
        for kind, g in d.groupby("kind", sort=False):
            ax.scatter(x_of(g[col]), g["val_accuracy"], s=26, label=kind, alpha=0.8)
        for name, style in ((deployed, dict(marker="*", s=200, c="red", label="deployed")),
                            (highlight, dict(marker="o", s=110, facecolors="none", edgecolors="black", lw=1.2,
                                             label=f"{highlight} (replaced)" if highlight else None))):
            if name is not None and name in set(d["name"]):
                r = d[d["name"] == name].iloc[0]
                ax.scatter([x_of(r[col])], [r["val_accuracy"]], zorder=5,
                           **{k: v for k, v in style.items() if k != "label" or ax is ax_pair[0]})
        ax.set_xscale("log")
        if col == "images_per_s":
            ax.axvline(SPEED_TARGET, color="grey", ls=":", lw=1)
            ax.text(SPEED_TARGET, ax.get_ylim()[0], " speed bar", fontsize=7, color="grey", va="bottom")
        else:
            ax.axvline(BUDGET_SECONDS / 3600, color="grey", ls=":", lw=1)
            ax.text(BUDGET_SECONDS / 3600, ax.get_ylim()[0], " budget", fontsize=7, color="grey", va="bottom")
        _label_apart(ax, d[d["name"].isin(named)], col, x_of, deployed)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    ax_pair[0].set_ylabel("validation accuracy")
    handles, names = ax_pair[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=7.5, loc="lower center", ncol=len(names), frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))   # the legend below the panels, clear of every point and label
    return fig


def _label_apart(ax, shown, col, x_of, bold=None, gap_pt: float = 8.5):
    """Names of the ``shown`` points, each joined to its point by a thin line (points left of the axis' middle
    labelled to their right, the others to their left), every two labels at least ``gap_pt`` points apart
    vertically and as close to their points' heights as that allows."""
    ax.autoscale_view()
    lo, hi = np.log10(ax.get_xlim())
    rows = sorted((r for _, r in shown.iterrows()), key=lambda r: r["val_accuracy"])
    if not rows:
        return
    ys = np.array([ax.transData.transform((x_of(r[col]), r["val_accuracy"]))[1] for r in rows]) * 72 / ax.figure.dpi
    placed = ys.copy()
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap_pt)
    placed -= (placed - ys).mean()   # the labels centred on their points; the gaps are kept
    for r, y, want in zip(rows, ys, placed):
        right = np.log10(x_of(r[col])) < (lo + hi) / 2
        short = " + ".join(m.replace("fashion_", "") for m in r["name"].split(" + "))
        ax.annotate(short, (x_of(r[col]), r["val_accuracy"]), fontsize=6.5, xytext=(14 if right else -14, want - y),
                    textcoords="offset points", ha="left" if right else "right", va="center",
                    fontweight="bold" if r["name"] == bold else "normal",
                    arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "grey"})


def reliability_diagram(y, before, after, bins: int | None = None, title: str | None = None):
    """Accuracy against confidence per bin, before and after temperature scaling (the diagonal is perfect)."""
    import matplotlib.pyplot as plt

    from helpers.training import calibration

    bins = bins or calibration.ECE_BINS
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="perfectly calibrated")
    for proba, label in ((before, "softmax"), (after, "after temperature scaling")):
        t = calibration.reliability(y, proba, bins)
        ece = calibration.expected_calibration_error(y, proba, bins)
        ax.plot(t["confidence"], t["accuracy"], marker="o", ms=3, label=f"{label} (ECE {ece:.4f})")
    ax.set_xlabel("confidence (mean per bin)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0.3, 1.01)
    ax.set_ylim(0.3, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def save_png(fig, path, dpi: int = 150):
    """Save ``fig`` as a PNG with fixed metadata (the same figure gives the same bytes) and close it."""
    import matplotlib.pyplot as plt
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return path


def thumbnails_beside_photos(thumbnails, thumbnail_titles, photos, photo_inputs, photo_titles):
    """Three rows: Fashion-MNIST thumbnails (what the model learnt from), real photos as uploaded, and the same
    photos as the model sees them (28 x 28, grey, light on black). Returns the figure."""
    import matplotlib.pyplot as plt
    import numpy as np

    n = max(len(thumbnails), len(photos))
    fig, axes = plt.subplots(3, n, figsize=(1.45 * n, 4.6))
    rows = [("Fashion-MNIST", thumbnails, thumbnail_titles, "gray"), ("real photo", photos, photo_titles, None),
            ("as the model sees it", photo_inputs, [""] * len(photo_inputs), "gray")]
    for r, (label, images, titles, cmap) in enumerate(rows):
        for i, ax in enumerate(axes[r]):
            ax.set_xticks([]); ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if i < len(images):
                ax.imshow(np.asarray(images[i]), cmap=cmap)
                ax.set_title(titles[i], fontsize=7)
        axes[r][0].set_ylabel(label, fontsize=8)
    fig.tight_layout()
    return fig
