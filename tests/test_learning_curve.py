"""Round two's proxy runs: the learning curve's subsets, a tiny run that is saved and then loaded, the power-law
verdict against the noise (the refit question), and the distillation settings checked on a proxy budget."""

import numpy as np
import pandas as pd
import pytest

from helpers.models import saved_models
from helpers.studies.best_model import kd_settings, learning_curve, proxy
from helpers.training import distillation, trainer


def test_subsets_are_stratified_reproducible_and_checked():
    y = np.repeat(np.arange(4), 25)
    idx = proxy.subset(y, 40)
    assert len(idx) == 40 and (np.bincount(y[idx]) == 10).all() and (np.diff(idx) > 0).all()
    assert (proxy.subset(y, 40) == idx).all()
    with pytest.raises(ValueError, match="between 1 and 99"):
        proxy.subset(y, 100)


def test_a_power_law_is_recovered_and_the_verdict_follows_the_rule():
    sizes = np.array([12_500, 25_000, 50_000])
    a, b = learning_curve.power_law(sizes, 3.0 * sizes ** -0.3)
    assert a == pytest.approx(3.0) and b == pytest.approx(0.3)

    def curve(b, a=3.0):
        return pd.DataFrame({"val_accuracy": 1 - a * sizes ** -b}, index=pd.Index(sizes, name="train_size"))

    steep = learning_curve.verdict(curve(0.3), noise_points=0.1)
    expected = (3.0 * 50_000 ** -0.3 - 3.0 * 60_000 ** -0.3) * 100
    assert steep["predicted_gain_points"] == pytest.approx(expected) and steep["local_gain_points"] == pytest.approx(expected)
    assert steep["refit"] is (expected >= 0.1) and steep["refit"]
    flat = learning_curve.verdict(curve(0.02, a=0.1), noise_points=0.1)
    assert 0 < flat["predicted_gain_points"] < 0.1 and flat["refit"] is False
    with pytest.raises(ValueError, match="two training sizes"):
        learning_curve.verdict(curve(0.3).iloc[:1], noise_points=0.1)


def teacher_outputs(data, teacher, path):
    return distillation.save_teacher_outputs(
        path, "tiny_teacher",
        {s: distillation.log_probabilities(saved_models.predict_proba(teacher, data[s][0])) for s in ("train", "val")},
        {s: data[s][1] for s in ("train", "val")})


def test_a_tiny_run_trains_on_the_subset_is_saved_and_then_loaded(tiny_task, tiny_dense, tmp_path, monkeypatch):
    _, data = tiny_task
    outputs = teacher_outputs(data, tiny_dense[0], tmp_path / "t.npz")
    seen = {}
    fit = trainer.fit

    def spy(name, **kw):
        seen.update(n=len(kw["data"]["train"][1]), soft=len(kw["soft_targets"]["train"]))
        return fit(name, **kw)

    monkeypatch.setattr(trainer, "fit", spy)
    path = tmp_path / "curve.json"
    tiny = dict(task="tiny", architecture="dense", hparams={"units": [16], "dropout": 0.0}, epochs=3, batch_size=16,
                learning_rate=0.01, mixed_precision=False, teacher_outputs=outputs, path=path, data=data)
    r = learning_curve.run(45, **tiny)
    assert seen == {"n": 45, "soft": 45} and r["train_size"] == 45 and r["epochs"] == 3
    assert 0 <= r["val_accuracy"] <= 1 and len(r["val_accuracy_by_epoch"]) == 3
    assert learning_curve.saved_runs(path) == {45: r}
    monkeypatch.setattr(trainer, "fit", lambda *a, **k: pytest.fail("a saved run is loaded, not retrained"))
    assert learning_curve.run(45, **tiny) == r
    bad = {**data, "val": (data["val"][0], data["val"][1][::-1])}
    with pytest.raises(ValueError, match="other images"):
        learning_curve.run(30, **{**tiny, "data": bad})


def test_distillation_settings_are_run_on_the_proxy_and_judged_against_the_noise(tiny_task, tiny_dense, tmp_path):
    _, data = tiny_task
    path = tmp_path / "kd.json"
    tiny = dict(task="tiny", architecture="dense", hparams={"units": [16], "dropout": 0.0}, batch_size=16,
                learning_rate=0.01, mixed_precision=False, teacher_outputs=teacher_outputs(data, tiny_dense[0], tmp_path / "t.npz"),
                path=path, data=data, train_size=60, epochs=2)
    for setting in ({"temperature": 2.0, "alpha": 0.7}, {"temperature": 4.0, "alpha": 0.3}):
        r = kd_settings.run(setting, **tiny)
        assert (r["temperature"], r["alpha"], r["train_size"], r["epochs"]) == (setting["temperature"], setting["alpha"], 60, 2)
    t = kd_settings.table(path)
    assert len(t) == 2 and t["in use"].sum() == 1 and t["val accuracy"].is_monotonic_decreasing
    v = kd_settings.verdict(t, noise_points=100.0)
    assert v["keep"] and v["in_use"] == {"temperature": 2.0, "alpha": 0.7} and v["gap_points"] >= 0
    strict = kd_settings.verdict(t.assign(**{"val accuracy": [0.9, 0.8]}), noise_points=1.0)
    assert strict["keep"] is bool(t["in use"].iloc[0])   # the setting in use loses by 10 points unless it is the best
    with pytest.raises(ValueError, match="no proxy run"):
        kd_settings.verdict(t[~t["in use"]], noise_points=1.0)
