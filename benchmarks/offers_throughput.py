"""End-to-end throughput of the offers pipeline, both tasks and both engines, beside the model alone, on this machine.

    .venv/bin/python benchmarks/offers_throughput.py [--tasks clothing fashion] [--users 300] [--repeats 2]

For each task, its simulated day (``python -m helpers.offers demo --task TASK``, ``--users`` users, about ten
uploads each; the thumbnail day is repeated ``--copies`` times into one table, the same files in new rows, because
thumbnails score in seconds) is scored

- by the **local** engine (one process: decoding in a thread pool), best of ``--repeats``;
- by the **ray** engine with **1** and **2** workers on a local Ray (one table chunk, so the workers' start-up -- a
  Python process each with TensorFlow and the model -- is counted once per run), best of ``--repeats``;

and the task's deployed model alone is timed on the day's prepared images, as the pipeline runs it (``clothing``:
TensorFlow Lite, one photo per call; ``fashion``: Keras in batches of 512; the rejection score included), without
decoding, the per-user rules or writing.
The photo day's images are decoded at their full size (the photos are 320-400 px; the pipeline frames them to 224).
Images per second are rows scored over the scoring time (reading images, predicting, writing the parts); the
wall time adds the start-up and the final merge and offers. Results go to
``benchmarks/results/offers_throughput.json`` (one entry per task, each with the model and weights it measured,
so a serving cost is never computed from a model the task no longer deploys). Goal (thumbnails): the local
pipeline reaches at least half the model-only throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "offers_throughput.json"
GOAL_SHARE_OF_MODEL_ONLY = 0.5
TASKS = ("clothing", "fashion")
#: Copies of each task's day in the scored table (thumbnails are cheap: more rows for a stable figure).
COPIES = {"clothing": 1, "fashion": 4}


def _best(runs: list[dict]) -> dict:
    best = max(runs, key=lambda r: r["images_per_second"])
    return {"images_per_second": best["images_per_second"], "wall_seconds": best["wall_seconds"],
            "scoring_seconds": best["scoring_seconds"], "workers": best["workers"],
            "all_runs_images_per_second": [r["images_per_second"] for r in runs]}


#: Prepared images timed for the model alone: TensorFlow Lite runs one photo per call (a few seconds for 256).
MODEL_ALONE_IMAGES = {"keras": 1024, "tflite": 256}


def model_alone(task: str, files: list[Path]) -> float:
    """The deployed model of ``task`` on the prepared images of ``files`` (images/s, best of 3), run as the
    pipeline's :class:`~helpers.serving.scoring.Scorer` runs it: the network and the rejection score, without
    decoding, the per-user rules or writing."""
    import numpy as np

    from helpers.inputs.images import open_rgb
    from helpers.serving.scoring import Scorer

    scorer = Scorer(task=task, threads=1)
    n = MODEL_ALONE_IMAGES[scorer.runtime]
    x = np.stack([scorer.task.prepare(open_rgb(f), scorer.record.get("input_shape")) for f in files]).astype(np.float32)
    x = np.concatenate([x] * max(1, -(-n // len(x))))[:n]
    scorer.predict_arrays(x[:8])  # warm-up
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        scorer.predict_arrays(x)
        best = max(best, len(x) / (time.perf_counter() - t))
    return round(best, 1)


def measure(task: str, users: int, repeats: int, work: Path) -> dict:
    import pandas as pd
    import ray

    from helpers.serving import batch
    from helpers.studies.deployment import demo

    day = work / f"day_{task}"
    made = demo.build(day, users=users, seed=0, task=task)
    table = pd.read_csv(made["uploads"], dtype=str, keep_default_na=False)
    copies = COPIES[task]
    big = pd.concat([table] * copies, ignore_index=True)
    uploads = day / f"uploads_x{copies}.csv"
    big.to_csv(uploads, index=False, lineterminator="\n")
    rows = len(big)

    def score(engine, workers=None, table=uploads):
        out = work / f"out_{task}_{engine}_{workers or 1}"
        shutil.rmtree(out, ignore_errors=True)
        return batch.run(table, out, engine=engine, workers=workers, chunk_rows=rows, progress=False, task=task)

    local = _best([score("local") for _ in range(repeats)])
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray_runs = {w: _best([score("ray", w) for _ in range(repeats)]) for w in (1, 2)}
    ray.shutdown()
    main_source = "clothing photo" if task == "clothing" else "Fashion-MNIST test image"
    files = [day / i for i in table.loc[table["source"] == main_source, "image"]]
    alone = model_alone(task, files)
    record = json.loads((work / f"out_{task}_local_1" / "run.json").read_text())
    result = {
        "model": record["model"], "weights_sha256": record["model_sha256"], "runtime": record["runtime"],
        "rules_version": record["rules_version"],
        "table": {"users": users, "copies": copies, "rows": rows,
                  "sources": {k: int(v) for k, v in big["source"].value_counts().sort_index().items()}},
        "model_only_images_per_second": alone, "local": local, "ray_1_worker": ray_runs[1],
        "ray_2_workers": ray_runs[2],
        "ray_scaling_1_to_2": round(ray_runs[2]["images_per_second"] / ray_runs[1]["images_per_second"], 3),
        "local_share_of_model_only": round(local["images_per_second"] / alone, 3),
    }
    if task == "fashion":  # the goal's figure: thumbnails alone
        thumbs = day / f"thumbnails_x{copies}.csv"
        pd.concat([table[table["source"] == main_source]] * copies, ignore_index=True).to_csv(
            thumbs, index=False, lineterminator="\n")
        only = _best([score("local", table=thumbs) for _ in range(repeats)])
        result["local_thumbnails_only"] = {**only, "rows": int((table["source"] == main_source).sum()) * copies}
        result["thumbnails_share_of_model_only"] = round(only["images_per_second"] / alone, 3)
        result["goal_share_of_model_only"] = GOAL_SHARE_OF_MODEL_ONLY
        result["meets_goal"] = result["thumbnails_share_of_model_only"] >= GOAL_SHARE_OF_MODEL_ONLY
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", type=Path, default=ROOT / "data" / "offers_benchmark")
    args = ap.parse_args(argv)

    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    old = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    measured = dict(old.get("tasks", {}))
    for task in args.tasks:
        measured[task] = {**measure(task, args.users, args.repeats, args.work), "measured": time.strftime("%Y-%m-%d")}
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()}, "tasks": measured}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
