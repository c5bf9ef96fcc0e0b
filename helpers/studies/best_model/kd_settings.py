"""Round two's distillation settings checked on validation: the temperature and the teacher's weight.

The students were trained with the common settings (:data:`experiments.KD`: temperature 2, 70 % of the loss on the
teacher), fixed before any run. A full grid at the students' budget costs an hour per setting on 2 CPU cores, so the
check runs on a *proxy budget* (:data:`config.KD_PROXY`): the width-32 student's recipe on a stratified half of the
training split for half the epochs, one seed, each setting scored on the whole validation split; one setting is
changed at a time around the one in use (:data:`config.KD_GRID`). The settings' ranking on the proxy is taken to carry
to the full budget and the wider student (a standard shortcut of low-fidelity searches; not checked).

Verdict: the setting in use is kept unless another beats it on the proxy by more than round one's seed spread (the
noise of one run at the full budget; the proxy's own noise is likely larger, so the bar is generous to a change).
The runs are kept in :data:`config.KD_SETTINGS_JSON` (validation only; the test split is not scored).
"""

from __future__ import annotations

from helpers.studies.best_model import config, proxy

#: The student whose recipe is run on the proxy budget.
STUDENT = "fashion_vgg_bn_kd"


def key(setting: dict) -> str:
    return f"T={setting['temperature']:g}, alpha={setting['alpha']:g}"


def run(setting: dict, retrain: bool = False, path=None, **kw) -> dict:
    """One setting (``{"temperature", "alpha"}``) on the proxy budget, trained or loaded; ``kw`` go to
    :func:`proxy.train` (tests: a tiny task and recipe)."""
    p = config.KD_PROXY
    return proxy.train(key(setting), STUDENT, kw.pop("train_size", p["train_size"]), path or config.KD_SETTINGS_JSON,
                       header={"student": STUDENT, "proxy": p}, retrain=retrain,
                       **{"epochs": p["epochs"], **kw, "distillation": dict(setting)})


def table(path=None):
    """One row per saved setting: temperature, teacher weight (alpha), validation accuracy and loss, CPU seconds,
    and whether it is the setting in use; best validation accuracy first."""
    import pandas as pd

    from helpers.studies.best_model import experiments

    runs = proxy.saved_runs(path or config.KD_SETTINGS_JSON)
    rows = [{"temperature": r["temperature"], "alpha": r["alpha"], "val accuracy": r["val_accuracy"],
             "val loss": r["val_loss"], "seconds": r["seconds"],
             "in use": k == key(experiments.KD)} for k, r in runs.items()]
    return pd.DataFrame(rows).sort_values(["val accuracy", "val loss"], ascending=[False, True]).reset_index(drop=True)


def verdict(frame=None, noise_points: float | None = None) -> dict:
    """The check's answer: the best setting on the proxy, the one in use, the gap (points of validation accuracy),
    the noise it is judged against (default: round one's seed spread at the students' budget) and ``keep`` (the
    setting in use stays unless the best beats it by more than the noise)."""
    from helpers.studies.best_model import round_two

    frame = table() if frame is None else frame
    if not frame["in use"].any():
        raise ValueError("the setting in use has no proxy run: run python -m helpers.best_model kd-settings")
    if noise_points is None:
        noise_points = round_two.seed_spread(STUDENT)
    best, used = frame.iloc[0], frame[frame["in use"]].iloc[0]
    gap = (best["val accuracy"] - used["val accuracy"]) * 100
    return {"best": {"temperature": float(best["temperature"]), "alpha": float(best["alpha"])},
            "in_use": {"temperature": float(used["temperature"]), "alpha": float(used["alpha"])},
            "gap_points": gap, "noise_points": noise_points, "settings": len(frame), "keep": bool(gap <= noise_points)}
