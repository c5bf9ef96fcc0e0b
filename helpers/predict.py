"""Classify image files with a saved model; one JSON line per file.

    python -m helpers.predict --task fashion photo.jpg other.png ...
    python -m helpers.predict --task fashion --model simple_cnn photo.jpg

Each line is ``{"file", "label", "confidence", "top3", "model"}`` (and, where notebook 06 saved a rejection rule,
``ood_score``, ``ood_score_kind`` and ``in_domain``); see :mod:`helpers.serving.classify` for what each field means.
A missing, corrupt or non-image file gives ``{"file", "error"}`` instead and the exit status is 1. Without
``--model`` the task's deployed model is used (``weights/deployed.txt``), otherwise the saved model with the best
*validation* accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys

from helpers.core import cli
from helpers.inputs import tasks
from helpers.serving.classify import predict_files


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.predict", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True, help=f"one of: {', '.join(tasks.known())}")
    ap.add_argument("--model", help="saved model name (default: the task's deployed model)")
    ap.add_argument("files", nargs="+", metavar="FILE")
    args = ap.parse_args(argv)
    failed = 0
    for result in predict_files(args.files, args.task, args.model):
        failed += "error" in result
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
