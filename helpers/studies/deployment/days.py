"""Simulated days scored by the offers pipeline, at several favourite shares (notebook 10), and their results file.

A day (:mod:`helpers.studies.deployment.demo`) is scored like the site's uploads (:func:`helpers.serving.batch.run`)
and set beside its truth (:mod:`helpers.studies.deployment.outcomes`). The favourite share -- how many of a user's
fashion uploads show their favourite category -- is unknown before the pilot, so the day is simulated at
:data:`FAVOURITE_SHARES`; what each says goes to ``results/offers/simulated_days_<task>.json``, which the report
reads (:mod:`helpers.reports.management_report`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.core import paths

#: Favourite shares simulated; the demo's own (0.7) is the headline day.
FAVOURITE_SHARES = (0.5, 0.7, 0.9)


def results_path(task: str) -> Path:
    return paths.REPO_ROOT / "results" / "offers" / f"simulated_days_{task}.json"


def score_day(work, task: str, favourite_share: float, seed: int = 0, engine: str = "local",
              users: int | None = None) -> dict:
    """Build the day of ``task`` at ``favourite_share`` under ``work`` and score it with ``engine``; returns
    ``{"day", "record", "out", "predictions", "offers", "truth", "table"}``."""
    from helpers.serving import batch
    from helpers.serving.rules import load_rules
    from helpers.studies.deployment import demo, outcomes

    work = Path(work)
    day = demo.build(work / f"day_{favourite_share:.2f}", users=users, seed=seed, favourite_share=favourite_share,
                     task=task)
    out = work / f"{engine}_{favourite_share:.2f}"
    record = batch.run(day["uploads"], out, engine=engine, progress=False, task=task, restart=True)
    predictions = pd.read_parquet(out / "predictions.parquet")
    offers = pd.read_csv(out / "offers.csv", dtype={"user_id": str})
    truth = pd.read_csv(day["truth"], dtype=str)
    table = outcomes.offer_table(offers, truth, load_rules(record["model"]))
    return {"day": day, "record": record, "predictions": predictions, "offers": offers, "truth": truth,
            "table": table, "out": out}


def shares_table(summaries: dict) -> pd.DataFrame:
    """One row per favourite share: offers made, precision and wrong offers per 1,000 with their intervals, and
    the share of users who got the offer they deserve."""
    rows = {}
    for share, s in sorted(summaries.items()):
        a, w = s["offers"]["all offers"], s["wrong_per_1000"]
        rows[f"{share:.0%}"] = {"users": s["users"], "offers made": s["offers_made"],
                                "precision": f"{a['precision']:.1%} [{a['precision_low']:.1%}–{a['precision_high']:.1%}]",
                                "wrong per 1,000 offers": f"{w['share']:.0f} [{w['low']:.0f}–{w['high']:.0f}]",
                                "coverage": f"{a['coverage']:.1%} [{a['coverage_low']:.1%}–{a['coverage_high']:.1%}]"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("favourite share")


def save(task: str, record: dict, summaries: dict) -> Path:
    """Write the days' results file (rewritten only when a value changes at its precision)."""
    from helpers.core.results import write_json_if_changed

    path = results_path(task)
    write_json_if_changed(path, {"task": task, "model": record["model"], "model_sha256": record["model_sha256"],
                                 "rules_version": record["rules_version"], "runtime": record["runtime"],
                                 "days": {f"{k:.2f}": v for k, v in sorted(summaries.items())}}, indent=1)
    return path
