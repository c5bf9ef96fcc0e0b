"""``report.pdf``, the report for management (CRISP-DM, at most 1,500 words), built from the results.

    python -m helpers.report management        # or: make report

Reads the saved models' records (``weights/*.json``), notebook 06's summary of the deployed model
(``results/error_analysis/summary_<model>.json``), the tuning trials, the flower study's results and the
gear study's records; draws the figures; fills ``reports/templates/report.typ`` (typst). No number is typed
in the template, and the same inputs give the same bytes (the PDF is dated by the newest record).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.errors import HelpersError
from helpers.models import weights_store
from helpers.reports import pdf

TEMPLATE = paths.REPO_ROOT / "reports" / "templates" / "report.typ"
REPORT_PDF = paths.REPO_ROOT / "report.pdf"
TUNING_TRIALS = paths.REPO_ROOT / "results" / "tuning" / "own_cnn_trials.csv"
MAX_WORDS = 1500
#: Which notebook made a saved Fashion-MNIST model (by name prefix), for the model table.
NOTEBOOK_OF = {"fashion_dense": "02", "fashion_simple_cnn": "02", "fashion_tl_mobilenet_v2_deep": "05", "fashion_tl_": "03", "fashion_own_cnn": "04",
               "fashion_binary": "07"}
#: The share of right offers the user-level figure marks (notebook 06's target).
OFFER_TARGET = 0.95


def notebook_of(name: str) -> str:
    return next((nb for prefix, nb in NOTEBOOK_OF.items() if name.startswith(prefix)), "05")


def _model_row(r: dict) -> dict:
    """A saved model as the report shows it; ``seconds`` is its training on the team's 2-core CPU (measured, or
    estimated for a model trained on a lent GPU: ``estimated``)."""
    from helpers.studies.best_model import cpu_training_cost, trained_on

    seconds, how = cpu_training_cost(r)
    return {"name": r["name"], "notebook": notebook_of(r["name"]), "params": int(r.get("params") or 0),
            "seconds": seconds, "estimated": how == "estimated", "trained_on": trained_on(r),
            "val": r["metrics"].get("val", {}).get("accuracy"), "test": r["metrics"]["test"]["accuracy"]}


#: A transfer-learning step "helped" when it raised validation accuracy by at least this much (half a point: smaller
#: changes are within what another seed gives).
HELP_THRESHOLD = 0.005
#: notebook 03's steps, in order, as the report names them
TL_STEP_LABELS = {"fashion_tl_mobilenet_v2_frozen": "the frozen network",
                  "fashion_tl_mobilenet_v2_dense_head": "adding two dense layers",
                  "fashion_tl_mobilenet_v2_fine_tuned": "unfreezing the last two layers"}


def _tl_steps(rows: list[dict]) -> list[dict]:
    """The transfer-learning benchmark's steps in order, each with its change in validation accuracy."""
    steps = [next(r for r in rows if r["name"] == n) for n in TL_STEP_LABELS if any(r["name"] == n for r in rows)]
    return [{**s, "label": TL_STEP_LABELS[s["name"]],
             "val_change": (s["val"] - steps[i - 1]["val"]) if i else None} for i, s in enumerate(steps)]


def report_data(records: dict | None = None, summary: dict | None = None, study: dict | None = None) -> dict:
    """Every value the report prints. ``records``: ``{name: record}`` (default: every saved model);
    ``summary``: notebook 06's summary of the deployed model (default: read from ``results/``); ``study``:
    notebook 05's summary (default: ``results/best_model/summary.json`` when it exists)."""
    import pandas as pd

    from helpers.studies import error_analysis
    from helpers.studies.binary import FOOTWEAR_IDX

    if records is None:
        records = {n: weights_store.load_record(n) for n in weights_store.list_names()}
    fashion = [r for r in records.values() if r["task"] == "fashion"]
    if not fashion:
        raise HelpersError("no saved Fashion-MNIST model in weights/: run the notebooks first (make run)")
    # the deployed model: the one helpers.predict uses (named by notebook 05, else the best validation accuracy)
    chosen = weights_store.deployed("fashion") if "fashion" in {r["task"] for r in fashion} else None
    best = (records[chosen] if chosen in records else
            max(fashion, key=lambda r: (r["metrics"].get("val", {}).get("accuracy", -1), r["name"])))
    if summary is None:
        path = error_analysis.summary_path(best["name"])
        if not path.is_file():
            raise HelpersError(f"{paths.display_path(path)} is missing: execute notebook 06 on {best['name']} "
                               "(python -m helpers.run_notebooks 06_error_analysis)")
        summary = json.loads(path.read_text())
    if summary["model"] != best["name"]:
        raise HelpersError(f"notebook 06's summary is about {summary['model']}, but the deployed model is {best['name']}: "
                           "re-execute notebook 06")
    rows = sorted((_model_row(r) for r in fashion), key=lambda r: (r["notebook"], r["test"]))
    classes = summary["classes"]
    per_class = [{"class": c, **{k.replace(" ", "_"): v for k, v in summary["per_class"][c].items()}} for c in classes]
    per_class.sort(key=lambda r: -r["F1"])
    confusion = np.asarray(summary["confusion"])
    binary_idx = np.isin(np.arange(len(classes)), FOOTWEAR_IDX)
    binarised = float((confusion[binary_idx][:, binary_idx].sum() + confusion[~binary_idx][:, ~binary_idx].sum())
                      / confusion.sum())
    users = summary["users_mean"]
    ks = sorted(int(k) for k in next(iter(users.values())))
    need = {c: summary["images_needed"][c]["mean"] for c in classes}
    trials = pd.read_csv(TUNING_TRIALS) if TUNING_TRIALS.is_file() else None
    own = records.get("fashion_own_cnn")

    out = {
        "deployed": _model_row(best),
        "train_size": best["training"].get("train_size"), "val_size": best["training"].get("val_size"),
        "test_size": best["metrics"]["test"]["n"], "refit": "refit" in best["training"],
        "models": rows, "tl_steps": _tl_steps(rows),
        "baselines": [r for r in rows if r["notebook"] == "02"],
        "own_cnn": _model_row(own) if own else None,
        "tuning": ({"trials": int(len(trials)), "strategies": sorted(trials["strategy"].unique().tolist())}
                   if trials is not None else None),
        "per_class": per_class, "best_class": per_class[0], "worst_class": per_class[-1],
        "pairs": [{"pair": p["pair"], "errors": p["total errors"]} for p in summary["pairs"].values()],
        "launch": summary["launch"], "hold": summary["hold"], "tops": summary["tops"],
        "tops_accuracy": summary["tops_accuracy"], "offers95": summary["offers95"],
        "p95": [{"class": c, **summary["p95"][c]} for c in classes],
        "share": summary["share"], "ks": ks, "need": need, "offer_target": OFFER_TARGET, "help_threshold": HELP_THRESHOLD,
        "users_curve": users, "users_first": {c: users[c][str(ks[0])] for c in classes},
        "users_last": {c: users[c][str(ks[-1])] for c in classes},
        "binarised_accuracy": binarised,
        "rejection_score": summary["rejection_score"], "real_photos": _real_photos(summary),
    }
    tl_best = max((s["test"] for s in out["tl_steps"]), default=None)
    out["tl_behind_own"] = bool(own and tl_best is not None and tl_best < own["metrics"]["test"]["accuracy"])
    binary = records.get("fashion_binary_cnn")
    out["binary"] = {"test": binary["metrics"]["test"]["accuracy"]} if binary else None
    out["best_model"] = _best_model_study(study, best["name"])
    out["flowers"] = _flowers(records)
    out["gear"] = _gear(records)
    return out


def _best_model_study(study: dict | None, deployed: str) -> dict | None:
    """Notebook 05's experiments (direction and validation accuracy), its best test-time augmentation and the
    deployed model's calibration, or ``None`` before notebook 05 has run."""
    from helpers.studies import best_model

    if study is None:
        if not best_model.SUMMARY_JSON.is_file():
            return None
        study = json.loads(best_model.SUMMARY_JSON.read_text())
    if study["final"] != deployed:
        raise HelpersError(f"notebook 05's summary deploys {study['final']}, but the deployed model is {deployed}: "
                           "re-execute notebook 05")
    choice, effects, tta = study["choice"], study["effects"], study["tta"]
    import statistics

    gains = [v["gain (points)"] for v in tta.values()]
    ens = max(study["ensembles"].values(), key=lambda e: e["val_accuracy"], default=None)
    deep = [e for e in study["experiments"].values() if e["direction"] == "deeper transfer"]
    return {"baseline_val": study["baseline"]["accuracy"], "noise": study["noise_points"],
            "longer": effects["twice the epochs (two seeds each)"], "lighter": effects["lighter regularisation"],
            "flips": effects["left-right flips"], "wider": effects["twice the filters"],
            "wide_slowdown": study["wide_slowdown"],
            "deep_val": deep[0]["val_accuracy"] if deep else None,
            "tta_views": next(iter(tta.values()))["views"] if tta else None,
            "tta_median": round(statistics.median(gains), 2) if gains else None,
            "ensemble_size": ens["size"] if ens else None, "ensemble_val": ens["val_accuracy"] if ens else None,
            "speed_target": choice["speed_target"], "budget_hours": choice["budget_seconds"] / 3600,
            "most_accurate": choice["most_accurate"], "most_val": choice["most_accurate_val_accuracy"],
            "most_speed": choice["most_accurate_images_per_s"],
            "most_hours": choice["most_accurate_cpu_training_seconds"] / 3600,
            "most_test": study.get("most_accurate_test_accuracy"),
            # the deployed model's calibration (none while it is a model refitted on the validation images)
            **({"ece_before": study["ece_test"]["before"], "ece_after": study["ece_test"]["after"]}
               if study.get("calibrated", deployed) == deployed else {"ece_before": None, "ece_after": None})}


#: notebook 06's names of the rejection-rule figures the report quotes (its report part of the gear photos)
REAL_PHOTO_FIGURES = {
    "rejected": "non-fashion photos rejected (report part)",
    "kept": "boots and jackets kept (report part)",
    "confident_without_rule": "non-fashion photos with a confident (≥ 0.9) label, no rule (report part)",
    "test_kept": "Fashion-MNIST test images kept",
}


def _real_photos(summary: dict) -> dict:
    rej = summary["rejection"]
    missing = [v for v in REAL_PHOTO_FIGURES.values() if v not in rej]
    if missing:
        raise HelpersError(f"notebook 06's summary lacks {missing}: re-execute notebook 06")
    return {"boots_right": summary["photo_paths"]["boots (report)"],
            **{k: rej[v] for k, v in REAL_PHOTO_FIGURES.items()}}


def _flowers(records: dict) -> dict | None:
    from helpers.reports.flowers_report import SPEED_JSON
    from helpers.studies import flowers

    rec = records.get(flowers.RECOMMENDED)
    if rec is None:
        return None
    runs = [r for r in flowers.load_runs().values() if r["mode"] == "accelerated"]
    recommendation = flowers.recommend(runs)
    tuned, deep = records.get(flowers.FINE_TUNED), records.get(flowers.DEEP_TUNED)
    speed = json.loads(SPEED_JSON.read_text()) if SPEED_JSON.is_file() else None
    tests = [r["metrics"]["test"]["accuracy"] for r in (rec, tuned, deep) if r]
    return {"test": rec["metrics"]["test"]["accuracy"], "image_size": rec["hparams"]["image_size"],
            "learning_rate": recommendation["learning_rate"], "momentum": recommendation["momentum"],
            "epochs": recommendation["epochs"], "fine_tuned_test": tuned["metrics"]["test"]["accuracy"] if tuned else None,
            "deep_test": deep["metrics"]["test"]["accuracy"] if deep else None,
            "deep_from": deep["hparams"].get("unfrozen_from", "Conv_1") if deep else None,
            "best_test": max(tests), "target": flowers.TARGET,
            "speed_up": speed["speed_up_per_epoch"] if speed else None}


def _gear(records: dict) -> dict | None:
    """The gear study's best own CNN and best transfer model, each picked on validation (as notebook 09 does)."""
    def best(architecture_is_transfer: bool):
        found = [r for r in records.values() if r["task"] == "gear"
                 and (r["architecture"] == "transfer") == architecture_is_transfer]
        return max(found, key=lambda r: (r["metrics"]["val"]["accuracy"], r["name"])) if found else None

    cnn, tl = best(False), best(True)
    if cnn is None or tl is None:
        return None
    return {"cnn_test": cnn["metrics"]["test"]["accuracy"], "tl_test": tl["metrics"]["test"]["accuracy"]}


def draw_figures(data: dict, folder: Path) -> list[Path]:
    """The report's figures as PNG files in ``folder`` (fixed metadata: same data, same bytes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []

    def save(fig, name):
        path = Path(folder) / name
        fig.savefig(path, dpi=150, metadata={"Software": None}, bbox_inches="tight")
        plt.close(fig)
        out.append(path)

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for r in (r for r in data["models"] if r["seconds"] is not None):
        ax.scatter(r["seconds"], r["test"], s=25, marker="^" if r["estimated"] else "o")
        ax.annotate(f"{r['name'].removeprefix('fashion_')} ({r['notebook']})", (r["seconds"], r["test"]), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    ax.set_xscale("log"); ax.set_xlabel("training time, seconds on 2 CPU cores (log scale; triangles: estimated)")
    ax.set_ylabel("test accuracy"); ax.grid(alpha=0.3)
    save(fig, "models.png")

    pc = data["per_class"][::-1]
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    f1 = np.array([r["F1"] for r in pc])
    err = np.array([[r["F1"] - r["F1_low"], r["F1_high"] - r["F1"]] for r in pc]).T
    ax.barh([r["class"] for r in pc], f1, xerr=err, color="#4c78a8", capsize=2)
    ax.set_xlim(max(0.0, f1.min() - 0.1), 1.0); ax.set_xlabel("F1 on test (95 % bootstrap interval)")
    save(fig, "per_class.png")

    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    ks = data["ks"]
    users = {c: [data["users_curve"][c][str(k)] for k in ks] for c in data["users_curve"]}
    for c, v in users.items():
        ax.plot(ks, v, marker="o", ms=3, label=c)
    ax.axhline(data["offer_target"], ls="--", c="grey", lw=0.8)
    ax.set_xscale("log"); ax.set_xticks(ks); ax.set_xticklabels([str(k) for k in ks])
    ax.set_xlabel("images per user"); ax.set_ylabel("right offers"); ax.legend(fontsize=6, ncol=2)
    save(fig, "users.png")
    return out


def build(out: Path = REPORT_PDF, records: dict | None = None, summary: dict | None = None,
          study: dict | None = None) -> Path:
    """Build the report into ``out``; returns it. Raises :class:`HelpersError` when an input is missing or the
    body text is over :data:`MAX_WORDS` words."""
    records = records if records is not None else {n: weights_store.load_record(n) for n in weights_store.list_names()}
    data = report_data(records, summary, study)
    with tempfile.TemporaryDirectory() as tmp:
        figures = draw_figures(data, Path(tmp))
        date = pdf.newest_date(records.values())
        pdf.build(TEMPLATE, {**data, "count_only": False}, out, date, assets=figures)
        words = body_words(data, figures, date)
    if words > MAX_WORDS:
        raise HelpersError(f"report.pdf has {words} words of body text, more than {MAX_WORDS}")
    return out


def body_words(data: dict, figures, date) -> int:
    """Words of body text: the report compiled with its tables, figures, captions and headings hidden."""
    with tempfile.TemporaryDirectory() as tmp:
        counted = pdf.build(TEMPLATE, {**data, "count_only": True}, Path(tmp) / "count.pdf", date, assets=figures)
        return pdf.word_count(pdf.pdf_text(counted))
