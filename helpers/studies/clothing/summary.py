"""Notebook 11's tables: the photos per class and split, the modelling runs side by side, per-class scores with
intervals, and which errors cost an offer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.studies.clothing import config


def photo_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(per class: photos in each of our splits and in all; per photo: file, class, split, width, height)``; only
    the files' headers are read."""
    from PIL import Image

    from helpers.inputs import clothing_photos

    _, rows = clothing_photos.checked_manifest()
    root = clothing_photos.dataset_dir()
    sizes = []
    for r in rows:
        with Image.open(root / r["file"]) as im:
            sizes.append(im.size)
    files = pd.DataFrame({"file": [r["file"] for r in rows], "class": [r["class"] for r in rows],
                          "split": [r["split"] for r in rows], "width": [w for w, _ in sizes],
                          "height": [h for _, h in sizes]})
    counts = files.pivot_table(index="class", columns="split", values="file", aggfunc="count", fill_value=0)
    counts = counts.reindex(index=clothing_photos.CLASS_NAMES, columns=["train", "val", "test"])
    counts["all"] = counts.sum(axis=1)
    return counts, files


def runs_table(runs: dict) -> pd.DataFrame:
    """One row per fine-tuning run: its settings, best epoch, validation accuracy with its interval (plain and with
    test-time mirroring), minutes of training on this machine."""
    rows = []
    for key, r in sorted(runs.items()):
        rows.append({"tail from": r["tail"], "augmented views": r["views"], "training images": r["train_images"],
                     "learning rate": r["learning_rate"], "epochs": r["epochs"], "best epoch": r["best_epoch"],
                     "val loss": r["history"]["val_loss"][r["best_epoch"] - 1],
                     "val accuracy": r["plain"]["val_accuracy"],
                     "95 % interval": f"{r['plain']['val_low']:.3f}–{r['plain']['val_high']:.3f}",
                     "with mirror (TTA)": r["mirror"]["val_accuracy"], "minutes": round(r["seconds"] / 60)})
    return pd.DataFrame(rows)


def per_class(y, proba, class_names) -> pd.DataFrame:
    """Per class: photos, recall with its 95 % interval, precision, and the class it is most often mistaken for."""
    from helpers.evaluation.metrics import proportion_interval

    y, pred = np.asarray(y), np.asarray(proba).argmax(1)
    rows = {}
    for i, c in enumerate(class_names):
        mine = y == i
        right = int((pred[mine] == i).sum())
        lo, hi = proportion_interval(right, int(mine.sum()))
        wrong = pred[mine & (pred != i)]
        called = int((pred == i).sum())
        top = np.bincount(wrong, minlength=len(class_names)).argmax() if len(wrong) else None
        rows[c] = {"photos": int(mine.sum()), "recall": round(right / max(mine.sum(), 1), 3), "low": round(lo, 3),
                   "high": round(hi, 3), "precision": round(int((y[pred == i] == i).sum()) / called, 3) if called else None,
                   "most often taken for": class_names[top] if top is not None else "—"}
    return pd.DataFrame(rows).T.rename_axis("class")


def offer_cost_of_errors(y, proba, class_names) -> dict:
    """The errors, split by what they cost: ``same_offer`` (both classes feed one offer, e.g. t-shirt taken for a
    longsleeve: both are tops), ``wrong_offer`` (another offer, or none) -- counts."""
    y, pred = np.asarray(y), np.asarray(proba).argmax(1)
    wrong = pred != y
    offer = np.array([config.PHOTO_OFFER[c] or c for c in class_names], dtype=object)
    same = wrong & (offer[pred] == offer[y])
    return {"errors": int(wrong.sum()), "same_offer": int(same.sum()), "wrong_offer": int((wrong & ~same).sum()),
            "photos": int(len(y))}


def _val_outputs(key: str):
    from helpers.studies.clothing import fine_tune

    with np.load(fine_tune.outputs_path(key)) as z:
        return z["y"], z["plain"]


def paired_with(runs: dict, chosen: str) -> dict:
    """Every other run against the kept one on the same validation photos (exact McNemar,
    :func:`~helpers.studies.clothing.final_model.mcnemar`): ``{run key: {"only_a", "only_b", "p_value"}}``, ``a``
    being the other run and ``b`` the kept one."""
    from helpers.studies.clothing import final_model

    y, p_chosen = _val_outputs(chosen)
    return {key: final_model.mcnemar(y, _val_outputs(key)[1], p_chosen) for key in runs if key != chosen}


def runs_verdict(runs: dict, chosen: str, paired: dict, mirror: dict, probe_accuracy: float) -> str:
    """Notebook 11's reading of the fine-tuning runs: the kept run, every other run paired against it, whether they
    can be told apart, the hypothesis about the limit, and the test-time-mirroring verdict (markdown)."""
    c = runs[chosen]
    rows = [f"- {runs[k]['tail']}, {runs[k]['views']} views, learning rate {runs[k]['learning_rate']:g}: "
            f"{runs[k]['plain']['val_accuracy']:.3f} ({m['only_b']} photos right only with the kept run, {m['only_a']} "
            f"only with this one; exact McNemar p = {m['p_value']:.2f})" for k, m in paired.items()]
    worse = [f"{runs[k]['tail']} with {runs[k]['views']} views at {runs[k]['learning_rate']:g} is worse beyond noise "
             f"(p = {m['p_value']:.2f})" for k, m in paired.items() if m["p_value"] < 0.05]
    second_pass = [r["history"]["accuracy"][1] for r in runs.values()]
    noise = ("every difference is within noise (all p ≥ 0.05): the runs cannot be told apart on "
             f"{c['val_photos']} photos, and the kept one is simply the best measured. " if not worse else
             "; ".join(worse) + f", the others are within noise of the kept run ({c['val_photos']} photos cannot tell "
             "them apart). ")
    return (f"Kept (most validation photos right): **{chosen}**: **{c['plain']['val_accuracy']:.3f}** "
            f"({c['plain']['val_right']} of {c['val_photos']}; best epoch {c['best_epoch']} of {c['epochs']}); the "
            f"linear probe: {probe_accuracy:.3f}. Against it, paired on the same photos:\n\n" + "\n".join(rows)
            + "\n\nEvery run nearly fits its training images within two passes (training accuracy after the second: "
            f"{min(second_pass):.1%} to {max(second_pass):.1%}), and the runs differ on validation by a few photos: "
            + noise + f"No run reaches the goal of {config.GOAL:.0%} on validation"
            + (" (the kept run's interval only touches it)" if c["plain"]["val_high"] >= config.GOAL else "")
            + f". Our reading, a hypothesis not yet tested: the limit is more what this network sees at "
            f"{c['image_size']} px than how long or how deep it trains"
            + (f"; but the kept run peaked at its last epoch ({c['best_epoch']} of {c['epochs']}), so a longer "
               "schedule at its learning rate is the first thing to try" if c["best_epoch"] == c["epochs"] else "")
            + f". Test-time mirroring: {mirror['only_b']} photos right only with it, {mirror['only_a']} only without "
            f"(exact McNemar p = {mirror['p_value']:.2f}): "
            + ("adopted." if mirror["adopt"] else
               "**not adopted**: it would double the serving cost for a difference within noise."))


def final_scores(model, record: dict, data: dict) -> tuple[dict, dict, list]:
    """The reloaded final model on validation and test: ``(probabilities by split, scores by split as (accuracy,
    low, high, right, photos), lines saying whether each recorded accuracy is reproduced)``."""
    from helpers.evaluation.metrics import proportion_interval
    from helpers.models import saved_models

    probs, scores, lines = {}, {}, []
    for split in ("val", "test"):
        p = probs[split] = saved_models.predict_proba(model, data[split][0], batch_size=64)
        right = int((p.argmax(1) == data[split][1]).sum())
        scores[split] = (right / len(p), *proportion_interval(right, len(p)), right, len(p))
        recorded = record["metrics"][split]["accuracy"]
        lines.append(f"{record['name']} {split}: accuracy {right / len(p):.4f} (recorded {recorded:.4f}) -> "
                     f"{'reproduced' if abs(right / len(p) - recorded) < 5e-4 else 'DIFFERENT'}")
    return probs, scores, lines


def final_verdict(record: dict, scores: dict) -> str:
    """The final model's scores against the goal, its calibration, and every earlier use of the test split
    (markdown)."""
    def part(split, name):
        acc, lo, hi, right, n = scores[split]
        return f"**{name} {acc:.3f}** ({right} of {n}; {lo:.3f}–{hi:.3f})"

    met = {s: scores[s][0] >= config.GOAL for s in scores}
    cal, earlier = record["calibration"], record["notes"].get("earlier_final_models", [])
    return (f"{part('val', 'Validation')} and {part('test', 'test')}, against the goal of {config.GOAL:.2f}: "
            + ("met on both." if all(met.values()) else
               f"{'met' if met['val'] else 'not met'} on validation, {'met' if met['test'] else 'not met'} on test.")
            + f" Temperature {cal['temperature']:.2f} (the model was over-confident): validation cross-entropy "
            f"{cal['val_nll_before']:.3f} → {cal['val_nll_after']:.3f}; the expected calibration error moves from "
            f"{cal['val_ece_before']:.3f} to {cal['val_ece_after']:.3f}, within the noise of {cal['ece_bins']} bins "
            f"over {scores['val'][4]} photos."
            + "".join(f" **The test split was used before**, for an earlier final model ({e['run']}: validation "
                      f"{e['val_accuracy']:.3f}, test {e['test_accuracy']:.3f})." for e in earlier)
            + (f" This model's test score is the split's use number {len(earlier) + 1}; every choice after the first "
               "test score was made on validation only." if earlier else ""))
