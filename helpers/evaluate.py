"""Rebuild a saved model, score it on its task's test split, and print the metrics as JSON.

    python -m helpers.evaluate NAME [--split test] [--check] [--tolerance 0.0005]
    python -m helpers.evaluate --all --check
    python -m helpers.evaluate NAME --save-test-labels    # keep its test labels for sampled checks (evaluation.reproduction)

``--check`` exits 1 when a metric differs from the one recorded in ``weights/NAME.json`` by more
than the tolerance (so CI proves that every committed model still reproduces its numbers). The scoring itself
lives in :mod:`helpers.evaluation.rescoring`.
"""

from __future__ import annotations

import argparse
import json
import sys

from helpers.core import cli
from helpers.evaluation.rescoring import differences, evaluate_saved, save_test_labels
from helpers.models import weights_store


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.evaluate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", metavar="NAME", help="saved model name(s) (weights/NAME.json)")
    ap.add_argument("--all", action="store_true", help="every saved model")
    ap.add_argument("--split", default="test", choices=["train", "val", "test"])
    ap.add_argument("--check", action="store_true", help="exit 1 if metrics differ from the record")
    ap.add_argument("--tolerance", type=float, default=5e-4)
    ap.add_argument("--save-test-labels", action="store_true",
                    help="predict every test image and keep the labels (only if they reproduce the record), so that "
                         "notebooks can check the model on a sample (helpers.evaluation.reproduction)")
    args = ap.parse_args(argv)
    names = weights_store.list_names() if args.all else args.names
    if not names:
        ap.error("give at least one NAME, or --all")
    if args.save_test_labels:
        for name in names:
            kept = save_test_labels(name)
            print(json.dumps({"name": name, "accuracy": kept["accuracy"], "kept": str(kept["path"])}), flush=True)
        return 0
    problems = []
    for name in names:
        result = evaluate_saved(name, args.split)
        if args.check:
            found = differences(result, args.tolerance)
            result["check"] = "ok" if not found else "MISMATCH"
            problems += found
        print(json.dumps(result), flush=True)
    for p in problems:
        print(f"check failed: {p}", file=sys.stderr)
    return 1 if problems else 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
