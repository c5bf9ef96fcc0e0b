"""The best-model study's experiments (notebook 05), from the command line.

    python -m helpers.best_model list                  # every experiment, saved or not
    python -m helpers.best_model train NAME [--retrain] [--mixed-precision] [--steps-per-execution 16]
    python -m helpers.best_model tta [NAME ...] [--split val|test]   # save test-time-augmented outputs
    python -m helpers.best_model log                   # rewrite results/best_model/experiments.csv
    python -m helpers.best_model teacher               # round two: choose the teacher on validation, save it and its outputs
    python -m helpers.best_model curve [--sizes N ...] # round two's refit question: the student on subsets, the verdict
    python -m helpers.best_model kd-settings           # round two's temperature and teacher weight, checked on a proxy budget
"""

from __future__ import annotations

import argparse
import json
import sys

from helpers.core import cli, paths
from helpers.models import weights_store
from helpers.studies import best_model as study


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.best_model", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    t = sub.add_parser("train")
    t.add_argument("name")
    t.add_argument("--retrain", action="store_true")
    t.add_argument("--mixed-precision", action="store_true")
    t.add_argument("--steps-per-execution", type=int, default=None,
                   help="batches per call of the compiled training step (16 on a GPU: same updates, less overhead)")
    sub.add_parser("log")
    sub.add_parser("teacher", help="choose the teacher on validation, compute its outputs on every split, save both")
    cv = sub.add_parser("curve", help="train the deployed student's recipe on subsets of the training split "
                                      "(the learning curve) and print the refit verdict")
    cv.add_argument("--sizes", nargs="*", type=int, default=None, help="training sizes (default: config's)")
    sub.add_parser("kd-settings", help="run the distillation settings of config.KD_GRID on the proxy budget and "
                                       "print the verdict")
    tt = sub.add_parser("tta", help="save the test-time-augmented validation outputs of saved experiments")
    tt.add_argument("names", nargs="*", help="experiments (default: every saved own-network experiment)")
    tt.add_argument("--split", choices=("val", "test"), default="val")
    args = ap.parse_args(argv)
    if args.command == "list":
        for e in study.EXPERIMENTS.values():
            print(f"{e.name:28s} {'saved' if weights_store.exists(e.name) else 'not trained':12s} {e.idea}")
    elif args.command == "train":
        extra = {"steps_per_execution": args.steps_per_execution} if args.steps_per_execution else {}
        _, rec = study.train(args.name, retrain=args.retrain, mixed_precision=args.mixed_precision, **extra)
        print(json.dumps({"name": args.name, "val": rec["metrics"]["val"], "seconds": weights_store.training_seconds(rec)}))
    elif args.command == "tta":
        for name in args.names or [n for n, e in study.EXPERIMENTS.items()
                                   if e.architecture != "transfer" and weights_store.exists(n)]:
            path = study.save_tta_outputs(study.get(name).name, split=args.split)
            print(f"{name}: {paths.display_path(path)}", flush=True)
    elif args.command == "teacher":
        from helpers.studies.best_model import teacher

        table = teacher.candidates()
        print(table.to_string(index=False), flush=True)
        _, rec = teacher.build(teacher.choose(table))
        print(json.dumps({"name": rec["name"], "members": rec["notes"]["members"], "metrics": rec["metrics"]}))
    elif args.command == "curve":
        from helpers.studies.best_model import learning_curve

        for n in args.sizes or study.LEARNING_CURVE_SIZES:
            print(json.dumps(learning_curve.run(n)), flush=True)
        print(json.dumps(learning_curve.verdict()))
    elif args.command == "kd-settings":
        from helpers.studies.best_model import kd_settings

        for setting in study.KD_GRID:
            print(json.dumps({kd_settings.key(setting): kd_settings.run(setting)["val_accuracy"]}), flush=True)
        print(json.dumps(kd_settings.verdict()))
    else:
        print(study.write_log().to_string(index=False))
    return 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    from helpers.core.repro import quiet_tensorflow

    quiet_tensorflow()
    sys.exit(main())
