"""The flower study's PDF report (``reports/flowers_transfer_learning.pdf``), built from its results.

    python -m helpers.report flowers          # or: make reports

Reads ``results/flowers/runs.json`` (every run's per-epoch history), the recommended model's record
(``weights/flowers_mobilenet_v2_recommended.json``) and the speed benchmark's results
(``benchmarks/results/flowers_speed.json``), draws the figures, and fills the typst template
``reports/templates/flowers_transfer_learning.typ``. No number is typed in the template.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.errors import HelpersError
from helpers.inputs import image_folder
from helpers.models import weights_store
from helpers.reports import pdf, plots
from helpers.studies import flowers

TEMPLATE = paths.REPO_ROOT / "reports" / "templates" / "flowers_transfer_learning.typ"
REPORT_PDF = paths.REPO_ROOT / "reports" / "flowers_transfer_learning.pdf"
SPEED_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "flowers_speed.json"
MAX_PAGES = 8


def _study(r: dict) -> bool:
    """A run of the SGD study (the head alone on the photos), not of the depth study."""
    return "tail" not in r and not r.get("mirror")


def _runs(mode: str, runs: dict) -> list[dict]:
    return [r for r in runs.values() if r["mode"] == mode and r["epochs"] == flowers.EPOCHS and _study(r)
            and r.get("image_size", flowers.IMAGE_SIZE) == flowers.IMAGE_SIZE and r["batch_size"] == flowers.BATCH_SIZE]


def depth_runs(runs: dict, record: dict) -> list[dict]:
    """The depth study's runs (:func:`helpers.flowers.depth_study`) at the recommended model's side and settings,
    in the order they were made (shallow to deep, then the chosen depth without mirror images)."""
    t, size = record["training"], int(record["hparams"]["image_size"])
    order = {tail: i for i, tail in enumerate(flowers.TAILS)}
    chosen = [r for r in runs.values() if not _study(r) and r["mode"] == "accelerated"
              and r.get("image_size") == size and r["epochs"] == flowers.DEEP_EPOCHS and r["batch_size"] == flowers.BATCH_SIZE
              and r["learning_rate"] == t["learning_rate"]
              and r["momentum"] == (t.get("optimizer_config") or {}).get("momentum", 0.0)]
    return sorted(chosen, key=lambda r: (not r.get("mirror"), order[r.get("tail", "head")], r["seed"]))


def deeper_data(runs: dict, record: dict, deep: dict | None = None) -> dict | None:
    """The depth study's table and choice, and the deeper fine-tuned model's results (``None`` without them)."""
    chosen = depth_runs(runs, record)
    if not chosen:
        return None
    table = flowers.summary(chosen)
    choice = flowers.deep_choice(chosen)
    if deep is None and weights_store.exists(flowers.DEEP_TUNED):
        deep = weights_store.load_record(flowers.DEEP_TUNED)
    model = None
    if deep:
        model = {"val_accuracy": deep["metrics"]["val"]["accuracy"], "val_loss": deep["metrics"]["val"]["loss"],
                 "test_accuracy": deep["metrics"]["test"]["accuracy"], "test_macro_f1": deep["metrics"]["test"]["macro_f1"],
                 "trainable": deep["trainable_params"], "tail": deep["hparams"].get("unfrozen_from", "Conv_1"),
                 "epochs": deep["training"]["refit"]["epochs"], "refit_size": deep["training"]["refit"]["train_size"],
                 **flowers.fine_tuning_verdict(record, deep)}
    no_mirror = table[(table["tail"] == choice["tail"]) & ~table["mirror"]]
    with_mirror = table[(table["tail"] == choice["tail"]) & table["mirror"]]
    return {"epochs": flowers.DEEP_EPOCHS, "seeds": int(table["seeds"].max()),
            "table": _table(table.fillna(0.0), ["tail", "mirror", "seeds", "val_loss_mean", "val_loss_std",
                                                "val_accuracy_mean", "val_accuracy_std", "best_epoch_median",
                                                "seconds_per_epoch"]),
            "choice": choice, "model": model,
            "mirror_gain": (round(float(with_mirror["val_accuracy_mean"].iloc[0] - no_mirror["val_accuracy_mean"].iloc[0]), 4)
                            if len(no_mirror) and len(with_mirror) else None)}


def _table(df, columns) -> list[dict]:
    return [{c: (round(float(row[c]), 4) if isinstance(row[c], (float, np.floating)) else row[c]) for c in columns}
            for _, row in df.iterrows()]


def report_data(runs: dict | None = None, record: dict | None = None, speed: dict | None = None,
                fine_tuned: dict | None = None) -> dict:
    """Every value the report prints: ``runs`` (as in ``runs.json``), the recommended model's ``record``, the
    fine-tuned model's record and the speed benchmark's results (``None``: read from their files)."""
    runs = runs if runs is not None else flowers.load_runs()
    standard, accelerated = _runs("standard", runs), _runs("accelerated", runs)
    if not standard or not accelerated:
        raise HelpersError("the flower report needs the study's standard and accelerated runs: run "
                           "python -m helpers.flowers first (results/flowers/runs.json)")
    record = record if record is not None else weights_store.load_record(flowers.RECOMMENDED)
    if speed is None:
        speed = json.loads(SPEED_JSON.read_text()) if SPEED_JSON.is_file() else None
    t5 = next((r for r in standard if r["learning_rate"] == flowers.TASK5_SGD["learning_rate"]
               and r["momentum"] == flowers.TASK5_SGD["momentum"] and r["seed"] == flowers.SEED), None)
    if t5 is None:
        raise HelpersError("task 5's standard run is missing from results/flowers/runs.json: python -m helpers.flowers task_5")
    rec = flowers.recommend(accelerated)
    s_std, s_acc = flowers.summary(standard), flowers.summary(accelerated)
    pairs = []
    for r in standard:
        a = runs.get(flowers.run_key("accelerated", r["learning_rate"], r["momentum"], r["seed"], r["epochs"],
                                     r["batch_size"]))
        if a:
            pairs.append({"learning_rate": r["learning_rate"], "momentum": r["momentum"],
                          "max_diff": float(np.max(np.abs(np.subtract(r["history"]["val_loss"], a["history"]["val_loss"])))),
                          "standard_s": float(np.mean(r["history"]["epoch_seconds"][1:])),
                          "accelerated_s": float(np.mean(a["history"]["epoch_seconds"][1:]))})
    test = record["metrics"]["test"]
    size_runs = [r for r in runs.values() if r["mode"] == "accelerated" and r["epochs"] == flowers.EPOCHS
                 and r["batch_size"] == flowers.BATCH_SIZE and r["learning_rate"] == rec["learning_rate"]
                 and r["momentum"] == rec["momentum"] and r.get("image_size") in flowers.FINAL_IMAGE_SIZES]
    if fine_tuned is None and weights_store.exists(flowers.FINE_TUNED):
        fine_tuned = weights_store.load_record(flowers.FINE_TUNED)
    tuned = None
    if fine_tuned:
        tuned = {"val_accuracy": fine_tuned["metrics"]["val"]["accuracy"], "val_loss": fine_tuned["metrics"]["val"]["loss"],
                 "test_accuracy": fine_tuned["metrics"]["test"]["accuracy"], "trainable": fine_tuned["trainable_params"],
                 **flowers.fine_tuning_verdict(record, fine_tuned)}
    deeper = deeper_data(runs, record)
    best_test = max([test["accuracy"], *([tuned["test_accuracy"]] if tuned else []),
                     *([deeper["model"]["test_accuracy"]] if deeper and deeper["model"] else [])])
    rows, _ = image_folder.read_manifest(flowers.ensure_manifest())
    counts = {split: sum(r["split"] == split for r in rows) for split in ("train", "val", "test")}
    return {
        "classes": list(flowers.CLASS_NAMES), "image_size": flowers.IMAGE_SIZE, "epochs": flowers.EPOCHS,
        "batch_size": flowers.BATCH_SIZE, "seeds": list(flowers.SEEDS), "learning_rates": list(flowers.LEARNING_RATES),
        "momenta": list(flowers.MOMENTA), "split_counts": counts,
        "task5": {"best_epoch": t5["best_epoch"], **{k: t5["val_report"][k] for k in ("accuracy", "macro_precision",
                                                                                       "macro_recall")},
                  "per_class": [{"class": c, "precision": t5["val_report"]["precision"][c],
                                 "recall": t5["val_report"]["recall"][c]} for c in flowers.CLASS_NAMES],
                  "seconds": round(float(np.sum(t5["history"]["epoch_seconds"])), 1)},
        "standard": _table(s_std, ["learning_rate", "momentum", "seeds", "val_loss_mean", "val_accuracy_mean",
                                   "best_epoch_median", "seconds_per_epoch"]),
        "accelerated": _table(s_acc.fillna(0.0), ["learning_rate", "momentum", "seeds", "val_loss_mean", "val_loss_std",
                                                  "val_accuracy_mean", "val_accuracy_std", "best_epoch_median",
                                                  "seconds_per_epoch"]),
        "pairs": pairs, "max_pair_diff": max((p["max_diff"] for p in pairs), default=None),
        "identical_pairs": sum(p["max_diff"] == 0 for p in pairs),
        "worst_pair": max(pairs, key=lambda p: p["max_diff"]) if pairs else None,
        "speed": speed, "recommendation": rec,
        "test": {"accuracy": test["accuracy"], "macro_f1": test["macro_f1"], "n": test["n"]},
        "final": {"image_size": int(record["hparams"]["image_size"]), "epochs": record["training"]["refit"]["epochs"]
                  if "refit" in record["training"] else record["training"]["best_epoch"],
                  "val_accuracy": record["metrics"]["val"]["accuracy"], "val_loss": record["metrics"]["val"]["loss"],
                  "sizes": _table(flowers.summary(size_runs), ["image_size", "seeds", "val_loss_mean", "val_accuracy_mean",
                                                               "best_epoch_median"]) if size_runs else []},
        "fine_tuned": tuned, "clear_gain": flowers.CLEAR_GAIN, "conclusions": conclusions(s_acc, s_std, rec),
        "target_met": bool(test["accuracy"] > flowers.TARGET), "deeper": deeper, "target": flowers.TARGET,
        "any_target_met": bool(best_test > flowers.TARGET), "goal": flowers.GOAL, "goal_met": bool(best_test >= flowers.GOAL),
    }


def conclusions(accelerated, standard, rec: dict) -> dict:
    """The facts the report's conclusions state, from the accelerated (and standard) summary tables."""
    lr_rows = accelerated[accelerated["momentum"] == 0].sort_values("learning_rate")
    m_rows = accelerated[accelerated["learning_rate"] == rec["learning_rate"]].sort_values("momentum")
    best = lr_rows.loc[lr_rows["val_loss_mean"].idxmin()]
    best_m = m_rows.loc[m_rows["val_loss_mean"].idxmin()]
    epochs = m_rows["best_epoch_median"].tolist()

    def order(df, key):
        return df.sort_values(["val_loss_mean", key])[key].tolist()

    std_lr = standard[standard["momentum"] == 0]
    std_m = standard[standard["learning_rate"] == rec["learning_rate"]]
    return {"best_lr": float(best["learning_rate"]), "best_loss": float(best["val_loss_mean"]),
            "smallest_lr": float(lr_rows["learning_rate"].iloc[0]), "largest_lr": float(lr_rows["learning_rate"].iloc[-1]),
            "smallest_still_improving": bool(lr_rows["best_epoch_median"].iloc[0] == flowers.EPOCHS),
            "largest_worse": bool(lr_rows["learning_rate"].iloc[-1] != best["learning_rate"]),
            "largest_loss": float(lr_rows["val_loss_mean"].iloc[-1]),
            "momentum_helps": bool(best_m["momentum"] > 0), "best_momentum": float(best_m["momentum"]),
            "momenta": m_rows["momentum"].tolist(), "momentum_best_epochs": [int(e) for e in epochs],
            "earlier_with_momentum": bool(all(a >= b for a, b in zip(epochs, epochs[1:]))),
            "standard_agrees": bool(len(std_lr) and order(std_lr, "learning_rate")[0] == order(lr_rows, "learning_rate")[0]
                                    and len(std_m) and order(std_m, "momentum")[-1] == order(m_rows, "momentum")[-1])}


def draw_figures(runs: dict, folder: Path, record: dict | None = None) -> list[Path]:
    """The report's figures as PNG files in ``folder`` (fixed metadata, so the same runs give the same bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    standard, accelerated = _runs("standard", runs), _runs("accelerated", runs)
    out = []

    def save(fig, name):
        path = folder / name
        fig.savefig(path, dpi=150, metadata={"Software": None}, bbox_inches="tight")
        plt.close(fig)
        out.append(path)

    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for r in sorted(standard, key=lambda r: (r["momentum"], r["learning_rate"])):
        h = r["history"]
        label = f"lr {r['learning_rate']:g}, m {r['momentum']:g}"
        axes[0].plot(range(1, len(h["val_loss"]) + 1), h["val_loss"], label=label)
        axes[1].plot(np.cumsum(h["epoch_seconds"]), h["val_loss"], label=label)
    axes[0].set_xlabel("epoch"); axes[1].set_xlabel("seconds (2 CPU cores)")
    for ax in axes:
        ax.set_ylabel("validation loss"); ax.set_yscale("log")
    axes[1].legend(fontsize=6)
    save(fig, "standard_curves.png")

    s = flowers.summary(accelerated)
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
    for ax, rows, key, label in [(axes[0], s[s["momentum"] == 0], "learning_rate", "learning rate (momentum 0)"),
                                 (axes[1], s[s["momentum"] > 0], "momentum", "momentum")]:
        ax.errorbar(rows[key].astype(str), rows["val_loss_mean"], yerr=rows["val_loss_std"].fillna(0), fmt="o", capsize=4)
        ax.set_xlabel(label); ax.set_ylabel("best validation loss")
    save(fig, "accelerated_seeds.png")

    chosen = depth_runs(runs, record) if record else []  # record: the recommended model's (its side and settings)
    if chosen:
        fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
        plots.depth_study(flowers.summary(chosen), axes)
        save(fig, "depth_study.png")
    return out


def build(out: Path = REPORT_PDF, runs: dict | None = None, record: dict | None = None, speed: dict | None = None) -> Path:
    runs = runs if runs is not None else flowers.load_runs()
    record = record if record is not None else weights_store.load_record(flowers.RECOMMENDED)
    data = report_data(runs, record, speed)
    records = ([record] + ([weights_store.load_record(flowers.FINE_TUNED)] if data["fine_tuned"] else [])
               + ([weights_store.load_record(flowers.DEEP_TUNED)] if data["deeper"] and data["deeper"]["model"] else []))
    with tempfile.TemporaryDirectory() as tmp:
        figures = draw_figures(runs, Path(tmp), record)
        pdf.build(TEMPLATE, data, out, pdf.newest_date(records), assets=figures)
    pages = pdf.page_count(out)
    if pages > MAX_PAGES:
        raise HelpersError(f"the flower report has {pages} pages, more than the brief's {MAX_PAGES}")
    return out
