"""Notebook 05's study helpers: test-time augmentation and the experiment definitions."""

import json

import numpy as np
import pytest

from helpers.studies import best_model


def test_shift_images_moves_pixels_and_fills_with_zero():
    x = np.arange(1, 17, dtype=np.uint8).reshape(1, 4, 4, 1)
    down = best_model.shift_images(x, 1, 0)
    assert (down[0, 0] == 0).all() and (down[0, 1:] == x[0, :3]).all()
    left = best_model.shift_images(x, 0, -2)
    assert (left[0, :, :2] == x[0, :, 2:]).all() and (left[0, :, 2:] == 0).all()
    assert (best_model.shift_images(x, 0, 0) == x).all() and down.dtype == x.dtype
    with pytest.raises(ValueError, match="nothing"):
        best_model.shift_images(x, 4, 0)
    with pytest.raises(ValueError, match="shaped"):
        best_model.shift_images(x[0], 1, 0)


def test_tta_views_are_distinct_shifts_without_flips():
    for k, views in best_model.TTA_VIEWS.items():
        assert len(views) == k == len(set(views)) and (0, 0) in views
        assert all(max(abs(dy), abs(dx)) == 1 for dy, dx in views if (dy, dx) != (0, 0))


class _MeanBrightness:
    """A stand-in model whose class-1 probability is the image's mean brightness."""

    def predict(self, x, batch_size=None, verbose=0):
        m = np.asarray(x, dtype=np.float64).reshape(len(x), -1).mean(1) / 255
        return np.stack([1 - m, m], 1)


def test_tta_averages_the_views():
    x = np.full((3, 4, 4, 1), 255, np.uint8)
    table, averaged = best_model.tta_table(_MeanBrightness(), x, np.ones(3, int),
                                           {1: ((0, 0),), 2: ((0, 0), (1, 0)), 3: ((0, 0), (1, 0), (0, 1))})
    assert np.allclose(averaged[1][:, 1], 1.0)
    assert np.allclose(averaged[2][:, 1], (1 + 12 / 16) / 2)  # the shifted copy lost a row of 4 pixels
    assert np.allclose(averaged[3][:, 1], (1 + 12 / 16 + 12 / 16) / 3)
    assert list(table.index) == [1, 2, 3] and table.loc[1, "accuracy"] == 1.0 and table.loc[2, "cost"] == "2x"
    with pytest.raises(ValueError, match="at least one"):
        best_model.tta_table(_MeanBrightness(), x, np.ones(3, int), {0: ()})


def _save_outputs(folder, name, proba, y):
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / f"{name}.npz", val=np.asarray(proba, np.float32), y_val=np.asarray(y))


def test_ensemble_candidates_average_selection_outputs(monkeypatch, tmp_path):
    monkeypatch.setattr(best_model.config, "SELECTION_DIR", tmp_path)
    y = np.array([0, 1, 1, 0])
    # a is right on 3 of 4, b on 3 of 4 (different ones): their average is right on all 4
    _save_outputs(tmp_path, "a", [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]], y)
    _save_outputs(tmp_path, "b", [[0.6, 0.4], [0.4, 0.6], [0.1, 0.9], [0.4, 0.6]], y)
    table = best_model.ensemble_candidates(["a", "b", "missing"])
    assert len(table) == 1 and set(table.loc[0, "members"].split(" + ")) == {"a", "b"}
    assert table.loc[0, "val_accuracy"] == 1.0 and table.loc[0, "best_member_val_accuracy"] == 0.75
    _save_outputs(tmp_path, "c", [[0.9, 0.1]] * 3, y[:3])
    with pytest.raises(ValueError, match="same validation images"):
        best_model.ensemble_candidates(["a", "c"])


def test_ensemble_candidates_score_only_the_k_best_members(monkeypatch, tmp_path):
    monkeypatch.setattr(best_model.config, "SELECTION_DIR", tmp_path)
    y = np.array([0, 1, 1, 0])
    right = [[0.9, 0.1], [0.1, 0.9], [0.1, 0.9], [0.9, 0.1]]
    _save_outputs(tmp_path, "worst", [[0.1, 0.9]] * 4, y)            # 2 of 4
    _save_outputs(tmp_path, "best", right, y)                         # 4 of 4
    _save_outputs(tmp_path, "middle", right[:3] + [[0.4, 0.6]], y)    # 3 of 4
    table = best_model.ensemble_candidates(["worst", "best", "middle"], max_members=3)
    assert list(table["members"]) == ["best + middle", "best + middle + worst"]  # ranked by own accuracy
    assert list(table["size"]) == [2, 3] and (table["best_member_val_accuracy"] == 1.0).all()
    assert len(best_model.ensemble_candidates(["worst", "best", "middle"], max_members=2)) == 1


def test_deployment_choice_respects_the_speed_bar_and_the_budget():
    import pandas as pd

    c = pd.DataFrame({"name": ["slow_best", "fast_close", "fast_far", "mid_close", "costly_fast"],
                      "val_accuracy": [0.950, 0.948, 0.940, 0.9475, 0.9490],
                      "images_per_s": [400, 3000, 9000, 1500, 5000],
                      "cpu_training_seconds": [3600, 3600, 600, 3600, 4 * 3600]})
    d = best_model.deployment_choice(c)
    assert d["most_accurate"] == "slow_best" and d["deployed"] == "fast_close"  # costly_fast is over the budget
    assert d["fastest_within_tolerance"] == "costly_fast" and d["fastest_within_tolerance_images_per_s"] == 5000
    assert best_model.deployment_choice(c[c["name"] != "fast_close"])["deployed"] == "mid_close"
    assert best_model.deployment_choice(c, budget_seconds=5 * 3600)["deployed"] == "costly_fast"
    assert best_model.deployment_choice(c.iloc[[0]])["deployed"] is None  # nothing fast enough
    assert best_model.deployment_choice(c.assign(images_per_s=2000))["deployed"] == "slow_best"
    with pytest.raises(ValueError):
        best_model.deployment_choice(c.iloc[[]])


def _record(name, versions, seconds=100.0, val=0.9, **extra):
    from helpers.models import weights_store

    folder = weights_store.paths.weights_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.weights.h5").write_bytes(b"x")
    rec = {"name": name, "task": "fashion", "versions": versions, "training": {"seconds": seconds},
           "metrics": {"val": {"accuracy": val}}, **extra}
    weights_store.record_path(name).write_text(json.dumps(rec))


def test_cpu_training_cost_is_measured_on_a_cpu_and_estimated_for_a_gpu_run(tmp_path):
    _record("on_cpu", {"backend": "tensorflow"}, seconds=500.0)
    _record("on_gpu", {"backend": "jax", "device": "NVIDIA H100 80GB HBM3"}, seconds=40.0)
    _record("on_gpu_unmeasured", {"backend": "jax", "device": "NVIDIA H200"}, seconds=40.0)
    _record("ens", {"backend": "tensorflow"}, architecture="ensemble",
            members=[{"name": "on_cpu"}, {"name": "on_gpu"}])
    cost = tmp_path / "cost.json"
    cost.write_text(json.dumps({"results": {"on_gpu": {"estimated_seconds": 9000.0}}}))
    assert best_model.cpu_training_seconds("on_cpu", cost) == (500.0, "measured")
    assert best_model.cpu_training_seconds("on_gpu", cost) == (9000.0, "estimated")
    assert best_model.cpu_training_seconds("on_gpu_unmeasured", cost) == (None, None)
    assert best_model.cpu_training_seconds("ens", cost) == (9500.0, "estimated")  # a member was estimated
    assert best_model.trained_on(json.loads((tmp_path / "weights" / "on_gpu.json").read_text())) == "NVIDIA H100 80GB HBM3"
    assert best_model.trained_on({"versions": {"backend": "jax", "device": "cpu"}}) == "CPU"


def test_tta_outputs_and_summary(monkeypatch, tmp_path):
    monkeypatch.setattr(best_model.config, "SELECTION_DIR", tmp_path / "sel")
    monkeypatch.setattr(best_model.config, "TTA_DIR", tmp_path / "tta")
    y = np.array([0, 1, 1, 0])
    _save_outputs(tmp_path / "sel", "a", [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]], y)
    with pytest.raises(FileNotFoundError, match="helpers.best_model tta a"):
        best_model.tta_outputs("a")
    (tmp_path / "tta").mkdir()
    np.savez_compressed(tmp_path / "tta" / "a.npz", val=np.float32([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]]),
                        y_val=y, views=np.asarray(best_model.TTA_VIEWS[5]))
    p, y2, views = best_model.tta_outputs("a")
    assert views == list(best_model.TTA_VIEWS[5]) and (y2 == y).all() and p.dtype == np.float64
    with pytest.raises(FileNotFoundError, match="--split test"):
        best_model.tta_outputs("a", split="test")
    with pytest.raises(ValueError, match="split"):
        best_model.save_tta_outputs("a", split="train")
    table = best_model.tta_summary(["a", "b"])
    assert list(table.index) == ["a"] and table.loc["a", "val_accuracy_1_view"] == 0.75
    assert table.loc["a", "val_accuracy_tta"] == 1.0 and table.loc["a", "gain (points)"] == 25.0


def test_the_deeper_transfer_experiment_trains_on_cached_activations(tiny_fashion, monkeypatch, tmp_path):
    import dataclasses

    from helpers.models import weights_store

    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion[0]))
    monkeypatch.setattr(best_model.config, "SELECTION_DIR", tmp_path / "selection")
    e = best_model.EXPERIMENTS["fashion_tl_mobilenet_v2_deep"]
    small = dataclasses.replace(e, hparams={**e.hparams, "image_size": 32}, build_kwargs={"backbone_weights": None})
    monkeypatch.setitem(best_model.EXPERIMENTS, e.name, small)
    _, rec = best_model.train(e.name, epochs=2, batch_size=16)
    assert rec["hparams"]["unfrozen_from"] == "block_16_expand" and rec["notes"]["direction"] == "deeper transfer"
    assert rec["training"]["schedule"]["kind"] == "cosine" and "refit" not in rec["training"]
    assert weights_store.exists(e.name) and best_model.selection_outputs(e.name)[0].shape[1] == 10
    with pytest.raises(ValueError, match="float32"):
        best_model.train(e.name, retrain=True, mixed_precision=True)


def test_round_two_effects_name_what_each_control_differs_in_and_compare_with_the_seed_spread(isolated_dirs):
    """Each student against its control (the network that differs in one respect, which the row names) and against
    the mean of round one's two seeds; an effect counts only when it is larger than those seeds' spread."""
    from helpers.core import paths
    from helpers.studies.best_model import round_two

    val = {"fashion_vgg_bn": 0.940, "fashion_vgg_bn_seed43": 0.944, "fashion_vgg_bn_ema": 0.945,
           "fashion_vgg_bn_kd": 0.946, "fashion_vgg_bn_kd_w48": 0.952}
    for name, acc in val.items():
        (paths.weights_dir() / f"{name}.json").write_text(json.dumps({"name": name, "metrics": {"val": {"accuracy": acc}}}))
        (paths.weights_dir() / f"{name}.weights.h5").write_bytes(b"")
    assert round_two.students() == ["fashion_vgg_bn_kd", "fashion_vgg_bn_kd_w48"]      # saved ones only
    rows = round_two.effects().set_index(["student", "against"])["change (points)"].to_dict()
    assert rows[("fashion_vgg_bn_kd", "control (fashion_vgg_bn_ema: no teacher)")] == pytest.approx(0.1)
    assert rows[("fashion_vgg_bn_kd_w48", "control (fashion_vgg_bn_kd: width 32)")] == pytest.approx(0.6)
    verdicts = round_two.effects().set_index(["student", "against"])["verdict"].to_dict()
    assert verdicts[("fashion_vgg_bn_kd", "control (fashion_vgg_bn_ema: no teacher)")] == "within the seed spread"
    assert verdicts[("fashion_vgg_bn_kd_w48", "control (fashion_vgg_bn_kd: width 32)")] == "larger than the seed spread"
    assert ("fashion_vgg_bn_kd_w48", "control (fashion_vgg_bn_ema_w48: no teacher)") not in rows   # not saved: left out
    name = "fashion_vgg_bn_ema_w48"   # the wider student's no-teacher twin, once saved: a second control
    (paths.weights_dir() / f"{name}.json").write_text(json.dumps({"name": name, "metrics": {"val": {"accuracy": 0.950}}}))
    (paths.weights_dir() / f"{name}.weights.h5").write_bytes(b"")
    rows = round_two.effects().set_index(["student", "against"])["change (points)"].to_dict()
    assert rows[("fashion_vgg_bn_kd_w48", "control (fashion_vgg_bn_ema_w48: no teacher)")] == pytest.approx(0.2)
    assert best_model.get(name).hparams["width"] == 48 and "distillation" not in best_model.get(name).training
    assert all(best_model.get(s).hparams["width"] == w for s, w in (("fashion_vgg_bn_kd", 32), ("fashion_vgg_bn_kd_w48", 48)))


def test_a_students_retraining_estimate_is_read_from_the_short_run_benchmark(tmp_path):
    """benchmarks/student_cost.py's figures, per student, with the machine they were measured on; None when absent."""
    path = tmp_path / "student_cost.json"
    assert best_model.retraining_estimate("s", path) is None
    path.write_text(json.dumps({"machine": {"cpus": 2}, "measured": "2026-12-02", "results": {
        "s": {"epochs_run": 2, "epoch_seconds": [130.0, 120.0], "seconds_per_epoch": 125.0, "epochs": 28,
              "estimated_seconds": 3500.0, "precision": "mixed_bfloat16"}}}))
    est = best_model.retraining_estimate("s", path)
    assert est["estimated_seconds"] == 3500.0 and est["machine"] == {"cpus": 2} and est["measured"] == "2026-12-02"
    assert best_model.retraining_estimate("other", path) is None


def test_round_two_sentences_follow_the_numbers(isolated_dirs):
    """The decision names the noise only when the gain is within it; the findings give the teacher's own share."""
    import pandas as pd

    from helpers.core import paths
    from helpers.studies.best_model import round_two

    for name, val, test in (("r1", 0.9509, 0.9443), ("s", 0.9519, 0.9453)):
        (paths.weights_dir() / f"{name}.json").write_text(json.dumps(
            {"name": name, "metrics": {"val": {"accuracy": val}, "test": {"accuracy": test}}}))
    table = pd.DataFrame({"val_accuracy": [0.9509, 0.9519]}, index=["r1", "s"])
    cal = {"calibration": {"temperature": 0.65}, "ece": {"before": 0.08, "after": 0.01}}
    text = round_two.decision_sentence("s", "r1", table, "s", 0.0037, cal)
    assert "**deployed: s**, test accuracy **0.9453**" in text and "+0.10 points, within" in text
    assert "but the difference is noise" in text and "is not met." in text
    assert "beyond" in round_two.decision_sentence("s", "r1", table, "s", 0.0005, cal)
    assert "round one's network stays" in round_two.decision_sentence("r1", "r1", table, "s", 0.0037)
    effects = pd.DataFrame([{"student": "s", "against": "control (c: no teacher)", "change (points)": 0.1,
                             "seed spread (points)": 0.37, "verdict": "within the seed spread"}])
    found = round_two.findings("s", 0.9519, effects, 0.9578)
    assert "+0.10 points against control (c: no teacher)" in found and "not from distillation" in found
    assert "teacher's own share" not in round_two.findings("s", 0.9519, effects.assign(against="other"), 0.9578)
    assert round_two.retraining_sentence("s") is None or "estimated" in round_two.retraining_sentence("s")
