"""Round two's refit question, answered on validation: would the deployed student gain from all 60,000 images?

A refit (the same student, recipe and 28 epochs on training + validation images) cannot be judged on validation: it
has seen those images. So the question is asked of a *learning curve* instead. The student's recipe is rerun on
stratified subsets of the training split (:data:`config.LEARNING_CURVE_SIZES`, same seed, same epochs, the teacher's
outputs on those images), each scored on the full validation split, and the saved student gives the point at 50,000.
A power law ``error = a · n^-b`` through the points (least squares in log–log) predicts the validation error at
60,000 images; the predicted gain is the refit's expected effect.

The rule, fixed before the runs (:data:`config.REFIT_RULE`): refit only when the predicted gain is at least the
round-one seed spread at the same budget, the smallest effect one run can show. A refit also has a price that the
gain must pay for: the refitted model has seen the validation split, so its temperature, notebook 06's rejection rule
and every later check would rest on outputs of another model (the selection run's).

Everything else is the student's recipe, counted in epochs (28) and steps of the moving average (momentum 0.999):
a smaller subset takes fewer steps per epoch, so its average spans more of the schedule's last epochs.

The runs are study runs: their validation scores, histories and times are kept in
:data:`config.LEARNING_CURVE_JSON`, not their weights (the test split is never scored).
"""

from __future__ import annotations

import numpy as np

from helpers.studies.best_model import config, proxy

#: The student whose refit is in question (the deployed model of round two).
STUDENT = "fashion_vgg_bn_kd_w48"


def saved_runs(path=None) -> dict:
    """``{n: run}`` from the results file (empty when no run is saved)."""
    return {int(k): v for k, v in proxy.saved_runs(path or config.LEARNING_CURVE_JSON).items()}


def run(n: int, retrain: bool = False, path=None, **kw) -> dict:
    """Train the student's recipe on ``n`` training images (or load the saved run); returns the run's record:
    training size, validation accuracy and loss, per-epoch validation accuracy, seconds. ``kw`` go to
    :func:`proxy.train` (``data``, ``mixed_precision``; tests: ``task``, ``architecture``, ``hparams`` and recipe
    overrides)."""
    return proxy.train(str(n), STUDENT, n, path or config.LEARNING_CURVE_JSON, header={"student": STUDENT},
                       retrain=retrain, **kw)


def points(path=None):
    """The learning curve as a frame indexed by training size: the saved subset runs and the saved student."""
    import pandas as pd

    from helpers.models import weights_store

    rec = weights_store.load_record(STUDENT)
    full = {"train_size": rec["training"]["train_size"], "val_accuracy": rec["metrics"]["val"]["accuracy"],
            "val_loss": rec["metrics"]["val"]["loss"], "seconds": rec["training"]["seconds"]}
    rows = [*saved_runs(path).values(), full]
    cols = ["train_size", "val_accuracy", "val_loss", "seconds"]
    return pd.DataFrame([{c: r[c] for c in cols} for r in rows]).set_index("train_size").sort_index()


def power_law(sizes, errors) -> tuple:
    """``(a, b)`` of ``error = a · n^-b``, fitted by least squares on ``log error`` against ``log n``."""
    slope, intercept = np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(errors, float)), 1)
    return float(np.exp(intercept)), float(-slope)


def verdict(curve=None, refit_size: int = 60_000, noise_points: float | None = None) -> dict:
    """The refit decision from the learning curve: the power law, the predicted validation accuracy at
    ``refit_size`` images and its gain over the full-size point (points), the same prediction from the two largest
    sizes only (the local slope), the noise it is judged against, and ``refit`` (bool) by :data:`config.REFIT_RULE`.
    ``noise_points`` defaults to round one's seed spread at the student's budget (``round_two.COMPARISONS``)."""
    from helpers.studies.best_model import round_two

    curve = points() if curve is None else curve
    if len(curve) < 2:
        raise ValueError("the learning curve needs at least two training sizes: run python -m helpers.best_model curve")
    if noise_points is None:
        noise_points = round_two.seed_spread(STUDENT)
    sizes, err = curve.index.to_numpy(), 1 - curve["val_accuracy"].to_numpy()
    a, b = power_law(sizes, err)
    a2, b2 = power_law(sizes[-2:], err[-2:])
    full = int(sizes[-1])
    gain = (err[-1] - a * refit_size ** -b) * 100
    local = (err[-1] - a2 * refit_size ** -b2) * 100
    return {"sizes": [int(s) for s in sizes], "a": a, "b": b, "b_local": b2, "full_size": full, "refit_size": refit_size,
            "predicted_val_accuracy": 1 - a * refit_size ** -b, "predicted_gain_points": gain,
            "local_gain_points": local, "noise_points": noise_points,
            "refit": bool(min(gain, local) >= noise_points)}
