"""``report.pdf``, the report for the board (at most 1,500 words of body text), built from the results.

    python -m helpers.report management        # or: make report

Page 1 is the decision, on users' **photos**: the pilot to approve, the photo model that serves and why the
thumbnail model cannot, its accuracy and the expected wrong offers with their ranges, the pilot's size, duration,
staff cost and go/no-go threshold, and the running cost; then the traffic-light table per offer, as the offers
pipeline produces it on the test photos (rejection rule included, ranges for precision and coverage). The later
sections follow the CRISP-DM phases (business understanding, data understanding, data preparation, modelling,
evaluation, deployment) in plain words, with the thumbnail study as the benchmark it is. Reads the saved models'
records (``weights/*.json``), notebook 06's summary (thumbnails), the photo results of notebooks 06, 10 and 11
(``results/offers/``, ``results/clothing/``), notebook 05's summary, the inference and offers-pipeline benchmarks
(``benchmarks/results/``), the flower study's results and the gear study's records; draws the figure of models;
fills ``reports/templates/report.typ`` (typst). No number is typed in the template, and the same inputs give the
same bytes (the PDF is dated by the newest record).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from helpers.core import paths
from helpers.core.errors import HelpersError
from helpers.models import weights_store
from helpers.reports import pdf
from helpers.reports.photo_pilot import light as _light, photo_pilot  # noqa: F401 (the report's page 1 on photos)

TEMPLATE = paths.REPO_ROOT / "reports" / "templates" / "report.typ"
REPORT_PDF = paths.REPO_ROOT / "report.pdf"
MAX_WORDS = 1500
#: Which notebook made a saved Fashion-MNIST model (by name prefix), for the model table.
NOTEBOOK_OF = {"fashion_dense": "02", "fashion_simple_cnn": "02", "fashion_tl_mobilenet_v2_deep": "05", "fashion_tl_": "03", "fashion_own_cnn": "04",
               "fashion_binary": "07"}


def notebook_of(name: str) -> str:
    return next((nb for prefix, nb in NOTEBOOK_OF.items() if name.startswith(prefix)), "05")


def _model_row(r: dict, speeds: dict | None = None) -> dict:
    """A saved model as the report shows it; ``seconds`` is its training on the team's 2-core CPU (measured, or
    estimated for a model trained on a lent GPU: ``estimated``); ``speed`` its images/s at batch 512 on the team's
    CPU (the inference benchmark, ``None`` when not measured)."""
    from helpers.studies.best_model import cpu_training_cost, trained_on

    seconds, how = cpu_training_cost(r)
    measured = ((speeds or {}).get("results") or {}).get(r["name"]) or {}
    return {"name": r["name"], "notebook": notebook_of(r["name"]), "params": int(r.get("params") or 0),
            "seconds": seconds, "estimated": how == "estimated", "trained_on": trained_on(r),
            "speed": measured.get("images_per_s_batch_512"),
            "val": r["metrics"].get("val", {}).get("accuracy"), "test": r["metrics"]["test"]["accuracy"]}


def report_data(records: dict | None = None, summary: dict | None = None, study: dict | None = None,
                throughput: dict | None = None, speeds: dict | None = None) -> dict:
    """Every value the report prints. ``records``: ``{name: record}`` (default: every saved model);
    ``summary``: notebook 06's summary of the deployed model (default: read from ``results/``); ``study``:
    notebook 05's summary (default: ``results/best_model/summary.json`` when it exists); ``throughput``: the offers
    pipeline's benchmark (default: ``benchmarks/results/offers_throughput.json`` when it exists); ``speeds``: the
    inference benchmark (default: ``benchmarks/results/inference_speed.json`` when it exists)."""
    from helpers.studies import error_analysis

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
    missing = [k for k in SUMMARY_KEYS if k not in summary]
    if missing:
        raise HelpersError(f"notebook 06's summary lacks {missing}: re-execute notebook 06")
    speeds = speeds if speeds is not None else _read_json(SPEED_JSON)
    rows = sorted((_model_row(r, speeds) for r in fashion), key=lambda r: (r["notebook"], r["test"]))
    per_class = [{"class": c, **{k.replace(" ", "_"): v for k, v in summary["per_class"][c].items()}}
                 for c in summary["classes"]]
    per_class.sort(key=lambda r: -r["F1"])
    out = {
        "deployed": _model_row(best, speeds),
        "train_size": best["training"].get("train_size"), "val_size": best["training"].get("val_size"),
        "test_size": best["metrics"]["test"]["n"], "models": rows,
        "speed_target": (speeds or {}).get("target_images_per_s_batch_512"),
        "per_class": per_class, "best_class": per_class[0], "worst_class": per_class[-1],
        "pairs": [{"pair": p["pair"], "errors": p["total errors"]} for p in summary["pairs"].values()],
        **_decisions(summary), "simulation": _simulation(summary), "real_photos": _real_photos(summary),
        "photos_figure": _photos_figure(best["name"]),
    }
    binary = records.get("fashion_binary_cnn")
    out["binary"] = {"test": binary["metrics"]["test"]["accuracy"]} if binary else None
    out["best_model"] = _best_model_study(study, best["name"])
    out["flowers"] = _flowers(records)
    out["gear"] = _gear(records)
    out["resnet_weights"] = False  # ResNet50's ImageNet weights cannot be downloaded offline (models.backbones)
    out["photo"] = photo_pilot(throughput if throughput is not None else _read_json(THROUGHPUT_JSON))
    return out


SPEED_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "inference_speed.json"
THROUGHPUT_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "offers_throughput.json"
#: notebook 06's summary entries the report reads
SUMMARY_KEYS = ("status", "test_offers", "min_images", "simulation", "rejection", "rejection_photos", "junk",
                "photo_paths", "tops", "pilot_offers", "pilot_margin", "choice_share", "worst_mix",
                "worst_wrong_per_1000", "target_precision", "min_coverage", "rejection_choice", "flower_photos")
#: notebook 06's names of the rejection-rule figures the report quotes
REAL_PHOTO_FIGURES = {
    "rejected": "non-fashion photos rejected (report part)",
    "flowers_rejected": "flower photos rejected (never seen)",
    "kept": "garment photos kept (report part)",
    "kept_right": "garment photos kept and labelled right (report part)",
    "test_kept": "Fashion-MNIST test images kept",
    "worst_test_kept": "worst Fashion-MNIST category kept",
}
GARMENT_PHOTOS = ("boots", "hardshell_jackets", "insulated_jackets")


def _read_json(path: Path):
    return json.loads(path.read_text()) if path.is_file() else None


def _decisions(summary: dict) -> dict:
    """The decision box and the traffic-light table: one row per offer (launched categories, tops, held ones)."""
    status, test, need = summary["status"], summary["test_offers"], summary["min_images"]
    tops = summary["tops"]
    launched = [c for c in summary["classes"] if status[c]["status"] == "launch"]
    held = [c for c in summary["classes"] if status[c]["status"] == "hold"]
    rows = []
    for offer in launched + (["tops"] if tops else []) + held:
        members = tops if offer == "tops" else [offer]
        thresholds = [status[c]["threshold"] for c in members if status[c]["threshold"] is not None]
        t = test.get(offer, {})
        rows.append({"offer": offer, "members": members, "status": "hold" if offer in held else "launch",
                     "light": "red" if offer in held else ("amber" if any(status[c]["light"] == "amber" for c in members)
                                                           or t.get("test precision", 1) < summary["target_precision"]
                                                           else "green"),
                     "threshold_low": min(thresholds) if thresholds else None,
                     "threshold_high": max(thresholds) if thresholds else None,
                     "precision": t.get("test precision"), "low": t.get("low"), "high": t.get("high"),
                     "coverage": t.get("test coverage"), "images": need.get(offer),
                     "reason": (f"{len(members)} upper-body garments the model confuses with each other: one offer"
                                if offer == "tops" else status[offer]["reason"])})
    within = [r["offer"] for r in rows if r["precision"] is not None and r["precision"] < summary["target_precision"]
              and r["status"] == "launch"]
    return {"launch": launched, "hold": held, "tops": tops, "offer_rows": rows, "within_noise": within,
            "target_precision": summary["target_precision"], "min_coverage": summary["min_coverage"],
            "pilot_offers": summary["pilot_offers"], "pilot_margin": summary["pilot_margin"]}


def _simulation(summary: dict) -> dict:
    rows = sorted(summary["simulation"].values(), key=lambda r: (r["share"], r["mix"]))
    base = [r for r in rows if r["share"] == summary["choice_share"]]
    from helpers.studies import user_simulation

    return {"rows": rows, "share": summary["choice_share"], "worst_mix": summary["worst_mix"],
            "images_low": min(user_simulation.IMAGES_PER_USER), "images_high": max(user_simulation.IMAGES_PER_USER),
            "wrong_limit": user_simulation.WRONG_LIMIT,
            "not_favourite": summary["worst_wrong_per_1000"],
            "model_errors": max(r["model errors per 1,000 offers"] for r in base),
            "offers_low": min(r["offers per 1,000 users"] for r in base),
            "offers_high": max(r["offers per 1,000 users"] for r in base)}


def _real_photos(summary: dict) -> dict:
    rej = summary["rejection"]
    missing = [v for v in REAL_PHOTO_FIGURES.values() if v not in rej]
    if missing:
        raise HelpersError(f"notebook 06's summary lacks {missing}: re-execute notebook 06")
    photos = summary["rejection_photos"]
    garments = [{"class": c.replace("_", " "), "photos": int(photos[c]["images"]), "kept": photos[c]["kept"],
                 "low": photos[c]["kept low"], "high": photos[c]["kept high"],
                 "right": summary["photo_paths"].get(f"{c} (report)")} for c in GARMENT_PHOTOS if c in photos]
    other = [c for c in photos if c not in GARMENT_PHOTOS]
    return {**{k: rej[v] for k, v in REAL_PHOTO_FIGURES.items()}, "garments": garments,
            "non_fashion_photos": int(sum(photos[c]["images"] for c in other)), "non_fashion_classes": len(other),
            "junk": summary["junk"], "junk_total": int(sum(summary["junk"].values())),
            "rule": summary["rejection_choice"], "flower_photos": summary["flower_photos"]}


PHOTOS_DIR = paths.REPO_ROOT / "results" / "error_analysis"


def _photos_figure(model: str) -> str | None:
    """Notebook 06's picture of thumbnails beside real photos, when it has been exported."""
    path = PHOTOS_DIR / f"photos_{model}.png"
    return path.name if path.is_file() else None


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

    from helpers.studies.best_model import config

    gains = [v["gain (points)"] for v in tta.values()]
    two = study.get("round_two") or {}
    students = {k: v for k, v in (two.get("students") or {}).items() if v.get("teacher") == "yes"}
    round_one_val = choice.get("deployed_val_accuracy")
    student = max(students, key=lambda k: students[k]["val accuracy"], default=None) if round_one_val else None
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
            "target": config.TEST_TARGET, "round_two_target": config.ROUND_TWO_TARGET,
            "teacher_test": (two.get("teacher") or {}).get("test_accuracy"),
            "teacher_val": (two.get("teacher") or {}).get("val_accuracy"),
            # round two's best student on validation, against the model it would replace, and whether it did
            "student": student,
            "student_gain": round((students[student]["val accuracy"] - round_one_val) * 100, 2) if student else None,
            "student_deployed": deployed == student,
            # the refit question: what a fifth more training images is predicted to add (learning curve, validation),
            # and what halving them cost
            **_more_data(two),
            # the deployed model's calibration (none while it is a model refitted on the validation images)
            **({"ece_before": study["ece_test"]["before"], "ece_after": study["ece_test"]["after"]}
               if study.get("calibrated", deployed) == deployed else {"ece_before": None, "ece_after": None})}


def _more_data(two: dict) -> dict:
    """From round two's learning curve: the predicted gain of the refit's extra images (points of validation
    accuracy), how many more images that is (%), whether the rule refits, and what half the images cost (points)."""
    refit, curve = two.get("refit"), two.get("learning_curve") or {}
    if not refit:
        return {"refit_gain": None, "refit_more": None, "refit": None, "half_cost": None}
    full, half = curve.get(str(refit["full_size"])), curve.get(str(refit["full_size"] // 2))
    return {"refit_gain": round(refit["predicted_gain_points"], 2),
            "refit_more": round((refit["refit_size"] / refit["full_size"] - 1) * 100), "refit": refit["refit"],
            "half_cost": round((full["val_accuracy"] - half["val_accuracy"]) * 100, 2) if full and half else None}


def _flowers(records: dict) -> dict | None:
    """The flower study: the brief's own model and the study's best, each with its 95 % interval on test, and
    whether the step beyond the brief was taken after a test score (its history)."""
    from helpers.studies import flowers
    from helpers.studies.flowers.evidence import accuracy_interval

    brief = records.get(flowers.RECOMMENDED)
    if brief is None:
        return None
    saved = [records[n] for n in flowers.SAVED_MODELS if n in records]
    best = records[flowers.deployed_choice({r["name"]: r for r in saved})]
    return {"brief": accuracy_interval(brief["metrics"]["test"]), "best": accuracy_interval(best["metrics"]["test"]),
            "best_is_brief": best["name"] == brief["name"], "target": flowers.TARGET,
            "after_test": best["name"] not in flowers.SCORED_BEFORE_DEPTH_STUDY}


def _gear(records: dict) -> dict | None:
    """The gear study's own CNN and transfer model as notebook 09 chose them (``results/gear/choice.json``; before
    it has run, the best validation accuracy of each kind)."""
    from helpers.studies.flowers.evidence import accuracy_interval
    from helpers.studies.gear import comparison

    choice = comparison.load_choice()

    def pick(role: str, architecture_is_transfer: bool):
        if choice.get(role) in records:
            return records[choice[role]]
        found = [r for r in records.values() if r["task"] == "gear"
                 and (r["architecture"] == "transfer") == architecture_is_transfer]
        return max(found, key=lambda r: (r["metrics"]["val"]["accuracy"], r["name"])) if found else None

    cnn, tl = pick("own_cnn", False), pick("transfer", True)
    if cnn is None or tl is None:
        return None
    return {"cnn_test": cnn["metrics"]["test"]["accuracy"], "tl_test": tl["metrics"]["test"]["accuracy"],
            "cnn": accuracy_interval(cnn["metrics"]["test"]), "tl": accuracy_interval(tl["metrics"]["test"])}


def draw_figures(data: dict, folder: Path) -> list[Path]:
    """The report's figures as PNG files in ``folder`` (fixed metadata: same data, same bytes), and notebook 06's
    picture of real photos when it exists."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.reports.plots import save_png

    measured = [r for r in data["models"] if r["speed"] and r["val"] is not None]
    fig, ax = plt.subplots(figsize=(6.5, 2.9))
    notebooks = sorted({r["notebook"] for r in measured})
    colours = dict(zip(notebooks, plt.cm.tab10.colors))
    for nb in notebooks:
        rs = [r for r in measured if r["notebook"] == nb and r["name"] != data["deployed"]["name"]]
        ax.scatter([r["speed"] for r in rs], [r["test"] for r in rs], s=16, color=colours[nb], label=f"notebook {nb}")
    d = data["deployed"]
    if d["speed"]:
        ax.scatter([d["speed"]], [d["test"]], s=140, marker="*", color="crimson", zorder=3, label="deployed model")
        ax.annotate(f"deployed: {d['test']:.1%}\nat {d['speed']:,.0f} images/s", (d["speed"], d["test"]), fontsize=7,
                    xytext=(-6, -8), textcoords="offset points", ha="right", va="top", color="crimson")  # below-left: clear
    if data["speed_target"]:
        ax.axvline(data["speed_target"], ls="--", c="grey", lw=0.8)
        ax.text(data["speed_target"], ax.get_ylim()[1], f" speed bar: {data['speed_target']:,.0f} images/s",
                fontsize=6.5, color="grey", va="top")
    ax.set_xscale("log"); ax.set_xlabel("images per second on 2 CPU cores (batch 512, log scale)")
    ax.set_ylabel("test accuracy"); ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)   # beside the plot, over no point
    fig.tight_layout()
    out = [save_png(fig, Path(folder) / "models.png")]
    if data["photos_figure"]:
        out.append(PHOTOS_DIR / data["photos_figure"])
    return out


#: The tasks whose models the report quotes: its date is the newest of their records (a model it does not quote,
#: such as notebook 11's photo model until the pilot on photos is reported, does not move it).
REPORTED_TASKS = ("clothing", "fashion", "fashion_binary", "flowers", "gear")


def build(out: Path = REPORT_PDF, records: dict | None = None, summary: dict | None = None,
          study: dict | None = None, throughput: dict | None = None, speeds: dict | None = None) -> Path:
    """Build the report into ``out``; returns it. Raises :class:`HelpersError` when an input is missing or the
    body text is over :data:`MAX_WORDS` words."""
    records = records if records is not None else {n: weights_store.load_record(n) for n in weights_store.list_names()}
    data = report_data(records, summary, study, throughput, speeds)
    with tempfile.TemporaryDirectory() as tmp:
        figures = draw_figures(data, Path(tmp))
        date = pdf.newest_date(r for r in records.values() if r["task"] in REPORTED_TASKS)
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
