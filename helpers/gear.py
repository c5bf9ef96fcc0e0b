"""Companion study 2 from the command line: repeat the whole gear study, task by task (notebook 09).

    python -m helpers.gear        # about 25 minutes on 2 cores; saved models are retrained
    python -m helpers.gear --help

The study itself: :mod:`helpers.studies.gear`.
"""

from __future__ import annotations

import argparse
import sys

from helpers.core import cli
from helpers.studies import gear


def _main(argv=None) -> int:
    """Repeat the whole study, task by task (saved models are retrained)."""
    ap = argparse.ArgumentParser(prog="python -m helpers.gear", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.parse_args(argv)
    print("task 1: our CNN", flush=True)
    gear.train_own_cnn(retrain=True, weighted=True)
    gear.train_own_cnn(retrain=True, weighted=False)
    print("task 3: transfer learning", flush=True)
    gear.train_transfer(retrain=True)
    print("classical baseline", flush=True)
    gear.classical_baseline(retrain=True)
    print("inference speed", flush=True)
    gear.record_inference_speeds()
    print("task 2: new images", flush=True)
    print(gear.predict_new_images().to_string(), flush=True)
    return 0


def main(argv=None) -> int:
    return cli.run(_main, argv)  # a missing dataset or unavailable weights: one clear line, no traceback


if __name__ == "__main__":
    sys.exit(main())
