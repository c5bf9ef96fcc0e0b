"""What each of notebook 05's own-network experiments costs to train on this machine's CPU.

    .venv/bin/python benchmarks/training_cost.py [--names NAME ...] [--batches 12]

Some experiments were trained on a lent GPU (their record's ``versions`` name the device); the brief's
budget is 3 hours of training on the team's 2-core CPU. For each experiment, in a fresh child process,
the model is built and compiled exactly as training compiles it (optimizer, label smoothing), then

- **one training step**: ``train_on_batch`` on real training images at the recipe's batch size, the
  median of ``--batches`` steps after two warm-up steps;
- **the validation pass**: ``predict`` over the 10,000 validation images at the same batch size;

and one epoch is estimated as ``steps per epoch x step + validation pass``. Experiments that train the same
network (same architecture and size; augmentation settings cost next to nothing) share one figure per epoch,
the median of theirs, so that timing noise on a busy 2-core machine does not rank identical networks; the
whole run is ``epochs x that epoch``. Results go to ``benchmarks/results/training_cost.json``. The estimate leaves
out what an epoch adds around the steps (callbacks, checkpoints): compare it with a run measured on
this CPU (``fashion_vgg_bn``) before trusting it. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = ROOT / "benchmarks" / "results" / "training_cost.json"


def measure_one(name: str, batches: int) -> dict:
    """Time one experiment's training step and validation pass in this process (the child's job)."""
    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    import keras
    import numpy as np

    from helpers.inputs import tasks
    from helpers.models import saved_models
    from helpers.studies import best_model
    from helpers.training import recipe

    e = best_model.get(name)
    if e.architecture == "transfer":
        raise ValueError(f"{name} trains on cached backbone activations; its record holds its CPU time")
    t = e.training
    task = tasks.get("fashion")
    data = task.load_splits()
    (x_train, y_train), (x_val, _) = data["train"], data["val"]
    model = saved_models.build_model("fashion", e.architecture, dict(e.hparams))
    loss = recipe.smoothed_sparse_crossentropy(t["label_smoothing"], task.n_outputs) if t.get("label_smoothing") \
        else "sparse_categorical_crossentropy"
    opt = keras.optimizers.get({"class_name": t["optimizer"],
                                "config": {"learning_rate": t["learning_rate"], **t.get("optimizer_config", {})}})
    model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
    bs = int(t["batch_size"])
    rng = np.random.default_rng(0)
    steps = []
    for i in range(batches + 2):
        idx = rng.choice(len(x_train), bs, replace=False)
        start = time.perf_counter()
        model.train_on_batch(x_train[idx], y_train[idx])
        if i >= 2:  # the first steps trace and compile
            steps.append(time.perf_counter() - start)
    model.predict(x_val[:bs], batch_size=bs, verbose=0)
    start = time.perf_counter()
    model.predict(x_val, batch_size=bs, verbose=0)
    val_seconds = time.perf_counter() - start
    step = statistics.median(steps)
    per_epoch = math.ceil(len(x_train) / bs) * step + val_seconds
    return {"architecture": e.architecture, "hparams": e.hparams, "batch_size": bs,
            "seconds_per_step": round(step, 4), "steps_per_epoch": math.ceil(len(x_train) / bs),
            "validation_seconds": round(val_seconds, 2), "seconds_per_epoch": round(per_epoch, 1),
            "epochs": int(t["epochs"]), "estimated_seconds": round(per_epoch * int(t["epochs"]), 0),
            "steps_timed": len(steps)}


#: The hyperparameters that set a network's compute (the others switch augmentations on or off).
SIZE_KEYS = ("width", "stages", "convs_per_stage")


def network_of(result: dict) -> str:
    """The network an experiment trains, as a key: architecture and size."""
    return result["architecture"] + "".join(f" {k}={result['hparams'][k]}" for k in SIZE_KEYS if k in result["hparams"])


def pool(results: dict) -> dict:
    """Each experiment's ``estimated_seconds`` from the median epoch of every experiment that trains the same network."""
    import statistics

    by_network = {}
    for r in results.values():
        by_network.setdefault(network_of(r), []).append(r["seconds_per_epoch"])
    return {n: {**r, "network": network_of(r),
                "network_seconds_per_epoch": round(statistics.median(by_network[network_of(r)]), 1),
                "estimated_seconds": round(statistics.median(by_network[network_of(r)]) * r["epochs"], 0)}
            for n, r in results.items()}


def measure_in_child(name: str, batches: int) -> dict:
    return run_child(Path(__file__).resolve(), name, "--batches", str(batches))


def run_child(script: Path, name: str, *options: str) -> dict:
    """Run ``script --child NAME OPTIONS`` in a fresh process; its last line of output, parsed as JSON."""
    cmd = [sys.executable, str(script), "--child", name, *options]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"measuring {name} failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", nargs="*", help="experiments (default: every own-network experiment of notebook 05)")
    ap.add_argument("--batches", type=int, default=12, help="training steps timed per experiment")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure_one(args.child, args.batches)), flush=True)
        return {}
    from helpers.studies import best_model

    names = args.names or [n for n, e in best_model.EXPERIMENTS.items() if e.architecture != "transfer"]
    out = Path(args.out)
    results = json.loads(out.read_text()).get("results", {}) if out.is_file() else {}
    results = {n: r for n, r in results.items() if n in best_model.EXPERIMENTS}
    failed = []
    for name in names:
        print(f"{name} ...", end=" ", flush=True)
        try:
            results[name] = measure_in_child(name, args.batches)
        except Exception as e:  # noqa: BLE001 - reported, and the other experiments are still measured
            print(f"failed: {e}", flush=True)
            failed.append(name)
            continue
        r = results[name]
        print(f"{r['seconds_per_step']:.3f} s per step, {r['seconds_per_epoch'] / 60:.1f} min per epoch", flush=True)
    results = pool(results)
    for name, r in results.items():
        print(f"{name}: {r['estimated_seconds'] / 3600:.2f} h for {r['epochs']} epochs ({r['network']})")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import keras
    from inference_speed import machine

    saved = {"machine": machine(), "versions": {"python": platform.python_version(), "keras": keras.__version__,
                                                "backend": keras.backend.backend()},
             "measured": time.strftime("%Y-%m-%d"), "failed": failed, "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved, indent=1) + "\n")
    return saved


if __name__ == "__main__":
    main()
