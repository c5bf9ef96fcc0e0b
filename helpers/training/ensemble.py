"""Ensembles of saved models: the average of their softmax outputs, saved as a model of its own.

>>> model, record = make_ensemble("fashion_ensemble", ["fashion_own_cnn", "fashion_vgg_bn"])

The ensemble's record lists its members (each a saved model with its own record and sha256); its
weights file holds every member's weights, so ``helpers.evaluate`` rebuilds and checks it and
``helpers.predict`` uses it like any other model. Validation and test metrics are computed from
the members' averaged outputs; training time is the members' sum. Members refitted on training + validation images have seen
the validation split, so such an ensemble records no validation metrics (they would be inflated).
A saved ensemble's members are checked, and its output averaged from theirs, by
:func:`helpers.models.saved_models.check_members` and :func:`~helpers.models.saved_models.average_probabilities`.
"""

from __future__ import annotations

from helpers.evaluation import metrics
from helpers.inputs import tasks
from helpers.models import saved_models, weights_store


def member_spec(name: str) -> dict:
    rec = weights_store.load_record(name)
    return {"name": name, "architecture": rec["architecture"], "hparams": rec.get("hparams", {}),
            "sha256": rec["sha256"]}


def build_ensemble(task: str, member_names, input_shape=None, views=None):
    """An ensemble model whose members carry the saved members' weights (all must share one input shape); ``views``:
    test-time augmentation, whole-pixel shifts ``(down, right)`` each member sees (``None``: the image only)."""
    specs = [member_spec(n) for n in member_names]
    records = [weights_store.load_record(n) for n in member_names]
    tasks_of = {r["task"] for r in records}
    if tasks_of != {task}:
        raise ValueError(f"every member must be trained for task {task!r}; got {sorted(tasks_of)}")
    shapes = {tuple(r.get("input_shape") or ()) for r in records}
    if len(shapes) != 1:
        raise ValueError(f"the members take different input shapes: {sorted(shapes)}")
    input_shape = input_shape or (list(shapes)[0] or None)
    model = saved_models.build_model(task, "ensemble", hparams(specs, views), input_shape=input_shape)
    for i, name in enumerate(member_names):
        member, _ = saved_models.load(name)
        model.get_layer(f"member_{i + 1}").set_weights(member.get_weights())
    return model, specs


def hparams(specs, views=None) -> dict:
    """The ensemble's hyperparameters as recorded: its members (name, architecture, hparams) and its views."""
    return {"members": [{k: s[k] for k in ("name", "architecture", "hparams")} for s in specs],
            **({"views": [[int(dy), int(dx)] for dy, dx in views]} if views else {})}


def make_ensemble(name: str, member_names, task: str = "fashion", data: dict | None = None, notes: dict | None = None,
                  views=None, probabilities: dict | None = None):
    """Build, score (validation, then test once) and save the ensemble ``name``; returns ``(model, record)``.

    ``views``: test-time augmentation inside the model (see :func:`build_ensemble`). ``probabilities``
    (``{split: (N, C)}``): the ensemble's outputs where they were already computed (member by member, e.g. for a
    teacher's outputs on every split), scored instead of predicting again; ``helpers.evaluate --check`` rebuilds
    the model and checks them."""
    member_names = list(member_names)
    model, specs = build_ensemble(task, member_names, views=views)
    input_shape = weights_store.load_record(member_names[0]).get("input_shape")
    data = data if data is not None else tasks.get(task).load_splits()
    records = [weights_store.load_record(n) for n in member_names]
    seconds = [weights_store.training_seconds(r) for r in records]
    refit = [r["name"] for r in records if r.get("training", {}).get("refit")]
    scored = ("test",) if refit else ("val", "test")
    record = {"task": task, "architecture": "ensemble",
              **({"input_shape": input_shape} if input_shape else {}),
              "hparams": hparams(specs, views),
              "members": [{"name": s["name"], "sha256": s["sha256"]} for s in specs],
              "training": {"seconds": round(float(sum(s or 0.0 for s in seconds)), 1),
                           "note": "no training of its own: the members' training times added up"},
              "params": int(model.count_params()), "trainable_params": 0, "history": {},
              "metrics": {s: metrics.classification_metrics(data[s][1], (probabilities or {}).get(s) if (
                  probabilities or {}).get(s) is not None else saved_models.predict_proba(model, data[s][0]))
                  for s in scored},
              "notes": {**(notes or {}), **({"no_validation_metrics": (
                  f"members {', '.join(refit)} were refitted on training + validation images, so the ensemble's "
                  "validation score would be inflated; it is not recorded (choose ensembles on the members' "
                  "selection-run outputs instead)")} if refit else {})}}
    return model, weights_store.save(name, model, record)
