"""End-to-end throughput of the offers pipeline, both engines, beside the model-only speed, on this machine.

    .venv/bin/python benchmarks/offers_throughput.py [--users 300] [--copies 4] [--repeats 2]

The demo day (``python -m helpers.offers demo``, ``--users`` users, about ten uploads each) is repeated ``--copies``
times into one table (the same image files, new rows), then scored

- by the **local** engine (one process: decoding in a thread pool, batches of 512), best of ``--repeats``;
- by the **ray** engine with **1** and **2** workers on a local Ray (one table chunk, so the workers' start-up -- a
  Python process each with TensorFlow and the model -- is counted once per run), best of ``--repeats``;

the Fashion-MNIST thumbnails of the day alone are scored by the local engine (the goal's figure), and the deployed
model alone is timed on the same prepared images at batch 512 (no decoding, no rules, no writing).
Images per second are rows scored over the scoring time (reading images, predicting, writing the parts); the
wall time adds the start-up and the final merge and offers. Results go to
``benchmarks/results/offers_throughput.json``. Goal: the local pipeline reaches at least half the model-only
throughput on thumbnails.
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


def _best(runs: list[dict]) -> dict:
    best = max(runs, key=lambda r: r["images_per_second"])
    return {"images_per_second": best["images_per_second"], "wall_seconds": best["wall_seconds"],
            "scoring_seconds": best["scoring_seconds"], "workers": best["workers"],
            "all_runs_images_per_second": [r["images_per_second"] for r in runs]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", type=Path, default=ROOT / "data" / "offers_benchmark")
    args = ap.parse_args(argv)

    import numpy as np
    import pandas as pd

    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    from helpers.evaluation.speed import images_per_second
    from helpers.inputs import tasks
    from helpers.inputs.images import open_rgb
    from helpers.models.saved_models import load
    from helpers.serving import batch
    from helpers.serving.classify import best_model_name
    from helpers.studies.deployment import demo

    day = args.work / "day"
    made = demo.build(day, users=args.users, seed=0)
    table = pd.read_csv(made["uploads"], dtype=str, keep_default_na=False)
    big = pd.concat([table] * args.copies, ignore_index=True)
    uploads = day / "uploads_x{}.csv".format(args.copies)
    big.to_csv(uploads, index=False, lineterminator="\n")
    thumbnails = table[table["source"] == "Fashion-MNIST test image"]
    thumbs = day / "thumbnails_x{}.csv".format(args.copies)
    pd.concat([thumbnails] * args.copies, ignore_index=True).to_csv(thumbs, index=False, lineterminator="\n")
    rows = len(big)

    def score(engine, workers=None, table=uploads):
        out = args.work / f"out_{engine}_{workers or 1}"
        shutil.rmtree(out, ignore_errors=True)
        return batch.run(table, out, engine=engine, workers=workers, chunk_rows=rows, progress=False)

    local = _best([score("local") for _ in range(args.repeats)])
    local_thumbnails = _best([score("local", table=thumbs) for _ in range(args.repeats)])
    import ray

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    ray_runs = {w: _best([score("ray", w) for _ in range(args.repeats)]) for w in (1, 2)}
    ray.shutdown()

    name = best_model_name("fashion")
    model, record = load(name)
    task = tasks.get("fashion")
    x = np.stack([task.prepare(open_rgb(day / i)) for i in thumbnails["image"]]).astype(np.float32)
    x = np.concatenate([x] * max(1, -(-4096 // len(x))))[:4096]
    model_only = images_per_second(model, x, batch_size=512, repeats=3)
    result = {
        "measured": time.strftime("%Y-%m-%d"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "model": name, "weights_sha256": record["sha256"],
        "table": {"users": args.users, "copies": args.copies, "rows": rows,
                  "sources": {k: int(v) for k, v in big["source"].value_counts().sort_index().items()}},
        "model_only_images_per_second_batch_512": round(model_only, 1),
        "local": local, "local_thumbnails_only": {**local_thumbnails, "rows": len(thumbnails) * args.copies},
        "ray_1_worker": ray_runs[1], "ray_2_workers": ray_runs[2],
        "ray_scaling_1_to_2": round(ray_runs[2]["images_per_second"] / ray_runs[1]["images_per_second"], 3),
        "local_share_of_model_only": round(local["images_per_second"] / model_only, 3),
        "thumbnails_share_of_model_only": round(local_thumbnails["images_per_second"] / model_only, 3),
        "goal_share_of_model_only": GOAL_SHARE_OF_MODEL_ONLY,
    }
    result["meets_goal"] = result["thumbnails_share_of_model_only"] >= GOAL_SHARE_OF_MODEL_ONLY
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
