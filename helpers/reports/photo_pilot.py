"""Page 1 of ``report.pdf`` on users' photos: what the photo model, its rules and the offers pipeline measured.

Read from the photo model's record (``weights/``) and the results of notebooks 06, 10 and 11 (``results/offers/``,
``results/clothing/``) and the pipeline's benchmark; results made with another model or rule version are refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core import paths
from helpers.core.errors import HelpersError
from helpers.models import weights_store

PHOTO_TASK = "clothing"
CLOTHING_RESULTS = paths.REPO_ROOT / "results" / "clothing"


def _required(path: Path, notebook: str) -> dict:
    if not path.is_file():
        raise HelpersError(f"{paths.display_path(path)} is missing: execute notebook {notebook} "
                           f"(python -m helpers.run_notebooks {notebook})")
    return json.loads(path.read_text())


def light(precision: dict, coverage: dict, target: float, min_coverage: float) -> str:
    """Green: both 95 % intervals clear their bar; amber: the figures meet their bar but an interval reaches below
    it (within noise); red: a figure misses its bar."""
    if precision["of"] == 0 or precision["share"] < target or coverage["share"] < min_coverage:
        return "red"
    return "green" if precision["low"] >= target and coverage["low"] >= min_coverage else "amber"


def photo_pilot(bench: dict | None) -> dict:
    """Everything page 1 says about photos, from the photo model's record and the results of notebooks 06, 10 and 11
    and the pipeline's benchmark: accuracy, the per-offer table (test photos through the pipeline), the simulated
    days, junk, the pilot plan and the running cost. Refuses results of another model or rule version."""
    import pandas as pd

    from helpers.evaluation import out_of_domain
    from helpers.evaluation.metrics import share_interval
    from helpers.inputs import clothing_photos
    from helpers.serving import rules as offer_rules
    from helpers.serving.classify import best_model_name
    from helpers.studies import launch
    from helpers.studies.clothing import config as clothing_config
    from helpers.studies.deployment import days, demo, pilot
    from helpers.studies.deployment import serving_costs as costs

    name = best_model_name(PHOTO_TASK)
    record = weights_store.load_record(name)
    rules = offer_rules.load_rules(name)
    version = offer_rules.version_label(rules)
    sims = _required(days.results_path(PHOTO_TASK), "10_deployment")
    test = _required(pilot.results_path("test_offers", PHOTO_TASK), "10_deployment")
    flowers = {t: _required(pilot.results_path("flowers", t), "06_error_analysis") for t in ("fashion", "clothing")}
    for what, r in (("simulated days", sims), ("test offers", test), ("flowers", flowers[PHOTO_TASK])):
        if r["model"] != name or r["rules_version"] != version:
            raise HelpersError(f"the {what} results were made with {r['model']} {r['rules_version']}, not {name} "
                               f"{version}: re-execute notebooks 10 and 06")
    rejection = _required(CLOTHING_RESULTS / "rejection.json", "11_real_photos")
    thumb = _required(CLOTHING_RESULTS / "thumbnail_model.json", "11_real_photos")
    t = record["metrics"]["test"]
    accuracy = share_interval(round(t["accuracy"] * t["n"]), t["n"], digits=6)  # printed to 0.1 %: no double rounding
    target, min_cov = launch.TARGET, launch.MIN_COVERAGE
    rows = [{"offer": o, "categories": r["categories"], "precision": r["precision"], "coverage": r["coverage"],
             "images": rules["min_images"].get(o), "light": light(r["precision"], r["coverage"], target, min_cov)}
            for o, r in test["offers"].items()]
    held = [{"offer": c, "photos": h["photos"]} for c, h in test["held"].items()]
    shares = [{"share": float(k), **v} for k, v in sorted(sims["days"].items())]
    head = next(d for d in shares if abs(d["share"] - demo.FAVOURITE_SHARE) < 1e-9)  # the demo's own day
    plan = pilot.pilot_plan(head["wrong_per_1000"]["high"] / 1000, head["offers_made"] / head["users"])
    serving = None
    if bench:
        b = costs.check_benchmark(bench, PHOTO_TASK, name, record["sha256"])
        rate = costs.per_core(b)
        serving = {"photos_per_second": b["local"]["images_per_second"], "model_alone": b["model_only_images_per_second"],
                   "per_core": rate, "cpus": b["machine"]["cpus"], "margin": costs.MARGIN,
                   "price": costs.CORE_HOUR_PRICE, "currency": costs.CURRENCY, "windows": list(costs.WINDOW_HOURS),
                   "days": costs.cost_rows(rate)}
    counted = flowers[PHOTO_TASK]["counted_by_label"]
    top = max(counted, key=counted.get) if counted else None
    earlier = record.get("notes", {}).get("earlier_final_models", [])
    splits = pd.read_csv(clothing_photos.ensure_manifest())["split"].value_counts()
    return {"model": name, "val": record["metrics"]["val"]["accuracy"], "accuracy": accuracy,
            "earlier_tests": [e["test_accuracy"] for e in earlier],
            "thumbnail": {"model": thumb["model"], "photos": thumb["photos"], "kept": thumb["kept"],
                          "top_label": max(thumb["labels"], key=thumb["labels"].get),
                          "top_share": max(thumb["labels"].values())},
            "rows": rows, "held": held, "target": target, "min_coverage": min_cov, "test_photos": test["photos"],
            "test_kept": test["kept"], "shares": shares, "head": head, "pilot": plan, "serving": serving,
            "flowers": flowers, "flowers_rejected": rejection["flowers_rejected"],
            # the label most flowers that get through count as, and the offer that label feeds
            "flowers_counted_top": top, "flowers_counted_offer": rules["offers"].get(top) if top else None,
            "gear_junk_rejected": rejection["gear_junk_rejected"],
            "garments": [{"class": c.replace("_", " "), **g} for c, g in rejection["gear_garments"].items()],
            "rules_version": version, "splits": {k: int(v) for k, v in splits.items()},
            "classes": len(clothing_photos.CLASS_NAMES), "goal": clothing_config.GOAL,
            "frame_keep_first": out_of_domain.FRAME_KEEP_FIRST, "frame_keep": out_of_domain.FRAME_KEEP}
