"""The best-model study (notebook 05): every experiment, its record, and the experiment log.

    python -m helpers.best_model list                 # the experiments and whether each is saved
    python -m helpers.best_model train NAME [--retrain] [--mixed-precision]
    python -m helpers.best_model log                  # rewrite results/best_model/experiments.csv

Each experiment is one entry of :data:`EXPERIMENTS`: the idea it tests, the architecture, its
hyperparameters and the training recipe. Training runs the project's protocol (``training.fit``):
selection run on the training split with the validation split watching, then (``refit``) the same
recipe on training + validation images for the chosen number of epochs; the test split is scored
once and recorded. Runs resume from ``data/checkpoints/<name>`` after an interruption. Training works
on any Keras backend (on a GPU machine without TensorFlow: ``KERAS_BACKEND=jax``); the saved
``.weights.h5`` files load everywhere.

Every saved experiment is one row of ``results/best_model/experiments.csv`` (name, idea, parameters,
epochs, training seconds, validation accuracy and loss, inference images/s from
``benchmarks/results/inference_speed.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field

from . import cli, paths, reporting, weights_store
from .errors import UnknownNameError

RESULTS_DIR = paths.REPO_ROOT / "results" / "best_model"
EXPERIMENTS_CSV = RESULTS_DIR / "experiments.csv"
INFERENCE_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "inference_speed.json"

#: The modern recipe shared by our stronger networks: AdamW with decoupled weight decay, a cosine
#: schedule after a short warm-up (no plateau heuristics: a fixed budget whose last epochs are the best),
#: label smoothing against over-confidence, batch 128.
RECIPE = dict(optimizer="adamw", learning_rate=2e-3, optimizer_config={"weight_decay": 5e-4},
              schedule={"kind": "cosine", "warmup_epochs": 2, "final_fraction": 0.01}, label_smoothing=0.1,
              batch_size=128, patience=None, monitor="val_accuracy")


@dataclass(frozen=True)
class Experiment:
    name: str                     # the saved model's name
    direction: str                # "own network", "deeper transfer", "combining models"
    idea: str                     # what it tests, in one sentence
    architecture: str
    hparams: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    refit: bool = True
    build_kwargs: dict = field(default_factory=dict)   # not recorded (e.g. where pretrained weights come from)


EXPERIMENTS = {e.name: e for e in [
    Experiment("fashion_vgg_bn", "own network",
               "a deeper VGG-style BatchNorm network (3 stages, global average pooling) with random erasing and the "
               "modern recipe", "vgg_bn", dict(width=32, stages=3, convs_per_stage=2, dropout=0.3, shift=3,
                                                flip=False, erasing=0.5),
               dict(RECIPE, epochs=40)),
    Experiment("fashion_vgg_bn_flip", "own network",
               "ablation: the same network and recipe with left-right flips (notebook 01: shoes all face one way)",
               "vgg_bn", dict(width=32, stages=3, convs_per_stage=2, dropout=0.3, shift=3, flip=True,
                              erasing=0.5),
               dict(RECIPE, epochs=40)),
    Experiment("fashion_vgg_bn_seed43", "own network",
               "the same network and recipe from another seed: how much of a difference between two runs is noise, "
               "and a second member for an ensemble", "vgg_bn",
               dict(width=32, stages=3, convs_per_stage=2, dropout=0.3, shift=3, flip=False, erasing=0.5),
               dict(RECIPE, epochs=40, seed=43)),
    Experiment("fashion_vgg_bn_wide", "own network",
               "twice the width (64 to 256 filters, four times the computation): does capacity still pay?", "vgg_bn",
               dict(width=64, stages=3, convs_per_stage=2, dropout=0.3, shift=3, flip=False, erasing=0.5),
               dict(RECIPE, epochs=40)),
    Experiment("fashion_resnet", "own network",
               "a small pre-activation ResNet (skip connections) with the same recipe: a different architecture that "
               "errs differently, for the ensemble", "small_resnet",
               dict(width=32, stages=3, blocks_per_stage=2, dropout=0.2, shift=3, flip=False, erasing=0.5),
               dict(RECIPE, epochs=40)),
    Experiment("fashion_tl_mobilenet_v2_deep", "deeper transfer",
               "MobileNetV2 at 96x96 with its last four blocks and Conv_1 unfrozen (from block_13_expand: about "
               "two thirds of its weights), trained end to end on images with a fresh softmax head", "transfer",
               dict(backbone="mobilenet_v2", image_size=96, head_units=[], dropout=0.2, unfrozen=False,
                    unfrozen_from="block_13_expand"),
               dict(optimizer="adamw", learning_rate=3e-4, optimizer_config={"weight_decay": 1e-4},
                    schedule={"kind": "cosine", "warmup_epochs": 1, "final_fraction": 0.01}, label_smoothing=0.1,
                    batch_size=128, patience=None, monitor="val_accuracy", epochs=8),
               build_kwargs={"backbone_weights": "imagenet"}),
]}

#: Where each experiment's selection-run validation probabilities are kept (ensembles and temperatures
#: are chosen on them: the saved, refitted models have seen the validation images).
SELECTION_DIR = RESULTS_DIR / "selection_outputs"


def selection_outputs(name: str):
    """``(val_probabilities, y_val)`` of experiment ``name``'s selection run."""
    import numpy as np

    path = SELECTION_DIR / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no selection-run outputs for {name} ({paths.display_path(path)}); "
                                f"retrain it with python -m helpers.best_model train {name} --retrain")
    with np.load(path) as z:
        return z["val"].astype(np.float64), z["y_val"]


def get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise UnknownNameError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def train(name: str, retrain: bool = False, mixed_precision: bool = False, data: dict | None = None, **overrides):
    """Train (or load, when saved and not ``retrain``) one experiment; returns ``(model, record)``.

    ``overrides`` change the recipe (tests run a tiny version); ``mixed_precision`` trains under
    ``mixed_bfloat16`` (for GPUs and CPUs with bf16 instructions; on CPUs without them it is several
    times slower) and scores the float32 twin.
    """
    from . import training

    e = get(name)
    if not retrain and weights_store.exists(name):
        return training.load(name)
    args = {**e.training, **overrides}
    return training.fit(name, task="fashion", architecture=e.architecture, hparams=dict(e.hparams), data=data,
                        refit_on_train_and_val=e.refit, mixed_precision=mixed_precision,
                        build_kwargs=dict(e.build_kwargs) or None, selection_outputs=SELECTION_DIR / f"{name}.npz",
                        notes={"direction": e.direction, "idea": e.idea}, **args)


def inference_speeds(path=INFERENCE_JSON) -> dict:
    """``{model: images/s at batch 512}`` from the inference benchmark's results (empty if not run)."""
    if not path.is_file():
        return {}
    return {n: r["images_per_s_batch_512"] for n, r in json.loads(path.read_text())["results"].items()}


def experiment_log(names=None):
    """One row per saved experiment (and earlier saved models given in ``names``), as a DataFrame."""
    import pandas as pd

    speeds = inference_speeds()
    rows = []
    for name in names or [n for n in EXPERIMENTS if weights_store.exists(n)]:
        rec = weights_store.load_record(name)
        t = rec.get("training", {})
        e = EXPERIMENTS.get(name)
        rows.append({"name": name, "direction": e.direction if e else rec.get("notes", {}).get("direction", "earlier model"),
                     "idea": e.idea if e else rec.get("notes", {}).get("idea", ""),
                     "parameters": json.dumps(rec.get("hparams", {}), sort_keys=True),
                     "epochs": t.get("refit", {}).get("epochs", t.get("epochs_run")),
                     "training_seconds": reporting.training_seconds(rec),
                     "val_accuracy": rec["metrics"]["val"]["accuracy"], "val_loss": rec["metrics"]["val"]["loss"],
                     "inference_images_per_s": speeds.get(name)})
    return pd.DataFrame(rows)


def write_log(names=None):
    df = experiment_log(names)
    EXPERIMENTS_CSV.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(EXPERIMENTS_CSV, index=False)
    return df


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.best_model", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    t = sub.add_parser("train")
    t.add_argument("name")
    t.add_argument("--retrain", action="store_true")
    t.add_argument("--mixed-precision", action="store_true")
    sub.add_parser("log")
    args = ap.parse_args(argv)
    if args.command == "list":
        for e in EXPERIMENTS.values():
            print(f"{e.name:28s} {'saved' if weights_store.exists(e.name) else 'not trained':12s} {e.idea}")
    elif args.command == "train":
        _, rec = train(args.name, retrain=args.retrain, mixed_precision=args.mixed_precision)
        print(json.dumps({"name": args.name, "val": rec["metrics"]["val"], "seconds": reporting.training_seconds(rec)}))
    else:
        print(write_log().to_string(index=False))
    return 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    from .repro import quiet_tensorflow

    quiet_tensorflow()
    sys.exit(main())
