"""Classify image files with a saved model (the logic of ``python -m helpers.predict``).

Each result is ``{"file", "label", "confidence", "top3", "model"}``; confidences are calibrated with the
temperature stored in the model's record when it has one (fitted by ``helpers.training.calibration``, applied by
``helpers.evaluation.temperature``). Where notebook 06 saved a rejection rule for the model
(``helpers.evaluation.out_of_domain``), each line also has ``ood_score`` (higher: less like anything the model was
trained on), ``ood_score_kind`` and ``in_domain`` (the rule's verdict: ``false`` means "probably not one of the
task's items, do not act on the label"). A missing, corrupt or non-image file
gives ``{"file", "error"}`` instead and the exit status is 1. Any size, mode or format is accepted:
the task converts the photo to the model's input. Without ``--model`` the task's deployed model is used:
the one ``weights/deployed.txt`` names (one line per task, written by the notebook that chose it on
validation: 05 for ``fashion``, under the speed bar and the training budget; 08 for ``flowers``; 09 for ``gear``),
otherwise the saved model with the best *validation* accuracy (model choice never looks at the
test set).
"""

from __future__ import annotations

import numpy as np

from helpers.core.errors import HelpersError, WeightsNotFoundError
from helpers.inputs import tasks
from helpers.models import weights_store


def best_model_name(task: str) -> str:
    """The model deployed for ``task``: the one named in ``weights/deployed.txt`` (notebooks 05, 08 and 09 each
    write their task's line), otherwise the saved model
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
    from helpers.evaluation import out_of_domain
    from helpers.evaluation.temperature import apply_temperature
    from helpers.inputs.images import open_rgb
    from helpers.models.saved_models import load, predict_proba, temperature_of

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
