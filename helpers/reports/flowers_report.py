"""The flower study's PDF report (``reports/flowers_transfer_learning.pdf``), built from its results.

    python -m helpers.report flowers          # or: make reports

Reads ``results/flowers/runs.json`` (every run's per-epoch history), the saved flower models' records
(``weights/flowers_mobilenet_v2_*.json``), their test predictions (``results/flowers/test_predictions.json``, for
McNemar's test) and the speed benchmark's results (``benchmarks/results/flowers_speed.json``), draws the figures, and
fills the typst template ``reports/templates/flowers_transfer_learning.typ``. No number is typed in the template,
and none is rounded before it prints it (once, in one format: see :mod:`helpers.studies.flowers.story`).
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
from helpers.studies.flowers import story

TEMPLATE = paths.REPO_ROOT / "reports" / "templates" / "flowers_transfer_learning.typ"
REPORT_PDF = paths.REPO_ROOT / "reports" / "flowers_transfer_learning.pdf"
SPEED_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "flowers_speed.json"
MAX_PAGES = 8


def _runs(mode: str, runs: dict) -> list[dict]:
    return story.study_runs(runs, mode)


depth_runs = story.depth_runs


def _table(df, columns) -> list[dict]:
    """Rows of a summary table, values as they are (the template rounds them once)."""
    return [{c: (float(row[c]) if isinstance(row[c], (float, np.floating)) else
                 int(row[c]) if isinstance(row[c], (np.integer,)) else row[c]) for c in columns} for _, row in df.iterrows()]


def _verdict(v: dict) -> dict:
    return {k: v[k] for k in ("seeds", "loss_change", "loss_se", "accuracy_gain", "accuracy_se", "bar", "verdict")}


def deeper_data(runs: dict, record: dict, deep: dict | None = None, verdict: dict | None = None,
                probe: dict | None = None) -> dict | None:
    """The depth study's table and choice, its verdicts against noise (the chosen depth against the head, against
    the runner-up, and with against without mirror images), and the deeper fine-tuned model (``None`` without runs).
    ``verdict``: the deeper model's :func:`fine_tuning_verdict` (default: one seed, no support); ``probe``: the
    saved epoch probe (default: looked up in ``runs``)."""
    chosen = depth_runs(runs, record)
    if not chosen:
        return None
    table = flowers.summary(chosen)
    summary = flowers.second_round_summary(chosen)
    choice, first = summary["choice"], summary["first"]
    if deep is None:
        deep = latest_deep()
    n_val = int(record["metrics"]["val"]["n"])
    verdicts = story.depth_verdicts(chosen, n_val)
    second = [t for t in flowers.TAILS if t not in flowers.FIRST_ROUND_TAILS and any(r.get("tail") == t for r in chosen)]
    second_round = story.second_round_sentence(summary, n_val) if second else None
    probe = probe or flowers.probe.saved_probe(runs, record)
    model = None
    if deep:
        model = {"name": deep["name"], "val_accuracy": deep["metrics"]["val"]["accuracy"],
                 "val_loss": deep["metrics"]["val"]["loss"], "test_accuracy": deep["metrics"]["test"]["accuracy"],
                 "test_macro_f1": deep["metrics"]["test"]["macro_f1"], "trainable": deep["trainable_params"],
                 "tail": story.tail_of(deep), "epochs": deep["training"]["refit"]["epochs"],
                 "refit_size": deep["training"]["refit"]["train_size"],
                 **(verdict or flowers.fine_tuning_verdict(record, deep))}
    return {"epochs": flowers.DEEP_EPOCHS, "seeds": int(table["seeds"].max()),
            "table": _table(table.fillna(0.0), ["tail", "mirror", "seeds", "val_loss_mean", "val_loss_std",
                                                "val_accuracy_mean", "val_accuracy_std", "best_epoch_median",
                                                "seconds_per_epoch"]),
            "choice": choice, "first_choice": first, "second_round_tails": second, "second_round": second_round,
            "probe": flowers.probe.sentence(probe, n_val) if probe else None,
            "mirror_tail": verdicts["mirror_tail"], "model": model, "runner_up": verdicts["runner_up"],
            **{k: _verdict(verdicts[k]) if verdicts[k] else None for k in ("against_head", "against_runner_up", "mirror")}}


def latest_deep(records: dict | None = None) -> dict | None:
    """The record of the last deeper fine-tuned model made (:data:`DEEP_MODELS`), from ``records`` or the store."""
    for name in reversed(flowers.DEEP_MODELS):
        if records is not None and name in records:
            return records[name]
        if records is None and weights_store.exists(name):
            return weights_store.load_record(name)
    return None


def _agreement(runs: dict, standard: list[dict]) -> dict:
    """How far each standard run's validation losses are from its accelerated twin's (same settings and seed)."""
    pairs = []
    for r in standard:
        a = runs.get(flowers.run_key("accelerated", r["learning_rate"], r["momentum"], r["seed"], r["epochs"],
                                     r["batch_size"]))
        if a:
            pairs.append({"learning_rate": r["learning_rate"], "momentum": r["momentum"],
                          "max_diff": float(np.max(np.abs(np.subtract(r["history"]["val_loss"], a["history"]["val_loss"])))),
                          "same_best_epoch": r["best_epoch"] == a["best_epoch"]})
    return {"pairs": len(pairs), "identical_pairs": sum(p["max_diff"] == 0 for p in pairs),
            "same_best_epoch": sum(p["same_best_epoch"] for p in pairs),
            "worst_pair": max(pairs, key=lambda p: p["max_diff"]) if pairs else None}


def _records(record: dict, fine_tuned: dict | None, deep: dict | None) -> dict:
    """``{name: record}`` of the saved flower models, in the order they were made."""
    out = {flowers.RECOMMENDED: record}
    for name, given in ((flowers.FINE_TUNED, fine_tuned), (flowers.DEEP_TUNED, deep), (flowers.DEEPER_TUNED, None)):
        if given is None and weights_store.exists(name):
            given = weights_store.load_record(name)
        if given:
            out[name] = given
    return out


def models_table(records: dict, verdicts: dict, evidence: dict | None) -> list[dict]:
    """One row per saved model: depth, trainable weights, validation scores and verdict, test accuracy with its 95 %
    interval, and (with ``evidence``) McNemar's test against the recommended model on the same test photos."""
    pairs = {p["name"]: p for p in (evidence or {}).get("pairs", [])}
    rows = []
    for name, r in records.items():
        ci = flowers.accuracy_interval(r["metrics"]["test"])
        rows.append({"name": name, "tail": story.tail_of(r), "trainable": int(r["trainable_params"]),
                     "val_accuracy": r["metrics"]["val"]["accuracy"], "val_loss": r["metrics"]["val"]["loss"],
                     "verdict": verdicts.get(name, {}).get("verdict"), "seeds": verdicts.get(name, {}).get("seeds"),
                     "test_accuracy": ci["accuracy"], "low": ci["low"], "high": ci["high"], "n": ci["n"],
                     "mcnemar": pairs.get(name)})
    return rows


def report_data(runs: dict | None = None, record: dict | None = None, speed: dict | None = None,
                fine_tuned: dict | None = None, deep: dict | None = None, predictions: dict | None = None,
                whole: dict | None = None) -> dict:
    """Every value the report prints: ``runs`` (as in ``runs.json``), the recommended model's ``record``, the
    fine-tuned and deeper models' records, the speed benchmark's results, the saved models' test predictions and
    the whole-backbone probe's run (``None``: read from their files; without predictions the paired test is left
    out)."""
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
    records = _records(record, fine_tuned, deep)
    verdicts = story.model_verdicts(runs, records, rec)
    predictions = predictions if predictions is not None else flowers.load_predictions()
    evidence = flowers.test_evidence(predictions, records) if predictions else None
    size = int(record["hparams"]["image_size"])
    size_runs = [r for size_ in flowers.FINAL_IMAGE_SIZES for r in story.setting_runs(
        story.study_runs(runs, "accelerated", size_), rec["learning_rate"], rec["momentum"])]
    size_table = flowers.summary(size_runs) if size_runs else None
    sizes_verdict = None
    if size_table is not None and len(size_table) > 1:
        by = {s: story.setting_runs(story.study_runs(runs, "accelerated", s), rec["learning_rate"], rec["momentum"])
              for s in flowers.FINAL_IMAGE_SIZES}
        others = [s for s in flowers.FINAL_IMAGE_SIZES if s != size and by[s]]
        sizes_verdict = _verdict(flowers.compare_seeds(by[others[0]], by[size], int(record["metrics"]["val"]["n"])))
    tuned = records.get(flowers.FINE_TUNED)
    last = latest_deep(records)
    probe = flowers.probe.saved_probe(runs, record)
    deeper = deeper_data(runs, record, last, verdicts.get(last["name"]) if last else None, probe)
    n_val = int(record["metrics"]["val"]["n"])
    checks = flowers.ranges.saved_edge_checks(runs, rec, record)
    depth_probe = flowers.probe.saved_depth_probe(runs, record)
    whole = whole if whole is not None else flowers.whole.load()
    whole_ref = flowers.whole.reference(runs, record, whole["seed"]) if whole else None
    rows, _ = image_folder.read_manifest(flowers.ensure_manifest())
    counts = {split: sum(r["split"] == split for r in rows) for split in ("train", "val", "test")}
    classes = len(flowers.CLASS_NAMES)
    facts = story.speed_facts(runs, speed)
    study = story.study_verdicts(runs, rec, int(record["metrics"]["val"]["n"]))
    best = max(records.values(), key=lambda r: r["metrics"]["test"]["accuracy"])
    return _finite({
        "classes": list(flowers.CLASS_NAMES), "image_size": flowers.IMAGE_SIZE, "epochs": flowers.EPOCHS,
        "batch_size": flowers.BATCH_SIZE, "seeds": list(flowers.SEEDS), "learning_rates": list(flowers.LEARNING_RATES),
        "momenta": list(flowers.MOMENTA), "split_counts": counts, "val_fraction": flowers.VAL_FRACTION,
        "test_fraction": flowers.TEST_FRACTION, "min_seeds": flowers.MIN_SEEDS, "noise_se": flowers.NOISE_SE,
        "clear_gain": flowers.CLEAR_GAIN, "alpha": flowers.ALPHA, "target": flowers.TARGET, "goal": flowers.GOAL,
        "features": (int(record["trainable_params"]) - classes) // classes if not record["hparams"]["unfrozen"]
        and "unfrozen_from" not in record["hparams"] else None,
        "task5": {"learning_rate": flowers.TASK5_SGD["learning_rate"], "momentum": flowers.TASK5_SGD["momentum"],
                  "best_epoch": t5["best_epoch"], "epochs": len(t5["history"]["loss"]),
                  **{k: t5["val_report"][k] for k in ("accuracy", "macro_precision", "macro_recall")},
                  "per_class": [{"class": c, "precision": t5["val_report"]["precision"][c],
                                 "recall": t5["val_report"]["recall"][c]} for c in flowers.CLASS_NAMES],
                  "seconds": float(np.sum(t5["history"]["epoch_seconds"]))},
        "standard": _table(s_std, ["learning_rate", "momentum", "seeds", "val_loss_mean", "val_accuracy_mean",
                                   "best_epoch_median", "seconds_per_epoch"]),
        "accelerated": _table(s_acc.fillna(0.0), ["learning_rate", "momentum", "seeds", "val_loss_mean", "val_loss_std",
                                                  "val_accuracy_mean", "val_accuracy_std", "best_epoch_median",
                                                  "seconds_per_epoch"]),
        "agreement": _agreement(runs, standard), "speed": facts,
        "speed_sentence": story.speed_sentence(facts) if facts else None,
        "idle": {"standard": speed["seconds_per_epoch"]["standard"], "accelerated": speed["seconds_per_epoch"]["accelerated"],
                 "epochs": speed["settings"]["epochs"]} if speed else None,
        "recommendation": rec, "study_verdicts": study,
        "momentum_sentence": story.momentum_sentence(study, rec), "learning_rate_sentence": story.learning_rate_sentence(study, rec),
        "final": {"image_size": size, "epochs": record["training"]["refit"]["epochs"] if "refit" in record["training"]
                  else record["training"]["best_epoch"], "refit_size": record["training"].get("refit", {}).get("train_size"),
                  "val_accuracy": record["metrics"]["val"]["accuracy"], "val_loss": record["metrics"]["val"]["loss"],
                  "sizes": _table(size_table, ["image_size", "seeds", "val_loss_mean", "val_loss_std", "val_accuracy_mean",
                                               "best_epoch_median"]) if size_table is not None else [],
                  "sizes_verdict": sizes_verdict},
        "exploratory": story.exploratory_runs(runs), "exploratory_lead": exploratory_lead(story.exploratory_runs(runs), rec),
        "test": {**flowers.accuracy_interval(record["metrics"]["test"]), "macro_f1": record["metrics"]["test"]["macro_f1"],
                 "verdict": story.goal_verdict(record["metrics"]["test"])},
        "fine_tuned": ({"name": tuned["name"], "trainable": tuned["trainable_params"],
                        "sentence": story.verdict_sentence(tuned["name"], verdicts[tuned["name"]]),
                        **verdicts[tuned["name"]]} if tuned else None),
        "deeper": deeper,
        "deep_sentence": story.verdict_sentence(last["name"], verdicts[last["name"]]) if last else None,
        "deep_goal": story.goal_verdict(last["metrics"]["test"]) if last else None,
        "models": models_table(records, verdicts, evidence), "evidence": evidence,
        "history": story.history(records, evidence),
        "edge_checks": flowers.ranges.sentences(checks, rec, n_val) if checks else [],
        "depth_probe": flowers.probe.depth_sentence(depth_probe, n_val) if depth_probe else None,
        "whole_probe": flowers.whole.sentence(whole, whole_ref, n_val) if whole and whole_ref else None,
        "open_edges": story.open_edges(runs, rec, record, last, flowers.probe.facts(probe) if probe else None,
                                       closed=flowers.ranges.closes(checks, n_val), whole=bool(whole and whole_ref)),
        "left_to_do": story.left_to_do(runs, whole if whole_ref else None),
        "conclusions": conclusions(s_acc, s_std, rec),
        "target_met": bool(record["metrics"]["test"]["accuracy"] > flowers.TARGET),
        "best_name": best["name"], "any_target_met": bool(best["metrics"]["test"]["accuracy"] > flowers.TARGET),
        "goal_met": bool(best["metrics"]["test"]["accuracy"] >= flowers.GOAL),
    })


def _finite(value):
    """``value`` with every NaN (a spread of one seed, say) as ``None``: JSON has no NaN, and the template prints
    nothing for what was not measured."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def exploratory_lead(rows: list[dict], rec: dict) -> dict | None:
    """The exploratory run with the lowest loss, when its settings are not the recommended ones (a single-seed lead,
    reported with the recommended settings' loss in the same runs); ``None`` otherwise."""
    same = [r for r in rows if (r["learning_rate"], r["momentum"]) == (rec["learning_rate"], rec["momentum"])]
    best = min(rows, key=lambda r: r["val_loss"]) if rows else None
    if best is None or not same or best is same[0]:
        return None
    return {**best, "recommended_loss": same[0]["val_loss"]}


def conclusions(accelerated, standard, rec: dict) -> dict:
    """The facts the report's conclusions state, from the accelerated (and standard) summary tables."""
    lr_rows = accelerated[accelerated["momentum"] == 0].sort_values("learning_rate")
    m_rows = accelerated[accelerated["learning_rate"] == rec["learning_rate"]].sort_values("momentum")
    best = lr_rows.loc[lr_rows["val_loss_mean"].idxmin()]
    epochs = m_rows["best_epoch_median"].tolist()

    def order(df, key):
        return df.sort_values(["val_loss_mean", key])[key].tolist()

    std_lr = standard[standard["momentum"] == 0]
    std_m = standard[standard["learning_rate"] == rec["learning_rate"]]
    return {"best_lr": float(best["learning_rate"]), "best_loss": float(best["val_loss_mean"]),
            "smallest_lr": float(lr_rows["learning_rate"].iloc[0]), "largest_lr": float(lr_rows["learning_rate"].iloc[-1]),
            "smallest_still_improving": bool(story.at_edge(lr_rows["best_epoch_median"].iloc[0], flowers.EPOCHS)),
            "largest_worse": bool(lr_rows["learning_rate"].iloc[-1] != best["learning_rate"]),
            "largest_loss": float(lr_rows["val_loss_mean"].iloc[-1]),
            "momenta": m_rows["momentum"].tolist(), "momentum_best_epochs": [int(e) for e in epochs],
            "earlier_with_momentum": bool(all(a >= b for a, b in zip(epochs, epochs[1:]))),
            "standard_agrees": bool(len(std_lr) and order(std_lr, "learning_rate")[0] == order(lr_rows, "learning_rate")[0]
                                    and len(std_m) and order(std_m, "momentum")[-1] == order(m_rows, "momentum")[-1])}


def _style():
    """Figure text legible at print size: a figure 6.5 inches wide fills the page's text width at about 100 %."""
    return {"font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8.5, "legend.fontsize": 7,
            "xtick.labelsize": 7.5, "ytick.labelsize": 7.5}


def draw_figures(runs: dict, folder: Path, record: dict | None = None) -> list[Path]:
    """The report's figures as PNG files in ``folder`` (fixed metadata, so the same runs give the same bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    standard, accelerated = _runs("standard", runs), _runs("accelerated", runs)
    out = []

    def save(fig, name):
        path = folder / name
        fig.savefig(path, dpi=200, metadata={"Software": None}, bbox_inches="tight")
        plt.close(fig)
        out.append(path)

    with plt.rc_context(_style()):
        t5 = next((r for r in standard if r["learning_rate"] == flowers.TASK5_SGD["learning_rate"]
                   and r["momentum"] == flowers.TASK5_SGD["momentum"] and r["seed"] == flowers.SEED), None)
        if t5 is not None:
            save(task6_figure(flowers.task_6(t5)), "task6_curves.png")

        fig, axes = plt.subplots(1, 2, figsize=(6.5, 2.5), layout="constrained")
        for r in sorted(standard, key=lambda r: (r["momentum"], r["learning_rate"])):
            h = r["history"]
            label = f"lr {r['learning_rate']:g}, momentum {r['momentum']:g}"
            axes[0].plot(range(1, len(h["val_loss"]) + 1), h["val_loss"], label=label)
            axes[1].plot(np.cumsum(h["epoch_seconds"]), h["val_loss"], label=label)
        axes[0].set_xlabel("epoch"); axes[1].set_xlabel("seconds of training (2 CPU cores)")
        for ax in axes:
            ax.set_ylabel("validation loss (log scale)"); ax.set_yscale("log")
            ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 4, 6)))
            ax.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
        save(fig, "standard_curves.png")

        s = flowers.summary(accelerated)
        fig, axes = plt.subplots(1, 2, figsize=(6.5, 2.2), layout="constrained")
        for ax, rows, key, label in [(axes[0], s[s["momentum"] == 0], "learning_rate", "learning rate (momentum 0)"),
                                     (axes[1], s[s["momentum"] > 0], "momentum", f"momentum (learning rate {flowers.recommend(accelerated)['learning_rate']:g})")]:
            ax.errorbar(rows[key].map("{:g}".format), rows["val_loss_mean"], yerr=rows["val_loss_std"].fillna(0), fmt="o",
                        capsize=4)
            ax.set_xlabel(label); ax.set_ylabel("best validation loss")
        save(fig, "accelerated_seeds.png")

        chosen = depth_runs(runs, record) if record else []  # record: the recommended model's (its side and settings)
        if chosen:
            fig, axes = plt.subplots(1, 2, figsize=(6.5, 2.6), layout="constrained")
            plots.depth_study(flowers.summary(chosen), axes)
            for ax, label in zip(axes, ("best validation loss", "validation accuracy")):
                ax.set_ylabel(f"{label}\n(mean ± sd over seeds)")
                plt.setp(ax.get_xticklabels(), fontsize=7, rotation=20, ha="right", rotation_mode="anchor")
            axes[1].yaxis.set_major_formatter(ticker.PercentFormatter(1.0, decimals=0))  # shares in %, as in the text
            axes[1].legend(loc="lower right")
            save(fig, "depth_study.png")
    return out


def task6_figure(curves: dict):
    """Task 6: training and validation loss against epochs and against seconds, and training and validation
    accuracy against epochs (``curves``: :func:`task_6`'s output)."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    fig, axes = plt.subplots(1, 3, figsize=(6.5, 2.2), layout="constrained")
    for x, ax, key, xlabel, ylabel in ((curves["epochs"], axes[0], "loss", "epoch", "loss"),
                                       (curves["seconds"], axes[1], "loss", "seconds of training (2 CPU cores)", "loss"),
                                       (curves["epochs"], axes[2], "accuracy", "epoch", "accuracy")):
        ax.plot(x, curves[key], marker=".", label="training")
        ax.plot(x, curves[f"val_{key}"], marker=".", label="validation")
        ax.set_xlabel(xlabel); ax.set_ylabel(ylabel)
    axes[2].yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))  # shares in %, as in the text
    axes[0].legend()
    return fig


def build(out: Path = REPORT_PDF, runs: dict | None = None, record: dict | None = None, speed: dict | None = None) -> Path:
    runs = runs if runs is not None else flowers.load_runs()
    record = record if record is not None else weights_store.load_record(flowers.RECOMMENDED)
    data = report_data(runs, record, speed)
    records = list(_records(record, None, None).values())
    with tempfile.TemporaryDirectory() as tmp:
        figures = draw_figures(runs, Path(tmp), record)
        pdf.build(TEMPLATE, data, out, pdf.newest_date(records), assets=figures)
    pages = pdf.page_count(out)
    if pages > MAX_PAGES:
        raise HelpersError(f"the flower report has {pages} pages, more than the brief's {MAX_PAGES}")
    return out
