"""The epoch probe: the depth study's chosen depth run for :data:`PROBE_EPOCHS` instead of :data:`DEEP_EPOCHS`, one
seed, to find where its validation optimum lies (the depth study stopped with every best epoch at its edge), and
what notebook 08 and the flower report say about it."""

from __future__ import annotations

from helpers.studies.flowers import config
from helpers.studies.flowers.final_models import deep_choice, depth_study
from helpers.studies.flowers.runs import depth_runs, run, run_key
from helpers.studies.flowers.story import at_edge
from helpers.studies.flowers.wording import count, num, pct, signed


def epoch_probe(rec: dict | None = None, choice: dict | None = None, retrain: bool = False, data: dict | None = None,
                backbone_weights="imagenet", **kw) -> dict:
    """One run of the chosen depth (``choice``, default :func:`deep_choice` of the depth study) with mirror images,
    the recommended SGD settings (``rec``) and the first seed, for :data:`PROBE_EPOCHS` epochs; loaded when saved,
    unless ``retrain``. ``kw`` go to :func:`depth_study` and :func:`run` (tests: ``tails``, ``seeds``,
    ``batch_size``). Returns ``{"tail", "seed", "epochs", "short_epochs", "run", "short"}``: the probe's run and the
    depth study's run of the same depth and seed (its first :data:`DEEP_EPOCHS` epochs, made apart)."""
    runs = depth_study(rec, data=data, backbone_weights=backbone_weights, **kw)
    choice = choice or deep_choice(runs)
    short = _short_run(runs, choice["tail"])
    probe = run("accelerated", choice["learning_rate"], choice["momentum"], seed=short["seed"], epochs=config.PROBE_EPOCHS,
                data=data, image_size=short.get("image_size"), retrain=retrain, backbone_weights=backbone_weights,
                tail=choice["tail"], mirror=True, **{k: v for k, v in kw.items() if k == "batch_size"})
    return _probe(short, probe)


def _short_run(runs: list[dict], tail: str) -> dict:
    """The depth study's mirrored run of ``tail`` with the first seed: the run the probe extends."""
    return min((r for r in runs if r.get("tail", "head") == tail and r.get("mirror")), key=lambda r: r["seed"])


def _probe(short: dict, probe_run: dict) -> dict:
    return {"tail": short.get("tail", "head"), "seed": short["seed"], "epochs": config.PROBE_EPOCHS,
            "short_epochs": short["epochs"], "run": probe_run, "short": short}


def saved_probe(runs: dict, record: dict) -> dict | None:
    """The probe as :func:`epoch_probe` returns it, from the saved runs only (``None`` when it was not run): for the
    report, which never trains. ``record``: the recommended model's (its side and SGD settings)."""
    study = [r for r in depth_runs(runs, record) if r.get("mirror")]
    if not study:
        return None
    short = _short_run(study, deep_choice(study)["tail"])
    key = run_key("accelerated", short["learning_rate"], short["momentum"], short["seed"], config.PROBE_EPOCHS,
                  short["batch_size"], short["image_size"], short.get("tail", "head"), True)
    return _probe(short, runs[key]) if key in runs else None


def facts(probe: dict) -> dict:
    """The probe in numbers: its best epoch and validation loss and accuracy there; the same at the short range's
    end (the best of its first ``short_epochs`` epochs); whether those first epochs repeat the depth study's run
    (largest difference of the validation loss per epoch); whether the optimum lies inside the probe's range."""
    h, n = probe["run"]["history"], probe["short_epochs"]
    best = probe["run"]["best_epoch"]
    first = min(range(n), key=lambda i: h["val_loss"][i])
    repeat = max(abs(a - b) for a, b in zip(h["val_loss"][:n], probe["short"]["history"]["val_loss"]))
    return {"tail": probe["tail"], "seed": probe["seed"], "epochs": probe["epochs"], "short_epochs": n,
            "best_epoch": best, "val_loss": h["val_loss"][best - 1], "val_accuracy": h["val_accuracy"][best - 1],
            "short_best_epoch": first + 1, "short_val_loss": h["val_loss"][first],
            "short_val_accuracy": h["val_accuracy"][first], "repeat_gap": repeat,
            "inside": not at_edge(best, probe["epochs"]), "seconds": sum(h["epoch_seconds"])}


def sentence(probe: dict, n_val: int) -> str:
    """What the probe found, in one paragraph of plain text (the notebook and the report add their own heading): where
    the optimum lies, and what the longer range gains on validation (one seed: no verdict)."""
    f = facts(probe)
    right = round((f["val_accuracy"] - f["short_val_accuracy"]) * n_val)
    where = (f"its best validation loss comes at epoch {f['best_epoch']} of {f['epochs']}, inside the range"
             if f["inside"] else f"its best epoch is {f['best_epoch']} of {f['epochs']}: the optimum is still at the edge")
    same = ("its first {n} epochs repeat the depth study's run (same seed, same batches)" if f["repeat_gap"] < 1e-3 else
            "its first {n} epochs differ from the depth study's run by up to {g} in validation loss (floating-point "
            "order on this CPU)").format(n=f["short_epochs"], g=num(f["repeat_gap"]))
    return (f"{f['tail']} with mirror images, seed {f['seed']}, run for {f['epochs']} epochs instead "
            f"of {f['short_epochs']} ({num(f['seconds'] / 60, 0)} minutes on 2 CPU cores); {same}. {where[0].upper()}{where[1:]}: "
            f"validation loss {num(f['val_loss'])} and accuracy {pct(f['val_accuracy'])} against {num(f['short_val_loss'])} "
            f"and {pct(f['short_val_accuracy'])} within {f['short_epochs']} epochs ({signed(f['val_loss'] - f['short_val_loss'])} "
            f"in loss, {signed(right, 0)} {'photo' if abs(right) == 1 else 'photos'} right of the {count(n_val)} in "
            f"validation). One seed places the optimum; whether the longer budget helps is a claim for "
            f"{config.MIN_SEEDS} seeds, and the saved models were trained with the shorter one.")
