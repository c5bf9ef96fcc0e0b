"""Ranges closed on validation after the study (issue #25's second pass): the head-only settings whose best epochs
sat at the edge of the study's :data:`EPOCHS`, rerun longer with every seed (:data:`SLOW_RATE_EPOCHS`,
:data:`LONG_EPOCHS`; seconds each on the cached features), and the exploratory lead at the final side checked with every seed.

Plain SGD at a constant rate, the same seed and the same batches: a long run's first epochs repeat the short run, so
the best epoch within the short range and the best epoch overall come from one run per seed (the overall best is the
best of more epochs on the same validation photos: it can only be lower). Nothing here retrains a saved model or a
saved run of the study (the exploratory lead's own run is kept as made); the sentences say what each result means for
the saved models. The checks were run after the saved models' test scores had been seen; they are judged on
validation only, and no test photo is scored.
"""

from __future__ import annotations

import numpy as np

from helpers.studies.flowers import config
from helpers.studies.flowers.evidence import compare_seeds
from helpers.studies.flowers.final_models import saved_recommendation
from helpers.studies.flowers.runs import exploratory_runs, load_runs, run, run_key, setting_runs, study_runs
from helpers.studies.flowers.wording import NBSP, VERDICT, count, num, signed

def edge_checks(rec: dict | None = None, record: dict | None = None, retrain: bool = False,
                data_by_size: dict | None = None, backbone_weights="imagenet", seeds=None, **kw) -> dict:
    """The three checks, each run once per seed of ``seeds`` (loaded when saved, unless ``retrain``):

    - ``"smallest_rate"``: the smallest learning rate of :data:`LEARNING_RATES` (no momentum, the study's side) for
      :data:`SLOW_RATE_EPOCHS`; ``reference``: the recommended setting's study runs (does the slow rate, given the
      epochs it lacked, catch up?);
    - ``"final_side"``: the recommended setting at the saved recommended model's side for :data:`LONG_EPOCHS` (the
      recommended epochs derived again there; ``saved_epochs``: the saved model's cap);
    - ``"lead"`` (``None`` when the exploratory runs' lowest loss is the recommended setting): that setting at the
      final side for :data:`EPOCHS`; ``reference``: the recommended setting's runs there (the size check's).

    ``rec``: :func:`recommend`'s output; ``record``: the recommended model's (defaults: those saved); ``data_by_size``: ``{side: splits}``
    (default: read only for runs not saved yet); ``kw`` go to :func:`run` (tests: ``batch_size``, ``path``).
    """
    rec, record = saved_recommendation(rec, record)

    saved = load_runs(kw.get("path"))

    def runs_of(lr, momentum, side, epochs):
        def one(s):
            key = run_key("accelerated", lr, momentum, s, epochs, kw.get("batch_size", config.BATCH_SIZE), side)
            mine = epochs != config.EPOCHS or key not in saved  # a study or exploratory run is never made again here
            return run("accelerated", lr, momentum, seed=s, epochs=epochs, image_size=side, data=(data_by_size or {}).get(side),
                       retrain=retrain and mine, backbone_weights=backbone_weights, **kw)
        return [one(s) for s in seeds or config.SEEDS]

    return _checks(rec, record, load_runs(kw.get("path")), runs_of)  # the references: study runs, saved before


def saved_edge_checks(runs: dict, rec: dict, record: dict, seeds=None) -> dict | None:
    """:func:`edge_checks` from the saved runs ``runs`` only (for the report, which never trains): ``None`` unless every
    run of the three checks is saved."""
    def runs_of(lr, momentum, side, epochs):
        found = [runs.get(run_key("accelerated", lr, momentum, s, epochs, config.BATCH_SIZE, side))
                 for s in seeds or config.SEEDS]
        if not all(found):
            raise KeyError(side)
        return found

    try:
        return _checks(rec, record, runs, runs_of)
    except KeyError:
        return None


def _checks(rec: dict, record: dict, runs: dict, runs_of) -> dict:
    """The checks' settings, their runs (``runs_of(lr, momentum, side, epochs)``) and references (from ``runs``)."""
    size = int(record["hparams"]["image_size"])

    def reference(side, lr=rec["learning_rate"], momentum=rec["momentum"]):
        return setting_runs(study_runs(runs, "accelerated", side), lr, momentum)

    def check(lr, momentum, side, epochs, **more):
        return {"learning_rate": lr, "momentum": momentum, "image_size": side, "epochs": epochs,
                "runs": runs_of(lr, momentum, side, epochs), **more}

    lowest, cap = min(config.LEARNING_RATES), int(record["training"]["max_epochs"])
    out = {"smallest_rate": check(lowest, 0.0, config.IMAGE_SIZE, config.SLOW_RATE_EPOCHS, short_epochs=config.EPOCHS,
                                  reference=reference(config.IMAGE_SIZE)),
           "final_side": check(rec["learning_rate"], rec["momentum"], size, config.LONG_EPOCHS, short_epochs=cap,
                               saved_epochs=cap),
           "lead": None}
    explored = [r for r in exploratory_runs(runs) if r["image_size"] == size]
    lead = min(explored, key=lambda r: r["val_loss"]) if explored else None
    if lead and (lead["learning_rate"], lead["momentum"]) != (rec["learning_rate"], rec["momentum"]):
        out["lead"] = check(lead["learning_rate"], lead["momentum"], size, config.EPOCHS, reference=reference(size))
    return out


def truncated(r: dict, epochs: int) -> dict:
    """Run ``r`` as if it had stopped after ``epochs`` epochs (its history cut, its best epoch within them)."""
    h = {k: v[:epochs] for k, v in r["history"].items()}
    return {**r, "epochs": epochs, "history": h, "best_epoch": int(np.argmin(h["val_loss"])) + 1}


def edge_facts(check: dict, n_val: int) -> dict:
    """A long check in numbers: the median best epoch over seeds and whether it lies inside the long range, the mean
    best validation loss and accuracy within the short range and overall, and :func:`compare_seeds`' verdict of the
    long budget against the short one (``verdict``); for ``"smallest_rate"`` also its long runs against the reference
    setting's study runs (``against_reference``)."""
    from helpers.studies.flowers.story import at_edge

    n, long_runs = check["short_epochs"], check["runs"]
    short = [truncated(r, n) for r in long_runs]
    best = float(np.median([r["best_epoch"] for r in long_runs]))
    out = {"seeds": len(long_runs), "epochs": long_runs[0]["epochs"], "short_epochs": n, "best_epoch_median": best,
           "best_epochs": [r["best_epoch"] for r in long_runs], "inside": not at_edge(best, long_runs[0]["epochs"]),
           "val_loss": float(np.mean([min(r["history"]["val_loss"]) for r in long_runs])),
           "short_val_loss": float(np.mean([min(r["history"]["val_loss"]) for r in short])),
           "val_accuracy": float(np.mean([r["history"]["val_accuracy"][r["best_epoch"] - 1] for r in long_runs])),
           "short_val_accuracy": float(np.mean([r["history"]["val_accuracy"][r["best_epoch"] - 1] for r in short])),
           **_verdict(compare_seeds(short, long_runs, n_val)),
           "seconds": float(sum(sum(r["history"]["epoch_seconds"]) for r in long_runs))}
    if check.get("reference"):
        out["against_reference"] = compare_seeds(check["reference"], long_runs, n_val)
        out["reference_val_loss"] = float(np.mean([min(r["history"]["val_loss"]) for r in check["reference"]]))
    return out


def _verdict(v: dict) -> dict:
    """:func:`compare_seeds`' verdict, its accuracy bar, and whether the loss alone moved beyond noise."""
    return {"verdict": v["verdict"], "bar": v["bar"],
            "loss_clear": v["seeds"] >= config.MIN_SEEDS and abs(v["loss_change"]) > config.NOISE_SE * v["loss_se"]}


def _photos(share: float, n_val: int) -> str:
    k = round(share * n_val)
    return f"{signed(k, 0)} {'photo' if abs(k) == 1 else 'photos'} of the {count(n_val)} in validation"


def sentences(checks: dict, rec: dict, n_val: int) -> list[str]:
    """What the checks found, one sentence each, in the study's number format (notebook 08 and the flower report)."""
    out = []
    s = checks["smallest_rate"]
    f = edge_facts(s, n_val)
    ref = f["against_reference"]
    out.append(
        f"Learning rate {s['learning_rate']:g}, run for {f['epochs']} epochs instead of {f['short_epochs']} "
        f"({f['seeds']} seeds): median best epoch {f['best_epoch_median']:g}"
        + (", inside the range" if f["inside"] else ", still at the edge") +
        f"; best validation loss {num(f['val_loss'])} against {num(f['short_val_loss'])} within {f['short_epochs']} epochs. "
        f"Against the recommended {rec['learning_rate']:g} within {config.EPOCHS} epochs ({num(f['reference_val_loss'])}), "
        f"the slow rate with {num(f['epochs'] / f['short_epochs'], 0)}× the epochs is {VERDICT[ref['verdict']]} "
        f"({signed(ref['loss_change'])} in loss, {_photos(ref['accuracy_gain'], n_val)})"
        + (f": {s['learning_rate']:g} is slower, not worse. The choice of {rec['learning_rate']:g} stands for the study's "
           f"fixed budget of {config.EPOCHS} epochs, where it was made; with a budget this long the two would tie."
           if ref["verdict"] == "within noise" else
           ": the choice of learning rate stands." if ref["verdict"] == "worse" else
           ": given the epochs, the smaller rate would have been the better choice."))
    s = checks["final_side"]
    f = edge_facts(s, n_val)
    out.append(
        f"The recommended settings at {s['image_size']}{NBSP}px, run for {f['epochs']} epochs ({f['seeds']} seeds): "
        f"median best epoch {f['best_epoch_median']:g} (per seed {', '.join(str(e) for e in f['best_epochs'])})"
        + (", inside the range" if f["inside"] else ", still at the edge") +
        f". Derived again at this side, the recommended epochs are {f['best_epoch_median']:g}, not the saved model's "
        f"{s['saved_epochs']}; the best validation loss within {s['saved_epochs']} epochs is {num(f['short_val_loss'])} "
        f"against {num(f['val_loss'])} overall, the best of more epochs on the same photos "
        f"({signed(f['val_loss'] - f['short_val_loss'])}, "
        f"{_photos(f['val_accuracy'] - f['short_val_accuracy'], n_val)}): {VERDICT[f['verdict']]}"
        + (f" by the study's rule (the loss is lower by more than {num(config.NOISE_SE, 0)} standard errors, but the "
           f"accuracy gain is under the bar of {_photos(f['bar'], n_val).lstrip('+')})"
           if f["loss_clear"] and f["verdict"] == "within noise" else "")
        + (", so the saved brief's model keeps its epochs." if f["verdict"] != "better" else
           ": the saved brief's model stopped too early, a retrain for the longer budget is due."))
    s = checks.get("lead")
    if s:
        v = compare_seeds(s["reference"], s["runs"], n_val)
        out.append(
            f"The exploratory lead, momentum {s['momentum']:g} at {s['image_size']}{NBSP}px, with {v['seeds']} seeds (seed "
            f"{config.SEED}, which picked it, among them): "
            f"{VERDICT[v['verdict']]} against momentum {rec['momentum']:g} ({signed(v['loss_change'])} in mean best "
            f"validation loss, {_photos(v['accuracy_gain'], n_val)})"
            + ("." if v["verdict"] != "better" else
               f": at this side momentum {s['momentum']:g} would be the better recommendation."))
    return out


def slow_rate_note(checks: dict | None, n_val: int) -> str:
    """One clause for the answer: what the smallest learning rate reaches when run longer (empty without checks)."""
    if not checks:
        return ""
    s = checks["smallest_rate"]
    f = edge_facts(s, n_val)
    ref = f["against_reference"]["verdict"]
    return (f"That is at {f['short_epochs']} epochs: run for {f['epochs']}, {s['learning_rate']:g} is {VERDICT[ref]} "
            f"{'of' if ref == 'within noise' else 'than'} the recommended rate run for {config.EPOCHS} epochs"
            + (": slower, not worse." if ref == "within noise" else "."))


def closes(checks: dict | None, n_val: int) -> dict:
    """Which open edges the checks close: ``{"smallest_rate": bool, "final_side": bool}``. An edge is closed when the
    long range holds its median best epoch inside it and the longer budget does not clearly beat what was chosen (a
    clear gain leaves work to do: the edge stays listed). Without checks, nothing is closed."""
    if not checks:
        return {"smallest_rate": False, "final_side": False}
    slow, side = edge_facts(checks["smallest_rate"], n_val), edge_facts(checks["final_side"], n_val)
    return {"smallest_rate": slow["inside"] and slow["against_reference"]["verdict"] != "better",
            "final_side": side["inside"] and side["verdict"] != "better"}

