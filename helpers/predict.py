"""Classify image files with a saved model; one JSON line per file.

    python -m helpers.predict --task fashion photo.jpg other.png ...
    python -m helpers.predict --task fashion --model simple_cnn photo.jpg

Each line is ``{"file", "label", "confidence", "top3", "model"}``; confidences are calibrated with the
temperature stored in the model's record when it has one (``helpers.calibration``). Where notebook 06
saved a rejection rule for the model (``helpers.out_of_domain``), each line also has ``ood_score``
(higher: less like anything the model was trained on), ``ood_score_kind`` and ``in_domain`` (the
rule's verdict: ``false`` means "probably not one of the task's items, do not act on the label").
A missing, corrupt or non-image file
gives ``{"file", "error"}`` instead and the exit status is 1. Any size, mode or format is accepted:
the task converts the photo to the model's input. Without ``--model`` the task's deployed model is used:
the one ``weights/deployed.txt`` names (notebook 05 chose it on validation accuracy, speed and training
budget), otherwise the saved model with the best *validation* accuracy (model choice never looks at the
test set).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from . import cli, tasks, weights_store
from .errors import HelpersError, WeightsNotFoundError


def best_model_name(task: str) -> str:
    """The model deployed for ``task``: the one named in ``weights/deployed.txt`` (notebook 05 names the
    Fashion-MNIST model it chose under the speed bar and the training budget), otherwise the saved model
    with the highest validation accuracy."""
    names = weights_store.list_names(task)
    if not names:
        raise WeightsNotFoundError(f"no saved model for task {task!r} in weights/; run the notebook that trains one.")
    chosen = weights_store.deployed(task)
    if chosen is not None:
        return chosen
    return max(names, key=lambda n: (weights_store.load_record(n).get("metrics", {}).get("val", {}).get("accuracy", -1), n))


def predict_files(files, task: str, model_name: str | None = None, top: int = 3):
    """Yield one result dict per file (``error`` set for unreadable files)."""
    from .images import open_rgb
    from .training import load, predict_proba
    from .calibration import apply_temperature, temperature_of

    from . import out_of_domain

    task_obj = tasks.get(task)
    name = model_name or best_model_name(task)
    model, record = load(name)
    if record["task"] != task:
        raise HelpersError(f"model {name!r} was trained for task {record['task']!r}, not {task!r}.")
    rule, maha = out_of_domain.load_rule(name)
    features = out_of_domain.feature_model(model) if rule else None
    for f in files:
        try:
            x = task_obj.prepare(open_rgb(f), record.get("input_shape"))[None]
        except HelpersError as e:
            yield {"file": str(f), "error": str(e)}
            continue
        p = apply_temperature(predict_proba(model, x), temperature_of(record))[0]
        order = np.argsort(-p, kind="stable")[:top]
        result = {"file": str(f), "label": task_obj.class_names[order[0]], "confidence": round(float(p[order[0]]), 4),
                  "top3": [{"label": task_obj.class_names[i], "confidence": round(float(p[i]), 4)} for i in order],
                  "model": name}
        if rule:
            score, keep = out_of_domain.score_inputs(model, rule, maha, x, features=features)
            result.update(ood_score=round(float(score[0]), 4), ood_score_kind=rule["score"], in_domain=bool(keep[0]))
        yield result


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
