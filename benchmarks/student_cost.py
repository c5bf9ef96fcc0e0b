"""What retraining round two's students costs on this machine's CPU, from a short real run.

    .venv/bin/python benchmarks/student_cost.py [--names NAME ...] [--epochs 2]

``benchmarks/training_cost.py`` estimates round one's networks from timed training steps. A student's epoch also
reads the teacher's saved outputs (``results/best_model/teacher_outputs.npz``) and updates a moving average of its
weights, so here each student is *trained* for ``--epochs`` epochs, exactly as ``python -m helpers.best_model train
NAME --mixed-precision`` trains it (same recipe, precision and data; the teacher is not needed), in a fresh child
process that writes its model and checkpoints to a temporary folder under another name (the saved model and its
outputs are never touched). The median epoch is multiplied by the student's epochs: an *estimate* of a whole
retraining, to set beside the time its record measured (which ran beside other work). Results go to
``benchmarks/results/student_cost.json``. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

OUT = ROOT / "benchmarks" / "results" / "student_cost.json"
#: The suffix of the throw-away copy each child trains (its checkpoints are removed afterwards).
PROBE_SUFFIX = "_cost_probe"


def measure_one(name: str, epochs: int) -> dict:
    """Train a copy of student ``name`` for ``epochs`` epochs in this process (the child's job) and time each epoch."""
    import dataclasses

    from helpers.core import paths
    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    from helpers.studies import best_model
    from helpers.studies.best_model import config, experiments

    e = best_model.get(name)
    probe = name + PROBE_SUFFIX
    experiments.ROUND_TWO[probe] = dataclasses.replace(e, name=probe)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HELPERS_WEIGHTS_DIR"] = str(Path(tmp) / "weights")
        config.SELECTION_DIR = Path(tmp) / "selection"
        try:
            _, rec = best_model.train(probe, retrain=True, mixed_precision=True, epochs=epochs)
        finally:
            shutil.rmtree(paths.data_dir() / "checkpoints" / probe, ignore_errors=True)
    seconds = [float(s) for s in rec["history"]["epoch_seconds"]]
    per_epoch = statistics.median(seconds)
    full = int(e.training["epochs"])
    return {"epochs_run": len(seconds), "epoch_seconds": [round(s, 1) for s in seconds],
            "seconds_per_epoch": round(per_epoch, 1), "epochs": full,
            "estimated_seconds": round(per_epoch * full, 0), "precision": rec["training"].get("precision"),
            "hparams": e.hparams, "distillation": e.training.get("distillation")}


def measure_in_child(name: str, epochs: int) -> dict:
    from training_cost import run_child

    return run_child(Path(__file__).resolve(), name, "--epochs", str(epochs))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", nargs="*", help="students (default: the deployed Fashion-MNIST model)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs run per student (at least 2)")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.epochs < 2:
        ap.error("--epochs must be at least 2: the first epoch also traces the model")
    if args.child:
        print(json.dumps(measure_one(args.child, args.epochs)), flush=True)
        return {}
    from helpers.models import weights_store

    names = args.names or [weights_store.deployed("fashion")]
    out = Path(args.out)
    results = json.loads(out.read_text()).get("results", {}) if out.is_file() else {}
    for name in names:
        print(f"{name}: {args.epochs} epochs ...", end=" ", flush=True)
        results[name] = r = measure_in_child(name, args.epochs)
        print(f"{r['seconds_per_epoch']:.0f} s per epoch, {r['estimated_seconds'] / 3600:.2f} h for {r['epochs']} "
              "epochs (estimate)", flush=True)
    import keras
    from inference_speed import machine

    saved = {"machine": machine(), "versions": {"python": platform.python_version(), "keras": keras.__version__,
                                                "backend": keras.backend.backend()},
             "measured": time.strftime("%Y-%m-%d"), "results": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(saved, indent=1) + "\n")
    return saved


if __name__ == "__main__":
    main()
