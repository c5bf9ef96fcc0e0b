"""From uploads to offers: score a table of uploads, build a demo day, export the model for engineers.

    python -m helpers.offers score UPLOADS --out DIR [--task fashion|clothing] [--engine local|ray] [--address ADDR]
                                                     [--model NAME]
    python -m helpers.offers demo DIR [--task clothing|fashion] [--users N] [--seed S]
    python -m helpers.offers export DIR [--task clothing|fashion] [--model NAME]

``score``: UPLOADS is a CSV or Parquet table with columns ``user_id`` and ``image`` (a path, absolute or relative to
the table's folder; other columns are carried through). It writes ``DIR/predictions.parquet`` (one row per upload),
``DIR/offers.csv`` (one row per user: the offer, or none, and why) and ``DIR/run.json`` (what ran, how fast); the
task, model and rule version are in ``run.json`` and in every prediction row. The site's uploads are photos, so the
default task is ``clothing``: the photo model of notebook 11, run by TensorFlow Lite. ``--task fashion`` scores
28-pixel catalogue thumbnails with the thumbnail model of notebook 05. Each task's rules come from its own versioned
rule file, written by the notebook that decided them (11 for clothing, 06 for fashion; ``results/offers/``). An interrupted run resumes
where it stopped when rerun with the same arguments. ``--engine ray`` scores with Ray Data: on a local Ray, or on
the cluster at ``--address``. See :mod:`helpers.serving.batch`.

``demo``: a simulated site day (``DIR/uploads.csv``, ``DIR/truth.csv``, images under ``DIR/images/``): for
``clothing`` (the default), photos of the clothing validation split, non-fashion photos and a few broken files; for
``fashion``, Fashion-MNIST test images, real boot and jacket photos, non-fashion photos and broken files.

``export``: the deployed model with its input scaling and temperature built in, as a ``.keras`` file and a
TensorFlow SavedModel that load without this package.
"""

from __future__ import annotations

import argparse
import json
import sys

from helpers.core import cli


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.offers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score a table of uploads into predictions and offers")
    s.add_argument("uploads", metavar="UPLOADS", help="CSV or Parquet table with columns user_id and image")
    s.add_argument("--out", required=True, metavar="DIR", help="output folder")
    s.add_argument("--engine", choices=("local", "ray"), default="local")
    s.add_argument("--address", help="Ray cluster address (with --engine ray); default: start a local Ray")
    s.add_argument("--workers", type=int, help="Ray workers (default: one per CPU of the Ray cluster)")
    s.add_argument("--task", choices=("clothing", "fashion"), default=None,
                   help="clothing (photos people take, notebook 11; the default) or fashion (28-pixel catalogue "
                        "thumbnails, notebook 05); default with --model: the model's task")
    s.add_argument("--model", help="saved model name (default: the task's deployed one, weights/deployed.txt)")
    s.add_argument("--chunk-rows", type=int, default=None, help="rows per resumable part (default 4096)")
    s.add_argument("--restart", action="store_true", help="discard an unfinished run of other inputs in DIR")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    d = sub.add_parser("demo", help="build a simulated day of uploads")
    d.add_argument("dir", metavar="DIR")
    d.add_argument("--task", choices=("clothing", "fashion"), default="clothing", help="photos (default) or thumbnails")
    d.add_argument("--users", type=int, default=None, help="simulated users (default 300, about 3,000 uploads)")
    d.add_argument("--seed", type=int, default=0)
    e = sub.add_parser("export", help="export the deployed model for engineers (.keras + SavedModel)")
    e.add_argument("dir", metavar="DIR")
    e.add_argument("--task", choices=("clothing", "fashion"), default="clothing", help="photos (default) or thumbnails")
    e.add_argument("--model", help="saved model name (default: the task's deployed one)")
    args = ap.parse_args(argv)
    if args.command == "score":
        from helpers.serving import batch

        record = batch.run(args.uploads, args.out, engine=args.engine, address=args.address, model_name=args.model,
                           chunk_rows=args.chunk_rows or batch.DEFAULT_CHUNK_ROWS, workers=args.workers,
                           restart=args.restart, progress=not args.quiet, task=args.task)
        print(json.dumps({k: record[k] for k in ("task", "model", "rows", "users", "offers_made", "unreadable", "rejected",
                                                 "images_per_second", "wall_seconds")}))
    elif args.command == "demo":
        from helpers.studies.deployment import demo

        made = demo.build(args.dir, users=args.users, seed=args.seed, task=args.task)
        print(json.dumps({k: str(v) for k, v in made.items()}))
    else:
        from helpers.serving import export

        print(json.dumps(export.export(args.dir, args.model, task=args.task), indent=1))
    return 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
