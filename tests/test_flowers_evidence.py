"""The flower study's evidence against noise and what its notebook and report say, on tiny synthetic runs and records:
verdicts that need several seeds, intervals, McNemar's test on saved predictions, speed-ups, open edges, history."""

import json

import numpy as np
import pytest

from helpers.core.errors import HelpersError
from helpers.studies import flowers
from helpers.studies.flowers import evidence, story


def fake_run(seed, best_loss, best_acc, lr=0.01, momentum=0.0, epochs=5, best_epoch=3, mode="accelerated", size=None,
             seconds=0.2, **extra):
    """A run record whose validation loss is lowest (``best_loss``) at ``best_epoch``."""
    val_loss = [best_loss + 0.1 * abs(e - best_epoch) for e in range(1, epochs + 1)]
    val_acc = [best_acc - 0.01 * abs(e - best_epoch) for e in range(1, epochs + 1)]
    return {"mode": mode, "learning_rate": lr, "momentum": momentum, "seed": seed, "epochs": epochs, "batch_size": 32,
            **({"image_size": size} if size else {}), **extra,
            "history": {"val_loss": val_loss, "val_accuracy": val_acc, "loss": val_loss, "accuracy": val_acc,
                        "epoch_seconds": [seconds * 5] + [seconds] * (epochs - 1)},
            "best_epoch": best_epoch}


def test_compare_seeds_needs_three_seeds_and_a_gap_beyond_the_spread():
    base = [fake_run(s, 0.40 + d, 0.85 + d / 10) for s, d in zip((1, 2, 3), (0.00, 0.01, -0.01))]
    far = [fake_run(s, 0.30 + d, 0.90 + d / 10) for s, d in zip((1, 2, 3), (0.00, 0.01, -0.01))]
    near = [fake_run(s, 0.40 + d, 0.851) for s, d in zip((1, 2, 3), (0.005, -0.005, 0.0))]
    v = evidence.compare_seeds(base, far, n_val=500)
    assert v["verdict"] == "better" and v["seeds"] == 3
    assert v["loss_change"] == pytest.approx(-0.10) and v["accuracy_gain"] == pytest.approx(0.05)
    assert evidence.compare_seeds(far, base, n_val=500)["verdict"] == "worse"
    assert evidence.compare_seeds(base, near, n_val=500)["verdict"] == "within noise"      # a tie
    assert evidence.compare_seeds(base[:1], far[:1], n_val=500)["verdict"] == "within noise"  # one seed: never a claim
    assert evidence.compare_seeds(base[:2], far[:2], n_val=500)["verdict"] == "within noise"  # two: still too few
    small = [fake_run(s, 0.30 + d, 0.855 + d / 100) for s, d in zip((1, 2, 3), (0.00, 0.01, -0.01))]
    assert evidence.compare_seeds(base, small, n_val=500)["verdict"] == "within noise"  # lower loss, gain under the bar


def test_accuracy_bar_is_at_least_one_standard_error():
    assert evidence.standard_error(0.885, 496) == pytest.approx(np.sqrt(0.885 * 0.115 / 496))
    assert evidence.accuracy_bar(0.885, 496) == pytest.approx(0.0143, abs=1e-4)
    assert evidence.accuracy_bar(0.885, 496) > flowers.CLEAR_GAIN
    assert evidence.accuracy_bar(0.999, 10_000) == flowers.CLEAR_GAIN


def test_fine_tuning_verdict_is_within_noise_without_seeds():
    rec = {"metrics": {"val": {"accuracy": 0.885, "loss": 0.34, "n": 496}}}
    tuned = {"metrics": {"val": {"accuracy": 0.901, "loss": 0.29, "n": 496}}}
    v = flowers.fine_tuning_verdict(rec, tuned)
    assert v["verdict"] == "within noise" and not v["clear"] and v["seeds"] == 1
    assert v["val_accuracy_gain"] == pytest.approx(0.016) and v["bar"] > v["standard_error"] - 1e-12
    support = {"verdict": "better", "seeds": 3}
    assert flowers.fine_tuning_verdict(rec, tuned, support)["clear"]
    worse = {"metrics": {"val": {"accuracy": 0.88, "loss": 0.35, "n": 496}}}
    assert flowers.fine_tuning_verdict(rec, worse, support)["verdict"] == "within noise"  # the pair disagrees


def test_accuracy_interval_is_wilson_and_counts_photos():
    ci = flowers.accuracy_interval({"accuracy": 0.870968, "n": 496})
    assert ci["correct"] == 432 and ci["n"] == 496 and ci["accuracy"] == pytest.approx(432 / 496)
    assert ci["low"] == pytest.approx(0.8386, abs=1e-4) and ci["high"] == pytest.approx(0.8976, abs=1e-4)


def test_test_evidence_pairs_models_on_the_same_photos(tmp_path):
    y = np.array([0, 1, 2, 3, 4] * 8)
    base = y.copy(); base[:10] = (y[:10] + 1) % 5                    # 10 wrong
    other = y.copy(); other[:2] = (y[:2] + 1) % 5                    # 2 wrong, a subset of base's
    preds = {"labels": y.tolist(), "models": {"a": {"sha256": "x", "pred": base.tolist()},
                                             "b": {"sha256": "y", "pred": other.tolist()}}}
    records = {name: {"sha256": sha, "metrics": {"test": {"accuracy": acc, "n": 40}}}
               for name, sha, acc in (("a", "x", 0.75), ("b", "y", 0.95))}
    out = flowers.test_evidence(preds, records, base="a")
    assert [m["correct"] for m in out["models"]] == [30, 38]
    pair = out["pairs"][0]
    assert (pair["only_base"], pair["only_other"]) == (0, 8) and pair["p_value"] == pytest.approx(2 * 0.5 ** 8)
    assert pair["significant"] and pair["gain"] == pytest.approx(0.2)
    with pytest.raises(HelpersError, match="stale"):
        flowers.test_evidence(preds, {**records, "b": {**records["b"], "sha256": "other"}}, base="a")
    with pytest.raises(HelpersError, match="recorded test accuracy"):
        flowers.test_evidence(preds, {**records, "b": {**records["b"], "metrics": {"test": {"accuracy": 0.9, "n": 40}}}},
                              base="a")


def test_one_number_format():
    assert story.num(1234.5, 1) == "1,234.5" and story.num(-0.0514) == "\u22120.051" and story.num(0.53) == "0.530"
    assert story.signed(0.016) == "+0.016" and story.signed(-0.051) == "\u22120.051"
    assert story.count(418565) == "418,565" and story.pct(0.870968) == "87.1\u00a0%"
    assert story.points(0.0161) == "+1.6\u00a0points" and story.interval(0.8386, 0.8976) == "83.9–89.8\u00a0%"
    assert story.p_value(0.0783) == "p = 0.078" and story.p_value(2e-5) == "p < 0.001"
    assert story.listing([0.9, 0.99]) == "0.9 and 0.99" and story.listing([0.001, 0.01, 0.1]) == "0.001, 0.01 and 0.1"


def test_goal_verdict_reads_the_interval():
    below = story.goal_verdict({"accuracy": 432 / 496, "n": 496})
    assert "below the brief's 90" in below and "upper end" in below
    above = story.goal_verdict({"accuracy": 462 / 496, "n": 496})
    assert "above the brief's 90" in above and "lower end" in above and "both sides" in above  # 93 % inside the interval
    assert above.endswith("falls short of the review's goal of 95\u00a0%, but the interval holds values on both sides")


def test_speed_facts_give_the_range_over_paired_runs_and_the_end_to_end_figure():
    runs = {}
    for lr, std_s in ((0.001, 30.0), (0.01, 20.0)):
        for mode, secs in (("standard", std_s), ("accelerated", 0.2)):
            r = fake_run(42, 0.4, 0.85, lr=lr, epochs=15, mode=mode, seconds=secs)
            runs[flowers.run_key(mode, lr, 0.0, 42, 15, 32)] = r
    facts = story.speed_facts(runs, {"feature_pass_seconds": 100.0, "seconds_per_epoch": {"standard": 25.0,
                                                                                         "accelerated": 0.1}})
    assert facts["per_epoch_low"] == pytest.approx(100) and facts["per_epoch_high"] == pytest.approx(150)
    assert facts["run_high"] == pytest.approx(30 * 19 / (100 + 0.2 * 19))       # the feature pass counted
    assert facts["task10_runs"] == 2 and facts["task10_epochs"] == 30
    text = story.speed_sentence(facts)
    assert "100–150×" in text and "feature pass of 100\u00a0s" in text
    assert story.speed_facts({}, None) is None


def test_open_edges_and_exploratory_runs():
    runs = {f"r{i}": r for i, r in enumerate([
        *(fake_run(s, 0.5, 0.8, lr=0.001, epochs=15, best_epoch=15) for s in (42, 43, 44)),
        *(fake_run(s, 0.4, 0.85, lr=0.01, epochs=15, best_epoch=12) for s in (42, 43, 44)),
        *(fake_run(s, 0.34, 0.88, lr=0.01, epochs=15, best_epoch=14, size=224) for s in (42, 43, 44)),
        fake_run(42, 0.32, 0.89, lr=0.01, momentum=0.5, epochs=15, best_epoch=13, size=224),
        *(fake_run(s, 0.23, 0.93, epochs=20, best_epoch=19, size=224, tail="block_13_expand", mirror=True) for s in (42, 43)),
        *(fake_run(s, 0.31, 0.89, epochs=20, best_epoch=18, size=224, mirror=True) for s in (42, 43)),
        *(fake_run(s, 0.22, 0.93, epochs=20, best_epoch=19, size=224, tail="block_10_expand", mirror=True) for s in (42, 43)),
    ])}
    record = {"hparams": {"image_size": 224}, "training": {"learning_rate": 0.01, "optimizer_config": {"momentum": 0.0}}}
    rec = {"learning_rate": 0.01, "momentum": 0.0, "epochs": 12, "image_size": 160}
    deep = {"training": {"best_epoch": 19, "max_epochs": 19}}
    edges = " ".join(story.open_edges(runs, rec, record, deep))
    assert "0.001, the median best epoch is 15 of 15" in edges
    assert "at most 12 epochs" in edges and "median best epoch 14 of 15" in edges
    assert "block_10_expand, is the deepest candidate" in edges and "18–19 of 20" in edges and "19 of 19" in edges
    assert "was not closed." in edges and "epochs has its optimum" not in edges         # no probe: nothing said of one
    probe = {"tail": "block_10_expand", "epochs": 40, "best_epoch": 27, "inside": True, "val_loss": 0.2,
             "short_val_loss": 0.21}
    edges = " ".join(story.open_edges(runs, rec, record, deep, probe))
    assert ("one seed of block_10_expand run for 40 epochs has its optimum at epoch 27, inside that range, with a "
            "validation loss 0.010 below its best within 20 epochs") in edges
    edges = " ".join(story.open_edges(runs, rec, record, deep, {**probe, "best_epoch": 39, "inside": False}))
    assert "still has its best epoch at 39, the edge again" in edges
    assert "The depth study's 6 runs so far took" in story.left_to_do(runs)
    runs["probe"] = fake_run(42, 0.2, 0.94, epochs=flowers.PROBE_EPOCHS, best_epoch=30, size=224, tail="block_10_expand",
                             mirror=True)
    assert "The depth study's 7 runs so far (the probes included) took" in story.left_to_do(runs)
    whole = fake_run(42, 0.25, 0.92, epochs=20, best_epoch=20, size=224, tail="Conv1")
    assert "The depth study's 8 runs so far (the probes included) took" in story.left_to_do(runs, whole)
    assert "the whole backbone with augmentation as a candidate (so far one probe)" in story.left_to_do(runs, whole)
    assert "deeper starting points down to the whole backbone, with augmentation" in story.left_to_do(runs)
    runs["deeper"] = fake_run(42, 0.24, 0.93, epochs=20, best_epoch=19, size=224, tail=flowers.DEPTH_PROBE_TAIL, mirror=True)
    edges = " ".join(story.open_edges(runs, rec, record, deep))
    assert "was probed afterwards (the depth probe), and the starts deeper still, down to the whole backbone" in edges
    edges = " ".join(story.open_edges(runs, rec, record, deep, whole=True))
    assert ("and the whole backbone with random augmentation once (the whole-backbone probe, one seed); the starts "
            "between them were not tried.") in edges
    del runs["probe"], runs["deeper"]
    rows = story.exploratory_runs(runs)
    assert [(r["learning_rate"], r["momentum"]) for r in rows] == [(0.01, 0.0), (0.01, 0.5)]
    assert all(r["image_size"] == 224 for r in rows)
    verdicts = story.study_verdicts(runs, rec, n_val=500)
    assert [v["value"] for v in verdicts["learning_rate"]] == [0.001]
    assert "0.001 is clearly worse than 0.01" in story.learning_rate_sentence(verdicts, rec)


def test_history_says_what_was_decided_after_a_test_score():
    def record(name, acc, saved):
        return {"name": name, "saved": saved, "metrics": {"test": {"accuracy": acc, "n": 496}}}

    records = {flowers.RECOMMENDED: record(flowers.RECOMMENDED, 432 / 496, "2026-11-26T09:00:37Z"),
               flowers.FINE_TUNED: record(flowers.FINE_TUNED, 441 / 496, "2026-11-26T09:02:05Z"),
               flowers.DEEP_TUNED: record(flowers.DEEP_TUNED, 462 / 496, "2026-11-26T23:26:21Z")}
    text = " ".join(story.history(records))
    assert "stays the brief's answer" in text and "87.1\u00a0% (95\u00a0% CI 83.9–89.8\u00a0%)" in text
    assert "Only after these test scores fell short of 90\u00a0%" in text and "taken on test scores" in text
    assert "somewhat optimistic" in text and "3 models" in text and "McNemar" not in text
    evidence_ = {"pairs": [{"name": flowers.DEEP_TUNED, "gain": 30 / 496, "p_value": 2e-5}]}
    assert "+6.0\u00a0points (McNemar's exact test p < 0.001)" in story.history(records, evidence_)[-1]
    assert story.history({}) == []
    records[flowers.DEEPER_TUNED] = record(flowers.DEEPER_TUNED, 465 / 496, "2026-12-02T01:00:00Z")
    lines = story.history(records, {"pairs": [{"name": flowers.DEEPER_TUNED, "gain": 33 / 496, "p_value": 1e-6}]})
    assert "had then scored 3 models" in " ".join(lines) and "block_10_expand" in lines[-2]
    assert "run after a test score" in lines[-2] and "scored 4 models" in lines[-1] and "McNemar" in lines[-1]


def test_the_second_round_moves_the_choice_only_when_validation_says_so():
    def runs(tail, losses):
        return [{**fake_run(seed, loss, 0.93, epochs=20, best_epoch=19, size=224), "tail": tail, "mirror": True}
                for seed, loss in zip((42, 43, 44), losses)]

    first = runs("block_13_expand", (0.21, 0.23, 0.24))
    for losses, moved in (((0.20, 0.22, 0.23), True), ((0.22, 0.24, 0.25), False)):
        new = runs("block_10_expand", losses)
        both = first + new
        result = {"runs": both, "first": flowers.deep_choice(both, tails=flowers.FIRST_ROUND_TAILS),
                  "choice": flowers.deep_choice(both)}
        result["moved"] = result["choice"]["tail"] != result["first"]["tail"]
        assert result["moved"] is moved and result["first"]["tail"] == "block_13_expand"
        text = story.second_round_sentence(result, n_val=496)
        assert "within noise of the first round's choice, block_13_expand" in text
        assert (flowers.DEEPER_TUNED in text and "the two depths tie" in text) if moved else "no new model" in text


def test_test_predictions_are_keyed_to_the_weights(tmp_path, monkeypatch):
    """Saved predictions are reused while the weights are the same, and made again when they change."""
    calls = []
    monkeypatch.setattr(evidence, "test_photos", lambda: (["a.jpg", "b.jpg"], [0, 1]))
    from helpers.models import saved_models, weights_store

    sha = {"m": "1"}
    monkeypatch.setattr(weights_store, "load_record", lambda name: {"sha256": sha[name], "input_shape": [8, 8, 3]})

    class Model:
        pass

    def load(name):
        calls.append(name)
        return Model(), {"sha256": sha[name], "input_shape": [8, 8, 3]}

    monkeypatch.setattr(saved_models, "load", load)
    monkeypatch.setattr(saved_models, "predict_proba", lambda model, x: np.array([[0.9, 0.1], [0.2, 0.8]]))
    from helpers.inputs import flower_photos as photos

    monkeypatch.setattr(photos, "load_splits", lambda shape: {"test": (np.zeros((2, 8, 8, 3)), np.array([0, 1]))})
    path = tmp_path / "preds.json"
    out = flowers.test_predictions(["m"], path=path)
    assert out["models"]["m"] == {"sha256": "1", "pred": [0, 1]} and calls == ["m"]
    assert json.loads(path.read_text())["files"] == ["a.jpg", "b.jpg"]
    flowers.test_predictions(["m"], path=path)
    assert calls == ["m"]                                            # read back, not predicted again
    sha["m"] = "2"
    flowers.test_predictions(["m"], path=path)
    assert calls == ["m", "m"]                                       # new weights: new predictions
    assert flowers.load_predictions(path)["models"]["m"]["sha256"] == "2"


def test_the_deployed_flower_model_is_the_best_on_validation_and_a_tie_goes_to_the_lower_loss():
    def record(name, acc, loss):
        return {"name": name, "metrics": {"val": {"accuracy": acc, "loss": loss}}}

    records = {r["name"]: r for r in (record("a", 0.90, 0.30), record("z", 0.93, 0.21), record("b", 0.93, 0.20))}
    assert flowers.deployed_choice(records) == "b"          # not "z", which name order would pick
    assert flowers.deployed_choice({"a": records["a"]}) == "a"
