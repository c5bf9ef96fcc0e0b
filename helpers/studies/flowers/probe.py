"""The probes: the epoch probe (the depth study's chosen depth run for :data:`PROBE_EPOCHS` instead of
:data:`DEEP_EPOCHS`, one seed, to find where its validation optimum lies: the depth study stopped with every best
epoch at its edge) and the depth probe (one starting point deeper, :data:`DEPTH_PROBE_TAIL`, the chosen depth was
the deepest candidate), and what notebook 08 and the flower report say about them."""

from __future__ import annotations

import numpy as np

from helpers.studies.flowers import config
from helpers.studies.flowers.final_models import deep_choice, depth_study, saved_recommendation
from helpers.studies.flowers.evidence import compare_seeds, seed_scores
from helpers.studies.flowers.runs import depth_runs, load_runs, run, run_key
from helpers.studies.flowers.story import at_edge
from helpers.studies.flowers.wording import VERDICT, count, num, pct, signed


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


def depth_probe(rec: dict | None = None, record: dict | None = None, seeds=None, retrain: bool = False, data: dict | None = None,
                backbone_weights="imagenet", **kw) -> dict:
    """:data:`DEPTH_PROBE_TAIL` trained like the depth study's candidates (mirror images, the recommended SGD
    settings ``rec``, :data:`DEEP_EPOCHS`, the recommended model's side from ``record``; defaults: those saved), once
    per seed of ``seeds`` (default :data:`SEEDS`);
    loaded when saved, unless ``retrain``. Returns ``{"tail", "runs", "reference"}``: its runs, and the depth study's
    runs of its chosen depth (every seed), the reference it is compared with (:func:`depth_facts`)."""
    rec, record = saved_recommendation(rec, record)
    size = int(record["hparams"]["image_size"])
    runs = [run("accelerated", rec["learning_rate"], rec["momentum"], seed=s, epochs=config.DEEP_EPOCHS, data=data,
                image_size=size, retrain=retrain, backbone_weights=backbone_weights, tail=config.DEPTH_PROBE_TAIL,
                mirror=True, **kw) for s in seeds or config.SEEDS]
    return {"tail": config.DEPTH_PROBE_TAIL, "runs": runs, "reference": chosen_runs(load_runs(kw.get("path")), record)}


def saved_depth_probe(runs: dict, record: dict) -> dict | None:
    """:func:`depth_probe` from the saved runs only, with the seeds of :data:`SEEDS` that are saved (``None`` when none
    is, or when the depth study's chosen depth has no run of those seeds to compare with): for the notebook and the
    report, which never train."""
    t, size = record["training"], int(record["hparams"]["image_size"])
    mine = [r for s in config.SEEDS if (r := runs.get(run_key(
        "accelerated", t["learning_rate"], (t.get("optimizer_config") or {}).get("momentum", 0.0), s, config.DEEP_EPOCHS,
        config.BATCH_SIZE, size, config.DEPTH_PROBE_TAIL, True)))]
    reference = chosen_runs(runs, record)
    if not mine or not {r["seed"] for r in mine} & {r["seed"] for r in reference}:
        return None
    return {"tail": config.DEPTH_PROBE_TAIL, "runs": mine, "reference": reference}


def chosen_runs(runs: dict, record: dict) -> list[dict]:
    study = [r for r in depth_runs(runs, record) if r.get("mirror")]
    tail = deep_choice(study)["tail"] if study else None
    return [r for r in study if r.get("tail", "head") == tail]


def depth_facts(probe: dict, n_val: int) -> dict:
    """The depth probe against the chosen depth: per seed present in both, the best validation loss and accuracy of
    each; the means over those seeds; :func:`compare_seeds`' verdict (``"within noise"`` under :data:`MIN_SEEDS`
    seeds); the probe's CPU seconds."""
    ref = {r["seed"]: r for r in probe["reference"]}
    pairs = [(r, ref[r["seed"]]) for r in probe["runs"] if r["seed"] in ref]
    mine, theirs = seed_scores([a for a, _ in pairs]), seed_scores([b for _, b in pairs])  # {seed: (loss, accuracy)}
    v = compare_seeds([b for _, b in pairs], [a for a, _ in pairs], n_val)

    def mean(scores, i):
        return float(np.mean([x[i] for x in scores.values()]))

    return {"tail": probe["tail"], "against": probe["reference"][0].get("tail", "head"), "seeds": [a["seed"] for a, _ in pairs],
            "val_loss": mean(mine, 0), "ref_val_loss": mean(theirs, 0),
            "val_accuracy": mean(mine, 1), "ref_val_accuracy": mean(theirs, 1),
            "best_epochs": [a["best_epoch"] for a, _ in pairs], "epochs": config.DEEP_EPOCHS, "verdict": v["verdict"],
            "seconds": float(sum(sum(a["history"]["epoch_seconds"]) for a, _ in pairs))}


def depth_sentence(probe: dict, n_val: int) -> str:
    """What the depth probe found, in one sentence of plain text (one seed: no verdict, a direction)."""
    f = depth_facts(probe, n_val)
    k, right = len(f["seeds"]), round((f["val_accuracy"] - f["ref_val_accuracy"]) * n_val)
    edge = at_edge(sorted(f["best_epochs"])[(k - 1) // 2], f["epochs"])
    return (f"{f['tail']} (one starting point deeper) with mirror images, {k} seed{'s' if k > 1 else ''} "
            f"({', '.join(map(str, f['seeds']))}; {num(f['seconds'] / 60, 0)} minutes on 2 CPU cores): best validation loss "
            f"{num(f['val_loss'])} against {num(f['ref_val_loss'])} for {f['against']} on the same "
            f"seed{'s' if k > 1 else ''} ({signed(f['val_loss'] - f['ref_val_loss'])}, {signed(right, 0)} "
            f"{'photo' if abs(right) == 1 else 'photos'} of the {count(n_val)} in validation), best epoch"
            f"{'s' if k > 1 else ''} {', '.join(map(str, f['best_epochs']))} of {f['epochs']}"
            + (" (at the edge: its loss was still falling)" if edge else "") + ". "
            + (f"With {k} seed{'s' if k > 1 else ''} this is a direction, not a verdict ({config.MIN_SEEDS} seeds needed); "
               "no model was trained from it." if k < config.MIN_SEEDS else
               f"Over {k} seeds the deeper start is {VERDICT[f['verdict']]} "
               f"{'of' if f['verdict'] == 'within noise' else 'than'} {f['against']} on validation"
               + (": a model from it would need training and one test score." if f["verdict"] == "better" else
                  f" within {f['epochs']} epochs" + (", but its best epochs sit at the edge of that budget, so the "
                                                     "depth range is closed for this budget only; no model was trained "
                                                     "from it." if edge else "; no model was trained from it."))))
