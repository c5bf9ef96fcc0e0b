"""Round two of notebook 05: the teacher, the distilled students, their controls, and the deployment decision.

Each student is compared with the networks that differ from it in one respect only: its *controls* (the same network,
recipe and budget without the teacher; for the wider student also the distilled student at round one's width), and
round one's two seeds at that budget (which also tell how far two runs of one recipe land apart: the noise an effect has to
beat). Without a lent GPU every claim rests on one run, and the
round-one seed spread at the same budget is quoted beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.models import weights_store
from helpers.studies.best_model import config
from helpers.studies.best_model.training_costs import cpu_training_seconds, inference_speeds, trained_on

#: Each student; its *controls*, the saved networks that differ from it in one respect (``{name: that respect}``;
#: empty: none was trained; one not yet saved is left out); and round one's two seeds at the same budget, whose spread
#: is the noise an effect has to beat (for the wider student they are also the width-32 network without the teacher).
COMPARISONS = {
    "fashion_vgg_bn_kd": {"controls": {"fashion_vgg_bn_ema": "no teacher"},
                          "seeds": ("fashion_vgg_bn", "fashion_vgg_bn_seed43")},
    "fashion_vgg_bn_kd_long": {"controls": {}, "seeds": ("fashion_vgg_bn_long", "fashion_vgg_bn_long_seed43")},
    "fashion_vgg_bn_kd_w48": {"controls": {"fashion_vgg_bn_ema_w48": "no teacher", "fashion_vgg_bn_kd": "width 32"},
                              "seeds": ("fashion_vgg_bn", "fashion_vgg_bn_seed43")},
}


def controls(student: str) -> dict:
    """``{control: the respect it differs in}`` for ``student``, the saved ones only."""
    return {c: d for c, d in COMPARISONS[student]["controls"].items() if weights_store.exists(c)}


def seed_spread(student: str) -> float:
    """The gap (points of validation accuracy) between round one's two seeds at ``student``'s budget: the noise one
    run carries."""
    a, b = (weights_store.load_record(n)["metrics"]["val"]["accuracy"] for n in COMPARISONS[student]["seeds"])
    return abs(a - b) * 100


def students(saved_only: bool = True) -> list[str]:
    return [s for s in COMPARISONS if not saved_only or weights_store.exists(s)]


def student_table(names=None) -> pd.DataFrame:
    """One row per network of round two and its comparisons: width (first-stage filters), epochs, teacher, weight
    averaging, where it was trained, CPU hours (measured on a CPU, or estimated for a GPU run), validation accuracy
    and loss, images/s."""
    names = names or list(dict.fromkeys(n for s in students() for n in
                                        (s, *controls(s), *COMPARISONS[s]["seeds"])))
    speeds = inference_speeds()
    rows = []
    for n in names:
        r = weights_store.load_record(n)
        t = r.get("training", {})
        seconds, how = cpu_training_seconds(n)
        rows.append({"model": n, "width": r.get("hparams", {}).get("width"), "epochs": t.get("epochs_run"), "teacher": "yes" if r.get("notes", {}).get("teacher") else "no",
                     "EMA": "yes" if t.get("ema_momentum") else "no", "trained on": trained_on(r),
                     "CPU hours": None if seconds is None else round(seconds / 3600, 2), "CPU hours are": how,
                     "val accuracy": r["metrics"]["val"]["accuracy"], "val loss": r["metrics"]["val"]["loss"],
                     "images/s (batch 512)": speeds.get(n, np.nan)})
    return pd.DataFrame(rows).set_index("model")


def effects() -> pd.DataFrame:
    """Per student: its validation accuracy against its control and against the mean of round one's two seeds, in
    points, beside the two seeds' spread; the verdict says whether the effect is larger than that spread."""
    rows = []
    for s in students():
        c = COMPARISONS[s]
        val = {n: weights_store.load_record(n)["metrics"]["val"]["accuracy"] for n in (s, *controls(s), *c["seeds"])}
        spread = seed_spread(s)
        for against, ref in ((*((f"control ({n}: {d})", val[n]) for n, d in controls(s).items()),
                              (f"round one's two seeds (mean of {' and '.join(c['seeds'])})",
                               np.mean([val[x] for x in c["seeds"]])))):
            d = (val[s] - ref) * 100
            rows.append({"student": s, "against": against, "change (points)": round(d, 2),
                         "seed spread (points)": round(spread, 2),
                         "verdict": "larger than the seed spread" if abs(d) > spread else "within the seed spread"})
    return pd.DataFrame(rows)


def candidates(round_one_deployed: str) -> pd.DataFrame:
    """Round one's deployed model and every saved network of round two (the students and their controls, which meet
    the same speed bar), as :func:`selection.deployment_choice` reads them."""
    speeds = inference_speeds()
    rows = []
    for n in dict.fromkeys([round_one_deployed, *(m for s in students() for m in (s, *controls(s)))]):
        seconds, how = cpu_training_seconds(n)
        rows.append({"name": n, "kind": "single model", "members": n,
                     "val_accuracy": weights_store.load_record(n)["metrics"]["val"]["accuracy"],
                     "images_per_s": speeds.get(n, np.nan), "cpu_training_seconds": seconds, "cpu_training": how})
    return pd.DataFrame(rows)


def teacher_summary() -> dict:
    """The teacher's members, views, validation accuracy and loss, test accuracy (scored once) and size."""
    r = weights_store.load_record(config.TEACHER)
    return {"name": config.TEACHER, "members": [m["name"] for m in r["members"]],
            "views": len(r["hparams"].get("views") or [[0, 0]]), "val_accuracy": r["metrics"]["val"]["accuracy"],
            "val_loss": r["metrics"]["val"]["loss"], "test_accuracy": r["metrics"]["test"]["accuracy"],
            "params": r["params"], "notes": r.get("notes", {})}


def decision_sentence(deployed: str, round_one: str, candidates, best_student: str, noise: float,
                      calibrated: dict | None = None) -> str:
    """Round two's decision in markdown: what the rule deploys (with its test score, scored once, and calibration
    when a student replaced round one's network), the best student's validation gain against round one's network
    beside ``noise`` (round one's seed gap, a share), and whether round two's target is met. ``candidates``: a
    table indexed by name with ``val_accuracy`` (round one's and round two's candidates)."""
    from helpers.studies.best_model.config import ROUND_TWO_TARGET

    val = candidates["val_accuracy"]
    gain = (val[best_student] - val[round_one]) * 100
    noisy = abs(gain) <= noise * 100
    test = weights_store.load_record(deployed)["metrics"]["test"]["accuracy"]
    replaced = "" if deployed == round_one else (
        f", test accuracy **{test:.4f}** (scored once), temperature {calibrated['calibration']['temperature']:.3f}, "
        f"calibration error on test {calibrated['ece']['before']:.4f} → {calibrated['ece']['after']:.4f}")
    return (f"Same rule as round one (the most accurate on validation among the candidates that meet the speed bar and "
            f"the budget): **deployed: {deployed}**" + (" — round one's network stays" if not replaced else replaced)
            + f". The best student on validation, {best_student}, reaches {val[best_student]:.4f} against "
            f"{val[round_one]:.4f} for {round_one} ({gain:+.2f} points, {'within' if noisy else 'beyond'} the "
            f"{noise * 100:.2f}-point gap between two seeds of one recipe"
            + ("; the rule takes the higher figure, but the difference is noise" if noisy else "")
            + f"); round two's target, {ROUND_TWO_TARGET:.3f} on test, " + ("is met." if test >= ROUND_TWO_TARGET else
                                                                           "is not met.")
            + " A lent GPU would run what one CPU session cannot: three seeds per claim, the temperature and weight of "
            "the distillation chosen on a grid at the students' own budget (below, a proxy budget checks the ones in "
            "use), and longer schedules.")


def retraining_sentence(name: str) -> str | None:
    """Retraining ``name`` from the saved teacher outputs: the short run's estimate (``retraining_estimate``) against
    the budget and the recorded run, in markdown; ``None`` when it was not measured."""
    from helpers.studies.best_model.config import BUDGET_SECONDS
    from helpers.studies.best_model.training_costs import retraining_estimate

    est = retraining_estimate(name)
    if est is None:
        return None
    ran_h = weights_store.training_seconds(weights_store.load_record(name)) / 3600
    return (f"Retraining {name} from the saved teacher outputs (the teacher itself is not needed): {est['epochs_run']} "
            f"epochs on an idle 2-core CPU took a median {est['seconds_per_epoch']:,.0f} s each ({est['precision']}), "
            f"so its {est['epochs']} epochs come to an **estimated {est['estimated_seconds'] / 3600:.2f} hours**, "
            + ("within" if est["estimated_seconds"] <= BUDGET_SECONDS else "**over**")
            + f" the {BUDGET_SECONDS / 3600:.0f}-hour budget (an estimate from {est['epochs_run']} epochs; the "
            f"recorded run took {ran_h:.2f} hours, part of it beside other work).")


def findings(best_student: str, student_val: float, effect_table, teacher_val: float) -> str:
    """Round two in the notebook's conclusion (markdown): the best student's validation accuracy, each of its effects
    against the seed spread (``effect_table``: :func:`effects`), and the teacher's own share of the gain."""
    mine = effect_table[effect_table["student"] == best_student]
    text = (f"**Round two** distilled the teacher ({teacher_val:.4f} on validation) into networks that meet the speed "
            f"bar. The best student, {best_student}, reaches {student_val:.4f} on validation: "
            + "; ".join(f"{r['change (points)']:+.2f} points against {r['against']}, {r['verdict']} "
                        f"({r['seed spread (points)']:.2f} points)" for _, r in mine.iterrows())
            + ". One run per claim: a lent GPU would give each effect three seeds.")
    teacher = mine[mine["against"].str.contains("no teacher")]
    if len(teacher):   # the control without the teacher: how much of the gain is distillation's
        t = teacher.iloc[0]
        text += (f"\n\nThe teacher's own share of that gain is {t['change (points)']:+.2f} points against the same "
                 "network without it: " + ("within the noise of one run, so at this budget the gain over round one "
                                           "comes from the wider network, not from distillation."
                                           if t["verdict"] == "within the seed spread" else
                                           "larger than the noise of one run."))
    return text
