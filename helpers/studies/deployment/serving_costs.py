"""What serving costs: cores for a day of uploads, from a measured throughput (notebook 10, the benchmark).

The arithmetic is on paper and says its assumptions: uploads are scored in a nightly batch window, the measured
end-to-end throughput per core holds on each added core (Ray scales by adding workers; the 1 → 2 worker measurement
on this machine checks it), a margin covers retries and uneven load, and a core-hour costs :data:`CORE_HOUR_PRICE`.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from helpers.core import paths
from helpers.core.errors import HelpersError

#: The offers pipeline's benchmark (``benchmarks/offers_throughput.py``).
THROUGHPUT_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "offers_throughput.json"
SECONDS_PER_HOUR = 3600
#: The nightly batch window and the head-room kept on top of the measured rate.
WINDOW_HOURS = (24, 4)
MARGIN = 1.5
#: An assumption, said wherever a cost is printed: the on-demand price of one cloud CPU core for one hour
#: (general-purpose instances of the large clouds list 0.03-0.05 US dollars per vCPU-hour).
CORE_HOUR_PRICE = 0.04
CURRENCY = "USD"


def cores_needed(uploads_per_day: float, images_per_second_per_core: float, window_hours: float = 24,
                 margin: float = MARGIN) -> int:
    """Cores that score ``uploads_per_day`` within ``window_hours`` at the measured rate, with ``margin``."""
    if images_per_second_per_core <= 0:
        raise ValueError("the throughput must be positive")
    rate_needed = uploads_per_day / (window_hours * SECONDS_PER_HOUR)
    return max(1, math.ceil(margin * rate_needed / images_per_second_per_core))


def cores_table(images_per_second_per_core: float, volumes=(1e6, 1e8), windows=WINDOW_HOURS,
                margin: float = MARGIN) -> pd.DataFrame:
    """Cores needed per daily volume (rows) and batch window (columns)."""
    rows = {f"{v / 1e6:,.0f} million uploads/day": {f"within {w} h": cores_needed(v, images_per_second_per_core, w, margin)
                                                    for w in windows} for v in volumes}
    return pd.DataFrame(rows).T


def scaling_efficiency(rate_one: float, rate_two: float) -> float:
    """Speed-up of two workers over one, divided by two (1.0: perfect scaling)."""
    return rate_two / rate_one / 2


def check_benchmark(bench: dict, task: str, model: str, weights_sha256: str) -> dict:
    """The pipeline benchmark's entry for ``task`` (with the ``machine`` it ran on) when it measured ``model`` with
    these weights; otherwise a clear error: a serving cost must be measured on the deployed model, not on one it
    replaced."""
    entry = (bench.get("tasks") or {}).get(task) or {}
    if entry.get("model") != model or entry.get("weights_sha256") != weights_sha256:
        raise HelpersError(f"{paths.display_path(THROUGHPUT_JSON)} measured {entry.get('model')!r} for {task!r}, but "
                           f"the deployed model is {model!r} (or its weights changed since): measure it again "
                           f"(.venv/bin/python benchmarks/offers_throughput.py --tasks {task})")
    return {**entry, "machine": bench["machine"]}


def read_benchmark(task: str, model: str, weights_sha256: str, path=None) -> dict | None:
    """The pipeline's benchmark of ``task``'s deployed ``model`` (:func:`check_benchmark`), or ``None`` before it
    ran."""
    path = path or THROUGHPUT_JSON
    if not path.is_file():
        return None
    return check_benchmark(json.loads(path.read_text()), task, model, weights_sha256)


def day_cost(uploads_per_day: float, images_per_second_per_core: float, margin: float = MARGIN,
             price_per_core_hour: float = CORE_HOUR_PRICE) -> dict:
    """Core-hours and money for one day of uploads at the measured rate per core, with ``margin``."""
    core_hours = margin * uploads_per_day / images_per_second_per_core / SECONDS_PER_HOUR
    return {"uploads": uploads_per_day, "core_hours": core_hours, "cost": core_hours * price_per_core_hour}


def cost_rows(images_per_second_per_core: float, volumes=(1e6, 1e8), margin: float = MARGIN) -> list[dict]:
    """Per daily volume: :func:`day_cost` and the cores for each batch window (``h24``, ``h4``)."""
    return [{**day_cost(v, images_per_second_per_core, margin),
             **{f"h{w}": cores_needed(v, images_per_second_per_core, w, margin) for w in WINDOW_HOURS}}
            for v in volumes]


def cost_table(images_per_second_per_core: float, volumes=(1e6, 1e8), margin: float = MARGIN) -> pd.DataFrame:
    """:func:`cost_rows` as a table: cores for a 24-hour and a 4-hour window, core-hours and cost of the day."""
    rows = {f"{r['uploads'] / 1e6:,.0f} million uploads/day": {
        **{f"within {w} h": r[f"h{w}"] for w in WINDOW_HOURS}, "core-hours per day": round(r["core_hours"], 1),
        f"cost per day ({CURRENCY})": round(r["cost"], 2)} for r in cost_rows(images_per_second_per_core, volumes, margin)}
    return pd.DataFrame.from_dict(rows, orient="index")


def speed_table(benches: dict) -> pd.DataFrame:
    """Images per second of each task's benchmark (columns): the model alone as the pipeline runs it, the local
    engine on the task's day, Ray with 1 and 2 workers."""
    rows = {"model alone": "model_only_images_per_second", "pipeline, local": "local",
            "pipeline, Ray, 1 worker": "ray_1_worker", "pipeline, Ray, 2 workers": "ray_2_workers"}
    out = {}
    for task, b in benches.items():
        col = f"{task} ({b['model']}, {b['runtime']})"
        out[col] = {k: (b[v] if isinstance(b[v], (int, float)) else b[v]["images_per_second"]) for k, v in rows.items()}
    return pd.DataFrame(out)


def per_core(bench: dict) -> float:
    """Uploads per second per core: the local engine on the task's day, over the machine's cores."""
    return bench["local"]["images_per_second"] / bench["machine"]["cpus"]
