"""Temperature scaling, calibration error, and ensembles saved as first-class models."""

import json

import numpy as np
import pytest
from conftest import TINY_FIT

from helpers import evaluate
from helpers.models import saved_models, weights_store
from helpers.serving import classify
from helpers.training import calibration, ensemble, trainer


def _overconfident(n=4000, seed=0):
    """A 3-class toy problem whose logits are twice as sharp as the truth: over-confident by construction."""
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(0, 1.5, (n, 3))
    p_true = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    y = np.array([rng.choice(3, p=p) for p in p_true])
    sharp = np.exp(2 * true_logits)
    return y, sharp / sharp.sum(1, keepdims=True)


def test_temperature_scaling_lowers_the_loss_and_the_calibration_error():
    y, p = _overconfident()
    t = calibration.fit_temperature(y, p)
    assert 1.7 < t < 2.3  # the truth is T = 2
    q = calibration.apply_temperature(p, t)
    assert calibration.nll(y, q) < calibration.nll(y, p)
    assert calibration.expected_calibration_error(y, q) < calibration.expected_calibration_error(y, p) / 2
    assert (q.argmax(1) == p.argmax(1)).all()  # accuracy untouched
    assert np.allclose(q.sum(1), 1)
    rec = calibration.calibration_record(y, p)
    assert rec["temperature"] == t and rec["val_nll_after"] < rec["val_nll_before"]


def test_temperature_one_changes_nothing_and_binary_outputs_work():
    p = np.array([[0.2, 0.8], [0.9, 0.1]])
    assert np.allclose(calibration.apply_temperature(p, 1.0), p)
    sig = np.array([0.8, 0.1])
    assert calibration.apply_temperature(sig, 2.0).shape == (2, 2)
    with pytest.raises(ValueError):
        calibration.fit_temperature([0, 1, 1], p)


def test_reliability_bins_cover_every_image():
    y, p = _overconfident(500)
    table = calibration.reliability(y, p, bins=10)
    assert table["images"].sum() == 500
    assert ((table["confidence"] >= table["low"]) & (table["confidence"] <= table["high"])).all()
    perfect = np.eye(3)[y]
    assert calibration.expected_calibration_error(y, perfect) == 0.0


def test_predict_applies_the_recorded_temperature(tiny_dense, tmp_path):
    from PIL import Image

    photo = tmp_path / "x.png"
    Image.new("L", (8, 8), 255).save(photo)
    before = next(classify.predict_files([photo], "tiny", "tiny_dense"))
    path = weights_store.record_path("tiny_dense")
    rec = json.loads(path.read_text())
    rec["calibration"] = {"temperature": 5.0}
    path.write_text(json.dumps(rec))
    after = next(classify.predict_files([photo], "tiny", "tiny_dense"))
    assert after["label"] == before["label"] and after["confidence"] < before["confidence"]


def test_ensemble_record_round_trip_and_check(tiny_task, capsys):
    trainer.train_or_load("tiny_a", **TINY_FIT)
    trainer.train_or_load("tiny_b", **{**TINY_FIT, "hparams": {"units": [8], "dropout": 0.0}, "seed": 7})
    model, rec = ensemble.make_ensemble("tiny_ens", ["tiny_a", "tiny_b"], task="tiny")
    assert [m["name"] for m in rec["members"]] == ["tiny_a", "tiny_b"]
    data = tiny_task[1]
    members = [saved_models.predict_proba(saved_models.load(n)[0], data["test"][0]) for n in ("tiny_a", "tiny_b")]
    expected = saved_models.average_probabilities(members)
    assert np.allclose(saved_models.predict_proba(model, data["test"][0]), expected, atol=1e-6)
    capsys.readouterr()
    assert evaluate.main(["tiny_ens", "--check"]) == 0
    assert json.loads(capsys.readouterr().out)["check"] == "ok"
    out = next(classify.predict_files([], "tiny", "tiny_ens"), None)
    assert out is None
    # a member retrained after the ensemble was made is caught by --check
    trainer.train_or_load("tiny_b", retrain=True, **{**TINY_FIT, "seed": 8})
    assert evaluate.main(["tiny_ens", "--check"]) == 1
    assert "retrained after the ensemble" in capsys.readouterr().err


def test_ensemble_needs_two_members_of_one_task(tiny_task):
    trainer.train_or_load("tiny_a", **TINY_FIT)
    with pytest.raises(ValueError, match="two members"):
        ensemble.make_ensemble("bad", ["tiny_a"], task="tiny")


def test_ensemble_of_refitted_members_records_no_validation_score(tiny_task):
    trainer.train_or_load("tiny_a", **TINY_FIT, refit_on_train_and_val=True)
    trainer.train_or_load("tiny_b", **{**TINY_FIT, "seed": 7})
    _, rec = ensemble.make_ensemble("tiny_ens", ["tiny_a", "tiny_b"], task="tiny")
    assert set(rec["metrics"]) == {"test"} and "tiny_a" in rec["notes"]["no_validation_metrics"]
    assert classify.best_model_name("tiny") != "tiny_ens"  # never chosen on an inflated score


def test_store_writes_the_temperature_without_touching_the_weights(tiny_dense):
    sha = weights_store.load_record("tiny_dense")["sha256"]
    rec = calibration.store("tiny_dense", {"temperature": 1.7, "fitted_on": "selection run, val"})
    assert rec["calibration"]["temperature"] == 1.7 and rec["sha256"] == sha
    assert calibration.temperature_of(weights_store.load_record("tiny_dense")) == 1.7
    weights_store.verify("tiny_dense")
    with pytest.raises(ValueError):
        calibration.store("tiny_dense", {})
