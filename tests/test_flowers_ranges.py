"""The flower study's ranges closed after the study (``flowers.ranges``) and the depth probe (``flowers.probe``), on
tiny synthetic runs: what is read from the saved runs, the verdicts, the sentences, and the edges they close."""

from test_flowers_evidence import fake_run

from helpers.studies import flowers
from helpers.studies.flowers import probe, ranges, story

RECORD = {"hparams": {"image_size": 224}, "metrics": {"val": {"n": 496}},
          "training": {"learning_rate": 0.01, "max_epochs": 12, "optimizer_config": {"momentum": 0.0}}}
REC = {"learning_rate": 0.01, "momentum": 0.0, "epochs": 12, "image_size": 160}


def curve(seed, lr, momentum, size, epochs, best_epoch, best_loss, best_acc):
    """A saved run under its real key, with the study's batch."""
    r = fake_run(seed, best_loss, best_acc, lr=lr, momentum=momentum, epochs=epochs, best_epoch=best_epoch, size=size)
    return flowers.run_key("accelerated", lr, momentum, seed, epochs, flowers.BATCH_SIZE, size), r


def saved_runs(lead=True, slow_best=160, side_best=37):
    seeds, runs = flowers.SEEDS, {}
    for s, d in zip(seeds, (0.0, 0.004, -0.004)):
        runs.update([curve(s, 0.01, 0.0, 160, flowers.EPOCHS, 12, 0.40 + d, 0.85),       # the study, recommended
                     curve(s, 0.001, 0.0, 160, flowers.EPOCHS, 15, 0.53 + d, 0.81),      # the study, at its edge
                     curve(s, 0.01, 0.0, 224, flowers.EPOCHS, 14, 0.34 + d, 0.88),       # the size check
                     curve(s, 0.001, 0.0, 160, flowers.SLOW_RATE_EPOCHS, slow_best, 0.40 + d, 0.85),
                     curve(s, 0.01, 0.0, 224, flowers.LONG_EPOCHS, side_best, 0.32 + d, 0.886)])
        if lead:
            runs.update([curve(s, 0.01, 0.5, 224, flowers.EPOCHS, 13, 0.32 + d, 0.89)])
    return runs


def test_saved_checks_need_every_run_and_read_the_long_ranges():
    runs = saved_runs()
    checks = ranges.saved_edge_checks(runs, REC, RECORD)
    assert [r["epochs"] for r in checks["smallest_rate"]["runs"]] == [flowers.SLOW_RATE_EPOCHS] * 3
    assert checks["final_side"]["short_epochs"] == 12 and len(checks["smallest_rate"]["reference"]) == 3
    assert checks["lead"]["momentum"] == 0.5 and len(checks["lead"]["reference"]) == 3
    del runs[next(k for k in runs if f"_e{flowers.LONG_EPOCHS}_" in k)]
    assert ranges.saved_edge_checks(runs, REC, RECORD) is None                 # one run missing: not reported


def test_long_runs_are_cut_to_the_short_range_and_judged_against_noise():
    checks = ranges.saved_edge_checks(saved_runs(), REC, RECORD)
    f = ranges.edge_facts(checks["final_side"], 496)
    assert f["best_epoch_median"] == 37 and f["inside"] and f["short_epochs"] == 12
    # fake_run's loss rises 0.1 per epoch from the best one: within 12 epochs the best is at epoch 12, 25 epochs away
    assert abs(f["short_val_loss"] - (f["val_loss"] + 2.5)) < 1e-9
    cut = ranges.truncated(checks["final_side"]["runs"][0], 12)
    assert cut["best_epoch"] == 12 and len(cut["history"]["val_loss"]) == 12
    slow = ranges.edge_facts(checks["smallest_rate"], 496)
    assert slow["against_reference"]["verdict"] == "within noise" and slow["inside"]
    assert f["verdict"] == "better"            # 37 epochs far below 12's loss (fake curves): the edge stays open
    assert ranges.closes(checks, 496) == {"smallest_rate": True, "final_side": False}
    near = ranges.saved_edge_checks(saved_runs(side_best=12), REC, RECORD)          # the optimum within the cap
    assert ranges.edge_facts(near["final_side"], 496)["verdict"] == "within noise"
    assert ranges.closes(near, 496) == {"smallest_rate": True, "final_side": True}
    assert ranges.closes(None, 496) == {"smallest_rate": False, "final_side": False}
    edge = ranges.closes(ranges.saved_edge_checks(saved_runs(slow_best=flowers.SLOW_RATE_EPOCHS), REC, RECORD), 496)
    assert edge["smallest_rate"] is False


def test_sentences_say_what_each_check_means_for_the_saved_models():
    text = " ".join(ranges.sentences(ranges.saved_edge_checks(saved_runs(), REC, RECORD), REC, 496))
    assert "Learning rate 0.001, run for 200 epochs instead of 15 (3 seeds): median best epoch 160, inside" in text
    assert "0.001 is slower, not worse. The choice of 0.01 stands for the study's fixed budget of 15 epochs" in text
    assert "the recommended epochs are 37, not the saved model's 12" in text
    assert "clearly better: the saved brief's model stopped too early, a retrain for the longer budget is due." in text
    assert "by the study's rule" not in text                      # that clause explains a tie only
    assert "The exploratory lead, momentum 0.5 at 224\u00a0px, with 3 seeds (seed 42, which picked it, among them)" in text
    same = " ".join(ranges.sentences(ranges.saved_edge_checks(saved_runs(side_best=12), REC, RECORD), REC, 496))
    assert "the recommended epochs are 12, not the saved model's 12" in same and "keeps its epochs" in same
    note = ranges.slow_rate_note(ranges.saved_edge_checks(saved_runs(), REC, RECORD), 496)
    assert note == ("That is at 15 epochs: run for 200, 0.001 is within noise of the recommended rate run for 15 epochs: "
                    "slower, not worse.") and ranges.slow_rate_note(None, 496) == ""
    without = ranges.sentences(ranges.saved_edge_checks(saved_runs(lead=False), REC, RECORD), REC, 496)
    assert len(without) == 2


def test_closed_edges_leave_the_open_list():
    runs = saved_runs(side_best=12)
    closed = ranges.closes(ranges.saved_edge_checks(runs, REC, RECORD), 496)
    before = " ".join(story.open_edges(runs, REC, RECORD))
    after = " ".join(story.open_edges(runs, REC, RECORD, closed=closed))
    assert "At the smallest learning rate" in before and "at most 12 epochs" in before
    assert "At the smallest learning rate" not in after and "at most 12 epochs" not in after


def test_the_depth_probe_is_not_a_candidate_and_needs_three_seeds_for_a_verdict():
    runs = {}
    for s, d in zip(flowers.SEEDS, (0.0, 0.004, -0.004)):
        for tail, loss in (("block_13_expand", 0.23), ("block_10_expand", 0.21), (flowers.DEPTH_PROBE_TAIL, 0.15)):
            r = fake_run(s, loss + d, 0.93 if loss > 0.2 else 0.96, epochs=flowers.DEEP_EPOCHS, best_epoch=17, size=224,
                         tail=tail, mirror=True)
            runs[flowers.run_key("accelerated", 0.01, 0.0, s, flowers.DEEP_EPOCHS, flowers.BATCH_SIZE, 224, tail, True)] = r
    assert {r["tail"] for r in story.depth_runs(runs, RECORD)} == {"block_13_expand", "block_10_expand"}
    found = probe.saved_depth_probe(runs, RECORD)
    assert len(found["runs"]) == 3 and {r["tail"] for r in found["reference"]} == {"block_10_expand"}
    f = probe.depth_facts(found, 496)
    assert f["verdict"] == "better" and f["against"] == "block_10_expand" and f["seeds"] == list(flowers.SEEDS)
    assert "Over 3 seeds the deeper start is clearly better than block_10_expand on validation: a model" in \
        probe.depth_sentence(found, 496)
    worse = {**found, "runs": [{**r, "history": {**r["history"], "val_loss": [v + 0.1 for v in r["history"]["val_loss"]]},
                                "best_epoch": flowers.DEEP_EPOCHS} for r in found["runs"]]}
    text = probe.depth_sentence(worse, 496)
    assert "clearly worse than block_10_expand on validation within 20 epochs, but its best epochs sit at the edge" in text
    one = {**found, "runs": found["runs"][:1]}
    text = probe.depth_sentence(one, 496)
    assert "1 seed (42;" in text and "a direction, not a verdict" in text and "against 0.210 for block_10_expand" in text
    assert "best epoch 17 of 20. " in text                                      # inside: no edge remark
    late = {**one, "runs": [{**one["runs"][0], "best_epoch": flowers.DEEP_EPOCHS}]}
    assert f"of {flowers.DEEP_EPOCHS} (at the edge: its loss was still falling)" in probe.depth_sentence(late, 496)
    assert probe.saved_depth_probe({k: v for k, v in runs.items() if flowers.DEPTH_PROBE_TAIL not in k}, RECORD) is None


def test_a_study_or_exploratory_run_is_never_made_again(monkeypatch):
    """``edge_checks(retrain=True)`` retrains its own long runs and the lead's missing seeds, never a saved study run."""
    runs, calls = saved_runs(), []
    for key in [k for k in runs if "_m0.5_" in k and "_s42_" not in k]:
        del runs[key]                                                         # the lead: only its exploratory run
    monkeypatch.setattr(ranges, "load_runs", lambda path=None: runs)

    def fake(mode, lr, momentum=0.0, seed=42, epochs=15, retrain=False, image_size=None, **kw):
        calls.append((lr, momentum, seed, epochs, retrain))
        return curve(seed, lr, momentum, image_size, epochs, min(epochs, 12), 0.3, 0.9)[1]

    monkeypatch.setattr(ranges, "run", fake)
    ranges.edge_checks(REC, RECORD, retrain=True)
    lead = [c for c in calls if c[1] == 0.5]
    assert lead == [(0.01, 0.5, 42, flowers.EPOCHS, False), (0.01, 0.5, 43, flowers.EPOCHS, True),
                    (0.01, 0.5, 44, flowers.EPOCHS, True)]
    assert all(c[4] for c in calls if c[1] == 0.0)                           # the long runs are the checks' own


def test_a_depth_probe_without_a_reference_seed_is_not_reported():
    r = fake_run(42, 0.2, 0.93, epochs=flowers.DEEP_EPOCHS, best_epoch=17, size=224, tail=flowers.DEPTH_PROBE_TAIL,
                 mirror=True)
    key = flowers.run_key("accelerated", 0.01, 0.0, 42, flowers.DEEP_EPOCHS, flowers.BATCH_SIZE, 224,
                          flowers.DEPTH_PROBE_TAIL, True)
    assert probe.saved_depth_probe({key: r}, RECORD) is None                  # no depth study: nothing to compare with
