"""What notebook 08 and the flower report say beyond their tables, computed from the saved results: the speed-ups,
the exploratory runs, the verdicts against noise, the ranges left open at their edge, and the history of what was
decided after a test score was seen. The sentences are written here once, so the notebook and the report agree,
in one number format (:func:`pct`, :func:`num`, :func:`count`, ...)."""

from __future__ import annotations

import numpy as np

from helpers.studies.flowers import config
from helpers.studies.flowers.evidence import accuracy_interval, compare_seeds
# the run selectors, read here by the notebook and report
from helpers.studies.flowers.runs import depth_runs, exploratory_runs, run_key, setting_runs, study_runs, summary  # noqa: F401
from helpers.studies.flowers.wording import (  # noqa: F401  (one number format, read here by the notebook and report)
    MINUS,
    NBSP,
    count,
    interval,
    listing,
    num,
    p_value,
    pct,
    points,
    seconds,
    signed,
    times,
    with_interval,
)


# --- speed -------------------------------------------------------------------------------------------------------

def speed_facts(runs: dict, speed: dict | None = None) -> dict | None:
    """The accelerated version's speed-up, from the paired runs (same settings and seed, standard and accelerated).

    Per epoch (epochs 2.., the first one traces the graph): each pair's ratio, and their range. End to end (with
    ``speed``, the benchmark's results, for the one-off feature pass): one whole run, standard against feature pass +
    accelerated run, over the pairs; and task 10's accelerated runs against the standard time they would have taken
    (their epochs at the pairs' median standard seconds per epoch). ``None`` without pairs.
    """
    pairs = []
    for r in study_runs(runs, "standard"):
        a = runs.get(run_key("accelerated", r["learning_rate"], r["momentum"], r["seed"], r["epochs"], r["batch_size"]))
        if a:
            s, t = np.asarray(r["history"]["epoch_seconds"]), np.asarray(a["history"]["epoch_seconds"])
            pairs.append({"learning_rate": r["learning_rate"], "momentum": r["momentum"], "epochs": len(s),
                          "standard_epoch_s": float(s[1:].mean()), "accelerated_epoch_s": float(t[1:].mean()),
                          "per_epoch": float(s[1:].mean() / t[1:].mean()), "standard_s": float(s.sum()),
                          "accelerated_s": float(t.sum())})
    if not pairs:
        return None
    ratios = [p["per_epoch"] for p in pairs]
    out = {"pairs": pairs, "per_epoch_low": min(ratios), "per_epoch_high": max(ratios),
           "per_epoch_median": float(np.median(ratios)), "feature_pass_s": None}
    if speed:
        fp = float(speed["feature_pass_seconds"])
        whole = [p["standard_s"] / (fp + p["accelerated_s"]) for p in pairs]
        task10 = study_runs(runs, "accelerated")
        epochs = sum(len(r["history"]["epoch_seconds"]) for r in task10)
        acc_s = fp + sum(float(np.sum(r["history"]["epoch_seconds"])) for r in task10)
        std_s = epochs * float(np.median([p["standard_s"] / p["epochs"] for p in pairs]))
        out.update(feature_pass_s=fp, run_low=min(whole), run_high=max(whole), task10_runs=len(task10),
                   task10_epochs=epochs, task10_accelerated_s=acc_s, task10_standard_s=std_s,
                   task10_ratio=std_s / acc_s, idle_standard_s=float(speed["seconds_per_epoch"]["standard"]),
                   idle_accelerated_s=float(speed["seconds_per_epoch"]["accelerated"]))
    return out


def speed_sentence(facts: dict) -> str:
    """The speed-up in words: the range over the paired runs, and end to end with the feature pass."""
    text = (f"Per epoch, accelerated training was {num(facts['per_epoch_low'], 0)}–{times(facts['per_epoch_high'])} "
            f"faster over the {len(facts['pairs'])} paired runs (median {times(facts['per_epoch_median'])}; the "
            "machine was not always idle).")
    if facts["feature_pass_s"] is not None:
        text += (f" End to end, counting the one-off feature pass of {seconds(facts['feature_pass_s'])}, one "
                 f"{facts['pairs'][0]['epochs']}-epoch run is {num(facts['run_low'], 1)}–{num(facts['run_high'], 1)}× "
                 f"faster, and task 10's {facts['task10_runs']} runs ({count(facts['task10_epochs'])} epochs) took "
                 f"{seconds(facts['task10_accelerated_s'])} where standard training would have taken about "
                 f"{seconds(facts['task10_standard_s'])} ({times(facts['task10_ratio'])}).")
    return text


# --- verdicts against noise --------------------------------------------------------------------------------------

VERDICT_WORDS = {"better": "a clear difference", "worse": "a clear difference", "within noise": "within noise"}


def study_verdicts(runs: dict, rec: dict, n_val: int) -> dict:
    """The SGD study's comparisons at the study's side (accelerated runs, every seed): the best learning rate
    against the others, and momentum 0 against each momentum, as :func:`compare_seeds` judges them.
    Returns ``{"learning_rate": [{"value", **verdict}], "momentum": [...]}`` (``value``: the other setting)."""
    acc = study_runs(runs, "accelerated")
    lr, m = rec["learning_rate"], rec["momentum"]
    base = setting_runs(acc, lr, m)
    others_lr = sorted({r["learning_rate"] for r in acc if r["momentum"] == 0.0} - {lr})
    others_m = sorted({r["momentum"] for r in acc if r["learning_rate"] == lr} - {m})
    return {"learning_rate": [{"value": v, **compare_seeds(base, setting_runs(acc, v, 0.0), n_val)} for v in others_lr],
            "momentum": [{"value": v, **compare_seeds(base, setting_runs(acc, lr, v), n_val)} for v in others_m]}


def learning_rate_sentence(verdicts: dict, rec: dict) -> str:
    """What the learning rates' verdicts say about the recommended one."""
    groups = {}
    for v in verdicts["learning_rate"]:
        groups.setdefault(v["verdict"], []).append(v["value"])
    words = {"worse": "clearly worse than", "better": "clearly better than", "within noise": "within noise of"}
    parts = [f"learning rate{'s' if len(vals) > 1 else ''} {listing(vals)} {'are' if len(vals) > 1 else 'is'} "
             f"{words[verdict]} {rec['learning_rate']:g}" for verdict, vals in groups.items()]
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if parts else ""


def momentum_sentence(verdicts: dict, rec: dict) -> str:
    """What the momenta's verdicts say about the recommended momentum (a tie is called a tie)."""
    ties = [v["value"] for v in verdicts["momentum"] if v["verdict"] == "within noise"]
    beats = [v["value"] for v in verdicts["momentum"] if v["verdict"] == "better"]
    text = ""
    if ties:
        text += (f"Momentum {listing(ties)} {'ties' if len(ties) == 1 else 'tie'} with momentum {rec['momentum']:g}: "
                 "the difference of their mean best validation losses is within noise (within the seeds' spread), so momentum "
                 f"{rec['momentum']:g} is recommended as the lower mean of a tie, not as a measured win.")
    if beats:
        text += f" Momentum {listing(beats)} {'is' if len(beats) == 1 else 'are'} clearly better than {rec['momentum']:g}."
    lost = [v["value"] for v in verdicts["momentum"] if v["verdict"] == "worse"]
    if lost:
        text += (f" Momentum {listing(lost)} {'is' if len(lost) == 1 else 'are'} clearly worse (higher validation loss over "
                 f"{verdicts['momentum'][0]['seeds']} seeds).")
    return text.strip()


def tail_of(record: dict) -> str:
    """The first trained layer of a saved flower model (see :data:`TAILS`)."""
    hp = record["hparams"]
    return hp.get("unfrozen_from") or ("Conv_1" if hp.get("unfrozen") else "head")


def model_verdicts(runs: dict, records: dict, rec: dict) -> dict:
    """Each fine-tuned saved model against the recommended one on validation (:func:`fine_tuning_verdict`), with
    the seeds that support it where the study has them: the recommended settings' runs at the final side (the size
    check) against the depth study's runs of the model's depth with mirror images. The last-two-layer model's own
    recipe (from the recommended head, no mirror images) was run with one seed only. Returns ``{name: verdict}``."""
    from helpers.studies.flowers.final_models import fine_tuning_verdict

    base = records[config.RECOMMENDED]
    size, n_val = int(base["hparams"]["image_size"]), int(base["metrics"]["val"]["n"])
    recipe = setting_runs(study_runs(runs, "accelerated", size), rec["learning_rate"], rec["momentum"])
    out = {}
    for name in (config.FINE_TUNED, *config.DEEP_MODELS):
        if name not in records:
            continue
        seeds = ([r for r in depth_runs(runs, base) if r.get("mirror") and r.get("tail", "head") == tail_of(records[name])]
                 if name in config.DEEP_MODELS else [])
        out[name] = fine_tuning_verdict(base, records[name], compare_seeds(recipe, seeds, n_val) if seeds and recipe else None)
    return out


def depth_verdicts(runs: list[dict], n_val: int) -> dict:
    """The depth study's verdicts against noise (:func:`compare_seeds`): the chosen depth (:func:`deep_choice`)
    against the head alone and against the runner-up (both with mirror images), and with against without mirror
    images at the depth run both ways. ``runs``: the depth study's runs. Returns ``{"choice", "runner_up",
    "against_head", "against_runner_up", "mirror_tail", "mirror"}`` (a verdict ``None`` where its runs are missing)."""
    from helpers.studies.flowers.final_models import deep_choice

    choice = deep_choice(runs)["tail"]
    table = summary([r for r in runs if r.get("mirror")]).sort_values("val_loss_mean")
    runner_up = str(table.iloc[1]["tail"]) if len(table) > 1 else None
    mirror_tail = next((str(r["tail"]) for r in runs if not r.get("mirror") and "tail" in r), choice)

    def of(tail, mirror):
        return [r for r in runs if r.get("tail", "head") == tail and bool(r.get("mirror")) == mirror]

    def versus(base):
        return compare_seeds(base, of(choice, True), n_val) if base else None

    return {"choice": choice, "runner_up": runner_up,
            "against_head": versus(of("head", True)) if choice != "head" else None,
            "against_runner_up": versus(of(runner_up, True)) if runner_up else None,
            "mirror_tail": mirror_tail, "mirror": compare_seeds(of(mirror_tail, False), of(mirror_tail, True), n_val)
            if of(mirror_tail, False) else None}


def depth_sentence(verdicts: dict) -> str:
    """:func:`depth_verdicts` in words."""
    def part(v):
        word = {"better": "clearly better", "worse": "clearly worse", "within noise": "within noise"}[v["verdict"]]
        return (f"{word} (validation loss {signed(v['loss_change'])}, accuracy {points(v['accuracy_gain'])}, "
                f"{v['seeds']} seeds)")

    out = []
    if verdicts["against_head"]:
        out.append(f"Against the head alone, {verdicts['choice']} is {part(verdicts['against_head'])}.")
    if verdicts["against_runner_up"]:
        v = verdicts["against_runner_up"]
        out.append(f"Against the runner-up, {verdicts['runner_up']}, it is {part(v)}"
                   + (": the two depths tie, and the choice is the lower mean of a tie." if v["verdict"] == "within noise"
                      else "."))
    if verdicts["mirror"]:
        at = "this depth" if verdicts["mirror_tail"] == verdicts["choice"] else verdicts["mirror_tail"]
        out.append(f"Mirror images against none at {at}: {part(verdicts['mirror'])}.")
    return " ".join(out)


def second_round_sentence(result: dict, n_val: int) -> str:
    """The depth study's second round (:func:`second_round`'s ``result``) in words: the new candidate against the
    first round's choice on validation, and whether the choice moved."""
    from helpers.studies.flowers.final_models import deep_choice

    first, choice, runs = result["first"]["tail"], result["choice"]["tail"], result["runs"]
    new = [t for t in config.TAILS if t not in config.FIRST_ROUND_TAILS]

    def of(tail):
        return [r for r in runs if r.get("mirror") and r.get("tail", "head") == tail]

    out = []
    for tail in new:
        if not of(tail):
            continue
        v = compare_seeds(of(first), of(tail), n_val)
        word = {"better": "clearly better than", "worse": "clearly worse than", "within noise": "within noise of"}[v["verdict"]]
        c = deep_choice(of(tail))
        out.append(f"Training from {tail} on reaches a mean best validation loss of {num(c['val_loss_mean'])} "
                   f"(accuracy {pct(c['val_accuracy_mean'])}, median best epoch {c['epochs']} of {config.DEEP_EPOCHS}): "
                   f"{word} the first round's choice, {first} (validation loss {signed(v['loss_change'])}, accuracy "
                   f"{points(v['accuracy_gain'])}, {v['seeds']} seeds).")
    if result["moved"]:
        out.append(f"The rule (the lowest mean validation loss) now picks {choice}, so that depth is trained as "
                   f"{config.DEEPER_TUNED}, like the first deeper model" + (", although the two depths tie" if all(
                       compare_seeds(of(first), of(t), n_val)["verdict"] == "within noise" for t in new if of(t)) else "")
                   + ".")
    else:
        out.append(f"The rule (the lowest mean validation loss) keeps {first}: no new model is trained, and the depth "
                   "range is closed on validation.")
    return " ".join(out)


def verdict_sentence(name: str, verdict: dict) -> str:
    """A fine-tuned model's validation verdict in words (:func:`model_verdicts`)."""
    change = (f"changes validation accuracy by {points(verdict['val_accuracy_gain'])} and validation loss by "
              f"{signed(verdict['val_loss_change'])}")
    if verdict["seeds"] < config.MIN_SEEDS:
        return (f"Against the recommended model, {name} {change}: within noise. One seed cannot support a claim (one "
                f"standard error of a validation accuracy is {points(verdict['standard_error'])[1:]}), and this recipe "
                "was not repeated with more seeds.")
    word = {"better": "a clear help", "worse": "clearly worse", "within noise": "within noise"}[verdict["verdict"]]
    return (f"Against the recommended model, {name} {change}: {word}, as {verdict['seeds']} seeds of each recipe "
            "show on validation.")


def model_sentence(record: dict, verdict: dict) -> str:
    """A deeper model on validation (:func:`model_verdicts`'s ``verdict``) and its one test score against the goals."""
    test = record["metrics"]["test"]
    return (verdict_sentence(record["name"], verdict) + f" Its **test accuracy is {with_interval(test)}** (macro F1 "
            f"{test['macro_f1']:.3f}): {goal_verdict(test)}.")


def goal_sentence(metrics: dict) -> str:
    """A test accuracy and its 95 % interval, against the brief's target, our goal and the review's (``metrics``: a
    record's test metrics): ``93.1 % (95 % CI 90.6–95.1 %): above the brief's 90 % even at the interval's lower end; ...``."""
    return f"{with_interval(metrics)}: {goal_verdict(metrics)}"


def goal_verdict(metrics: dict) -> str:
    """:func:`goal_sentence` without its leading value and interval."""
    ci = accuracy_interval(metrics)

    def against(level, name):
        if ci["low"] > level:
            return f"above {name} even at the interval's lower end"
        if ci["high"] <= level:
            return f"below {name} even at the interval's upper end"
        side = "reaches" if ci["accuracy"] >= level else "falls short of"
        return f"its point estimate {side} {name}, but the interval holds values on both sides"

    brief, goal = "the brief's " + pct(config.TARGET, 0), "our goal of " + pct(config.GOAL, 0)
    review = "the review's goal of " + pct(config.REVIEW_GOAL, 0)
    return f"{against(config.TARGET, brief)}; {against(config.GOAL, goal)}; {against(config.REVIEW_GOAL, review)}"


# --- ranges left open at their edge ------------------------------------------------------------------------------

def at_edge(best_epoch: float, epochs: int) -> bool:
    """A best epoch in the last :data:`EDGE_SHARE` of ``epochs``: the validation optimum may lie beyond them."""
    return best_epoch >= epochs * (1 - config.EDGE_SHARE)


def open_edges(runs: dict, rec: dict, record: dict, deep: dict | None = None, probe: dict | None = None,
               closed: dict | None = None, whole: bool = False) -> list[str]:
    """The ranges that stop at their edge, each in a sentence (what was not closed): the learning rates, the input
    side, the recommended epochs at the final side, the depth, the depth study's epochs (and where the epoch probe,
    ``probe.facts`` if given, found the optimum), the deeper model's epochs. ``rec``: :func:`recommend`'s output;
    ``record``: the recommended model's; ``deep``: the deeper model's record; ``closed``: ``ranges.closes``' output
    (an edge a longer run closed is left out); ``whole``: the whole-backbone probe (``flowers.whole``) was run."""
    out, closed = [], closed or {}
    lrs = summary(study_runs(runs, "accelerated"))
    lrs = lrs[lrs["momentum"] == 0].sort_values("learning_rate")
    if len(lrs) and at_edge(lrs["best_epoch_median"].iloc[0], config.EPOCHS) and not closed.get("smallest_rate"):
        out.append(f"At the smallest learning rate, {lrs['learning_rate'].iloc[0]:g}, the median best epoch is "
                   f"{lrs['best_epoch_median'].iloc[0]:g} of {config.EPOCHS}: that rate was not run to its optimum "
                   f"(the chosen {rec['learning_rate']:g} reaches its own inside the range).")
    size = int(record["hparams"]["image_size"])
    if size == max(config.FINAL_IMAGE_SIZES):
        out.append(f"The chosen side, {size}{NBSP}px, is the largest candidate "
                   f"({listing(config.FINAL_IMAGE_SIZES)}{NBSP}px): larger sides were not tried.")
    sized = summary(setting_runs(study_runs(runs, "accelerated", size), rec["learning_rate"], rec["momentum"]))
    if len(sized) and not closed.get("final_side"):
        best = float(sized["best_epoch_median"].iloc[0])
        if best > rec["epochs"]:
            out.append(f"The recommended model trained for at most {rec['epochs']} epochs (the median best epoch at "
                       f"{rec['image_size']}{NBSP}px), but at {size}{NBSP}px the same settings reach their best validation loss "
                       f"later (median best epoch {best:g} of {config.EPOCHS}"
                       + (", itself at the edge of the epochs run" if at_edge(best, config.EPOCHS) else "") + ").")
    depth = summary([r for r in depth_runs(runs, record) if r.get("mirror")]) if depth_runs(runs, record) else None
    if depth is not None and len(depth):
        chosen = str(depth.sort_values("val_loss_mean").iloc[0]["tail"])
        if chosen == config.TAILS[-1]:
            probed = any(r.get("tail") == config.DEPTH_PROBE_TAIL for r in runs.values())
            out.append(f"The chosen depth, {chosen}, is the deepest candidate of the depth study" + (
                f"; one start deeper, {config.DEPTH_PROBE_TAIL}, was probed afterwards (the depth probe), and the " + (
                    "whole backbone with random augmentation once (the whole-backbone probe, one seed); the starts "
                    "between them were not tried." if whole else "starts deeper still, down to the whole backbone, "
                    "were not tried.") if probed else
                ": deeper starting points (down to the whole backbone) were not candidates."))
        medians = depth["best_epoch_median"]
        if medians.map(lambda e: at_edge(e, config.DEEP_EPOCHS)).all():
            out.append(f"Every depth's median best epoch is {medians.min():g}–{medians.max():g} of {config.DEEP_EPOCHS}: "
                       "the validation loss was still falling near the end, so the epoch range was not closed"
                       + ("." if not probe else
                          f"; one seed of {probe['tail']} run for {probe['epochs']} epochs " +
                          (f"has its optimum at epoch {probe['best_epoch']}, inside that range, with a validation loss "
                           f"{num(probe['short_val_loss'] - probe['val_loss'])} below its best within {config.DEEP_EPOCHS} "
                           "epochs: on that seed the shorter budget lost little." if probe["inside"] else
                           f"still has its best epoch at {probe['best_epoch']}, the edge again.")))
    if deep:
        t = deep["training"]
        if at_edge(t["best_epoch"], t["max_epochs"]):
            out.append(f"The deeper model's selection run had its best epoch at {t['best_epoch']} of {t['max_epochs']}, "
                       "its last: its loss too was still falling.")
    return out


#: What closing the open edges takes: new training, which this pass of the study does not do.
LEFT_TO_DO = ("Closing these ranges needs new training, chosen on validation: {deeper}; epoch budgets extended until "
              "every best epoch lies inside them; and every verdict on at least {seeds} seeds.")


def left_to_do(runs: dict | None = None, whole: dict | None = None) -> str:
    """:data:`LEFT_TO_DO`, with what the depth study's runs in ``runs`` (if given; and the whole-backbone probe's
    run ``whole``) cost on this team's CPU."""
    deeper = (f"the starts between {config.DEPTH_PROBE_TAIL} and the whole backbone, and the whole backbone with "
              "augmentation as a candidate (so far one probe)" if whole else
              "deeper starting points down to the whole backbone, with augmentation")
    text = LEFT_TO_DO.format(seeds=config.MIN_SEEDS, deeper=deeper)
    deep = [r for r in (runs or {}).values() if "tail" in r or r.get("mirror")] + ([whole] if whole else [])
    if deep:
        hours = sum(sum(r["history"]["epoch_seconds"]) for r in deep) / 3600
        probed = any(r["epochs"] == config.PROBE_EPOCHS and "tail" in r or r.get("tail") == config.DEPTH_PROBE_TAIL
                     for r in deep) or whole
        text += (f" The depth study's {len(deep)} runs so far{' (the probes included)' if probed else ''} took "
                 f"{num(hours, 1)} hours of training on the team's "
                 "2 CPU cores, the deepest candidates the longest: these are GPU jobs.")
    return text


# --- history: what was decided after a test score was seen ------------------------------------------------------

def _against_brief(evidence: dict | None, name: str) -> str:
    """`` On the same photos it differs from the brief's model by ... (McNemar's exact test ...).``, or nothing."""
    pair = next((q for q in (evidence or {}).get("pairs", []) if q["name"] == name), None)
    return (f" On the same photos it differs from the brief's model by {points(pair['gain'])} (McNemar's exact test "
            f"{p_value(pair['p_value'])}).") if pair else ""


def history(records: dict, evidence: dict | None = None) -> list[str]:
    """The study's history in sentences: which models were scored on test before the depth study existed, what
    was decided because of those scores, and what that means for the last score. ``records``: ``{name: record}``
    of the saved models; ``evidence``: :func:`test_evidence`'s output (for the paired test), if any."""
    first = [records[n] for n in config.SCORED_BEFORE_DEPTH_STUDY if n in records]
    if not first:
        return []
    brief = first[0]
    side = "above" if brief["metrics"]["test"]["accuracy"] > config.TARGET else "below"
    out = [(f"The brief's own model ({brief['name']}: MobileNetV2 frozen, a Dense layer for the "
            f"{len(config.CLASS_NAMES)} classes, the recommended settings) was scored once on the "
            f"{count(brief['metrics']['test']['n'])} test photos: {with_interval(brief['metrics']['test'])}, "
            f"{side} the brief's {pct(config.TARGET, 0)}. It stays the brief's answer.")]
    for r in first[1:]:
        out.append(f"Beyond the brief, {r['name']} (its last two layers fine-tuned) was scored at the same time "
                   f"(record saved {r['saved'][:16].replace('T', ' ')}, the brief's model {brief['saved'][:16].replace('T', ' ')}): "
                   f"{with_interval(r['metrics']['test'])}.")
    short = all(r["metrics"]["test"]["accuracy"] <= config.TARGET for r in first)
    deep = records.get(config.DEEP_TUNED)
    if short and deep:
        out.append(f"Only after these test scores fell short of {pct(config.TARGET, 0)} was the depth study added, "
                   f"with our goal of {pct(config.GOAL, 0)}: the decision to go further was taken on test scores. "
                   "Inside the depth study everything (the depth, the epochs, the mirror images) was chosen on "
                   "validation.")
        deep_test = deep["metrics"]["test"]
        out.append(f"{deep['name']} (record saved {deep['saved'][:16].replace('T', ' ')}) was then scored once: "
                   f"{with_interval(deep_test)}. The test photos had then scored "
                   f"{sum(n in config.SCORED_BEFORE_SECOND_ROUND for n in records)} models, and the search "
                   "went on because of the first scores, so this last score is somewhat optimistic as an estimate for "
                   "new photos; only a fresh test set would give an unbiased one. No setting was changed after it.")
        out[-1] += _against_brief(evidence, deep["name"])
    deeper = records.get(config.DEEPER_TUNED)
    if deep and deeper:
        out.append(f"A review then asked for {pct(config.REVIEW_GOAL, 0)} on test. Because {deep['name']} had "
                   f"scored {pct(deep['metrics']['test']['accuracy'])}, the depth study got a second round: one "
                   f"starting point deeper ({', '.join(t for t in config.TAILS if t not in config.FIRST_ROUND_TAILS)}), "
                   "since the first round's choice had been its deepest candidate. That range was open on "
                   "validation, but the round was run after a test score; inside it, the choice was again made on "
                   "validation.")
        out.append(f"{deeper['name']} (record saved {deeper['saved'][:16].replace('T', ' ')}) was scored once: "
                   f"{with_interval(deeper['metrics']['test'])}. The test photos have now scored {len(records)} "
                   "models, and this one exists because of an earlier score: read its test score as optimistic. "
                   "No setting was changed after it.")
        out[-1] += _against_brief(evidence, deeper["name"])
    return out
