"""The pilot's evidence, measured by the offers pipeline itself (rejection rule and thresholds included), and its plan.

- :func:`test_offers`: the photo model's **test** photos scored by the pipeline: per offer, the share of counted
  photos that are right (precision) and the share of the offer's photos that count (coverage), with 95 % intervals.
  It reads the test split of the final model once more, to report it; nothing is chosen on it.
- :func:`junk_by_label`: where photos that are not clothing land: the flower photos (never used to fit or choose
  the thumbnail model's rule; looked at while the photo model's rule was designed, notebook 11) scored by a task's
  pipeline, per label: kept by the rejection rule, and counted toward an offer.
- :func:`pilot_plan`: how many offers the pilot must check by hand for its go/no-go verdict, how long that takes
  and what the checking costs, from stated assumptions (:data:`ASSUMPTIONS`).

Results go to ``results/offers/`` (:func:`results_path`), which the report reads.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import paths
from helpers.evaluation.metrics import share_interval

#: Stated assumptions of the pilot plan (not measured: the pilot replaces them with what it sees).
ASSUMPTIONS = {
    "pilot_uploading_users_per_day": 500,   # users who upload at least one photo on a pilot day
    "minutes_to_check_an_offer": 1.0,       # a staff member looks at a user's photos and the offer made
    "staff_cost_per_hour": 30.0,            # in CURRENCY, loaded cost of the checking staff
    "minimum_days": 14,                     # two weeks, so that a weekday/weekend pattern shows
}
CURRENCY = "USD"
#: Go/no-go: the largest share of wrong offers the full launch accepts (1 - the rules' 95 % precision target).
WRONG_LIMIT = 0.05


def results_path(kind: str, task: str) -> Path:
    return paths.REPO_ROOT / "results" / "offers" / f"{kind}_{task}.json"


def score_files(files, work, task: str) -> pd.DataFrame:
    """The pipeline's prediction rows for image ``files`` (one upload each, user ``f<index>``), in order."""
    from helpers.serving import batch

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    table = work / "uploads.csv"
    pd.DataFrame({"user_id": [f"f{i:05d}" for i in range(len(files))], "image": [str(f) for f in files]}).to_csv(
        table, index=False, lineterminator="\n")
    batch.run(table, work / "out", task=task, progress=False, restart=True)
    return pd.read_parquet(work / "out" / "predictions.parquet")


def test_offers(work, task: str = "clothing") -> dict:
    """Per offer, on the task's test photos as the pipeline scores them: precision and coverage with intervals
    (see the module docstring); saved to ``results/offers/test_offers_<task>.json``."""
    from helpers.core.results import write_json_if_changed
    from helpers.inputs import clothing_photos
    from helpers.serving.rules import load_rules, version_label

    if task != "clothing":
        raise ValueError("the per-offer test figures are measured for the photo task (notebook 06 has the thumbnails')")
    manifest = pd.read_csv(clothing_photos.ensure_manifest())
    test = manifest[manifest["split"] == "test"].reset_index(drop=True)
    root = clothing_photos.dataset_dir()
    p = score_files([root / f for f in test["file"]], work, task)
    rules = load_rules(p["model"].iloc[0])
    offer_of = rules["offers"]
    truth = np.array([offer_of.get(c) for c in test["class"]], dtype=object)
    predicted = np.array([offer_of.get(c) if isinstance(c, str) else None for c in p["label"].astype(object)],
                         dtype=object)
    counts = p["counts"].to_numpy(bool)
    out = {"task": task, "model": p["model"].iloc[0], "rules_version": version_label(rules), "photos": len(test),
           "kept": share_interval(int((p["in_domain"] == True).sum()), len(test)), "offers": {}}  # noqa: E712
    for offer in sorted({o for o in offer_of.values() if o}):
        made = counts & (predicted == offer)
        own = truth == offer
        out["offers"][offer] = {"categories": [c for c, o in offer_of.items() if o == offer],
                                "precision": share_interval(int((made & own).sum()), int(made.sum())),
                                "coverage": share_interval(int((made & own).sum()), int(own.sum()))}
    held = [c for c, o in offer_of.items() if not o]
    out["held"] = {c: {"photos": int((test["class"] == c).sum()),
                       "counted_as_an_offer": int((counts & (test["class"] == c).to_numpy()).sum())} for c in held}
    write_json_if_changed(results_path("test_offers", task), out, indent=1)
    return out


def junk_by_label(work, task: str) -> dict:
    """The flower photos scored by ``task``'s pipeline: per label, how many the rejection rule keeps and how many
    count toward an offer; saved to ``results/offers/flowers_<task>.json``."""
    from helpers.core.results import write_json_if_changed
    from helpers.inputs import flower_photos
    from helpers.studies.deployment.demo import image_files

    files = image_files(flower_photos.dataset_dir(), flower_photos.CLASS_NAMES)
    p = score_files(files, work, task)
    kept = p[p["in_domain"] == True]  # noqa: E712
    out = {"task": task, "model": p["model"].iloc[0], "rules_version": p["rules_version"].iloc[0],
           "photos": len(p), "rejected": share_interval(len(p) - len(kept), len(p)), "counted": int(p["counts"].sum()),
           "kept_by_label": {k: int(v) for k, v in kept["label"].value_counts().sort_index().items()},
           "counted_by_label": {k: int(v) for k, v in p.loc[p["counts"], "label"].value_counts().sort_index().items()}}
    write_json_if_changed(results_path("flowers", task), out, indent=1)
    return out


def junk_table(found: dict) -> pd.DataFrame:
    """Per model and label (labels that kept any flower photo): the flower photos kept, and counted."""
    rows = [{"model": f"{task} ({r['model']})", "label": label, "kept": n,
             "counted": r["counted_by_label"].get(label, 0)}
            for task, r in found.items() for label, n in r["kept_by_label"].items()]
    return pd.DataFrame(rows, columns=["model", "label", "kept", "counted"]).set_index(["model", "label"])


def offers_to_check(expected_wrong: float, limit: float = WRONG_LIMIT, level: float = 0.95) -> int | None:
    """The fewest checked offers for which, if the wrong-offer rate seen is ``expected_wrong``, the upper end of its
    95 % interval is under ``limit`` (so the pilot can say "go"); ``None`` when the expected rate is not under it."""
    from helpers.evaluation.metrics import proportion_interval

    if expected_wrong >= limit:
        return None
    n = 10
    while proportion_interval(round(expected_wrong * n), n, level)[1] >= limit:
        n += 1
    return n


def pilot_plan(expected_wrong: float, offers_per_user: float, assumptions: dict | None = None,
               limit: float = WRONG_LIMIT) -> dict:
    """Offers to check, pilot days and staff cost for a go/no-go at ``limit``; ``offers_per_user``: offers made per
    uploading user (from the simulated day)."""
    a = {**ASSUMPTIONS, **(assumptions or {})}
    n = offers_to_check(expected_wrong, limit)
    if n is None:
        return {"offers": None, "days": None, "staff_hours": None, "staff_cost": None, "limit": limit,
                "expected_wrong": expected_wrong, "assumptions": a}
    per_day = a["pilot_uploading_users_per_day"] * offers_per_user
    hours = n * a["minutes_to_check_an_offer"] / 60
    return {"offers": n, "days": max(a["minimum_days"], math.ceil(n / per_day)), "offers_per_day": round(per_day, 1),
            "staff_hours": round(hours, 1), "staff_cost": round(hours * a["staff_cost_per_hour"], 2),
            "limit": limit, "expected_wrong": expected_wrong, "assumptions": a, "currency": CURRENCY}


def test_offers_table(found: dict) -> pd.DataFrame:
    """:func:`test_offers`'s figures as a table: one row per offer, precision and coverage with their intervals."""
    def fmt(s):
        return f"{s['share']:.1%} [{s['low']:.1%}–{s['high']:.1%}]" if s["of"] else "—"

    return pd.DataFrame({o: {"categories": ", ".join(r["categories"]), "precision": fmt(r["precision"]),
                             "coverage": fmt(r["coverage"]), "photos of the offer": r["coverage"]["of"]}
                         for o, r in found["offers"].items()}).T.rename_axis("offer")
