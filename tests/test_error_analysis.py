"""Error-analysis helpers on tiny synthetic predictions."""

import numpy as np
import pytest

from helpers.evaluation import out_of_domain as ood
from helpers.studies import error_analysis as ea


def _toy(n=3000, k=3, acc=0.8, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    correct = rng.random(n) < acc
    pred = np.where(correct, y, (y + rng.integers(1, k, n)) % k)
    conf = np.where(correct, rng.uniform(0.6, 1.0, n), rng.uniform(0.34, 0.8, n))
    p = np.full((n, k), 0.0)
    p[np.arange(n), pred] = conf
    for j in range(k):
        p[:, j] = np.where(pred == j, p[:, j], (1 - conf) / (k - 1))
    return y, p


def test_bootstrap_intervals_contain_the_point_estimate_and_shrink_with_data():
    y, p = _toy()
    names = ["a", "b", "c"]
    df = ea.bootstrap_per_class(y, p.argmax(1), names, n_boot=200)
    assert list(df.columns[:3]) == ["precision", "precision low", "precision high"]
    assert ((df["recall low"] <= df["recall"]) & (df["recall"] <= df["recall high"])).all()
    small = ea.bootstrap_per_class(y[:300], p[:300].argmax(1), names, n_boot=200)
    assert (small["F1 high"] - small["F1 low"]).mean() > (df["F1 high"] - df["F1 low"]).mean()
    assert df["images"].sum() == len(y)


def test_threshold_reaches_the_target_precision_with_the_most_coverage():
    y, p = _toy()
    t, prec, cov = ea.threshold_for_precision(y, p, 0, 0.95)
    assert t is not None and prec >= 0.95 and 0 < cov < 1
    sel = (p.argmax(1) == 0) & (p.max(1) >= t)
    assert (y[sel] == 0).mean() >= 0.95
    # a slightly lower threshold would miss the target (or add no image)
    lower = (p.argmax(1) == 0) & (p.max(1) >= t - 1e-3)
    assert (y[lower] == 0).mean() < 0.95 or lower.sum() == sel.sum()
    assert ea.threshold_for_precision(y, p, 0, 1.01)[0] is None
    table = ea.operating_points(y[:1500], p[:1500], y[1500:], p[1500:], ["a", "b", "c"])
    assert len(table) == 6 and (table.dropna()["val precision"] >= table.dropna()["target precision"]).all()


def test_out_of_domain_scores_separate_far_inputs():
    rng = np.random.default_rng(0)
    feats = np.concatenate([rng.normal(0, 1, (200, 4)) + 5, rng.normal(0, 1, (200, 4)) - 5])
    y = np.r_[np.zeros(200, int), np.ones(200, int)]
    fit = ood.mahalanobis_fit(feats, y, 2)
    far = rng.normal(0, 1, (50, 4)) + np.array([0, 30, 0, 0])
    inside = ood.mahalanobis_score(fit, feats)
    t = ood.rejection_threshold(inside, keep=0.95)
    assert ood.rejected(inside, t).mean() == pytest.approx(0.05, abs=0.01)
    assert ood.rejected(ood.mahalanobis_score(fit, far), t).all()
    logits_in = np.array([[10.0, 0.0], [0.0, 12.0]])
    logits_flat = np.array([[0.5, 0.4], [0.1, 0.2]])
    assert (ood.energy_score(logits_in) < ood.energy_score(logits_flat).min()).all()


def test_logits_and_features_match_the_softmax_output(tiny_dense):
    model, _ = tiny_dense
    x = np.random.default_rng(0).integers(0, 255, (5, 8, 8, 1)).astype("uint8")
    logits, feats = ood.logits_and_features(model, x)
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    assert np.allclose(soft, model.predict(x, verbose=0), atol=1e-5) and feats.shape == (5, 16)


def test_edge_cases_absent_classes_give_nan_not_crashes():
    y = np.array([0, 0, 1, 1])
    p = np.eye(3)[[0, 0, 1, 0]]
    df = ea.bootstrap_per_class(y, p.argmax(1), ["a", "b", "c"], n_boot=50)
    assert df.loc["c", "images"] == 0
    fit = ood.mahalanobis_fit(np.random.default_rng(0).normal(size=(4, 2)), y, 3)
    assert np.isfinite(ood.mahalanobis_score(fit, np.zeros((2, 2)))).all()


@pytest.mark.parametrize("kind", ["energy", "mahalanobis", "detector"])
def test_rejection_rule_is_saved_tied_to_the_model_and_reported_by_predict(tiny_dense, tiny_task, tmp_path,
                                                                          monkeypatch, kind):
    import json

    from PIL import Image

    from helpers.evaluation import out_of_domain
    from helpers.models import weights_store
    from helpers.serving import classify

    monkeypatch.setattr(out_of_domain, "RULES_DIR", tmp_path / "rules")
    model, _ = tiny_dense
    x_val = tiny_task[1]["val"][0]
    logits, feats = ood.logits_and_features(model, x_val)
    maha = ood.mahalanobis_fit(feats, tiny_task[1]["val"][1], 3)
    assert set(out_of_domain.all_scores(logits, feats, maha)) == set(out_of_domain.SCORES) - {"detector"}
    if kind == "detector":  # fashion: the validation images; not fashion: noise
        noise = np.random.default_rng(0).integers(0, 256, x_val.shape).astype(x_val.dtype)
        n_logits, n_feats = ood.logits_and_features(model, noise)
        maha = {**maha, **out_of_domain.fit_detector(
            np.r_[logits, n_logits], np.r_[feats, n_feats], np.r_[np.ones(len(x_val), bool), np.zeros(len(noise), bool)],
            np.r_[np.full(len(x_val), "in"), np.full(len(noise), "out")], maha)}
    scores = out_of_domain.all_scores(logits, feats, maha)
    assert ("detector" in scores) == (kind == "detector")
    rule = out_of_domain.fit_rule(kind, scores[kind], keep=0.9, in_domain_inputs=x_val, frame_keep=1.0,
                                  fitted_on="tiny validation")
    out_of_domain.save_rule("tiny_dense", rule, maha=maha)
    loaded, maha_loaded = out_of_domain.load_rule("tiny_dense")
    assert loaded["threshold"] == rule["threshold"] and loaded["fitted_on"] == "tiny validation"
    assert (maha_loaded is not None) == (kind in out_of_domain.FITTED_SCORES)
    assert ("detector_coef" in (maha_loaded or {})) == (kind == "detector")
    s, keep = out_of_domain.score_inputs(model, loaded, maha_loaded, x_val)
    assert np.allclose(s, scores[kind]) and keep.mean() == pytest.approx(0.9, abs=0.05)

    photo = tmp_path / "stripe.png"
    Image.fromarray(np.asarray(x_val[0, ..., 0])).save(photo)
    line = next(classify.predict_files([photo], "tiny", "tiny_dense"))
    assert {"label", "confidence", "top3", "model"} <= set(line)  # the existing fields are unchanged
    assert line["ood_score_kind"] == kind and isinstance(line["in_domain"], bool)
    assert line["in_domain"] == (line["ood_score"] <= rule["threshold"] + 1e-4)

    # retrained model: the old rule no longer applies, and predict says nothing about it
    rec = json.loads(weights_store.record_path("tiny_dense").read_text())
    rec["sha256"] = "0" * 64
    weights_store.record_path("tiny_dense").write_text(json.dumps(rec))
    assert out_of_domain.load_rule("tiny_dense") == (None, None)
    with pytest.raises(ValueError, match="unknown score"):
        out_of_domain.fit_rule("nope", scores["energy"])
    with pytest.raises(ValueError, match="has no Dense layer"):
        import keras
        out_of_domain.feature_model(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="last")]))


def test_image_traits_and_error_rate_by_bins():
    x = np.zeros((8, 4, 4), np.uint8)
    x[:4, :2] = 200                                            # half-filled, bright
    x[4:, :1, :1] = 100                                        # tiny, dim
    traits = ea.image_traits(x)
    assert np.allclose(traits["item size"][:4], 0.5) and np.allclose(traits["item size"][4:], 1 / 16)
    assert np.allclose(traits["brightness"][:4], 200) and np.allclose(traits["brightness"][4:], 100)
    table = ea.error_rate_by(traits["item size"], np.r_[np.ones(4), np.zeros(4)], bins=2, label="size")
    assert table["images"].sum() == 8 and list(table["error rate"]) == [1.0, 0.0]


def test_frame_check_rejects_bright_bordered_inputs_whatever_their_score():
    from helpers.evaluation import out_of_domain

    dark = np.zeros((20, 8, 8, 1), np.uint8)
    dark[:, 2:6, 2:6] = 200
    assert np.allclose(out_of_domain.frame_brightness(dark), 0)
    rule = out_of_domain.fit_rule("energy", np.zeros(20), keep=1.0, in_domain_inputs=dark)
    bright = np.full((2, 8, 8, 1), 128, np.uint8)
    assert out_of_domain.in_domain(rule, np.zeros(20), dark).all()
    assert not out_of_domain.in_domain(rule, np.zeros(2), bright).any()
    with pytest.raises(ValueError, match="pass the inputs"):
        out_of_domain.in_domain(rule, np.zeros(2))


def test_export_summary_writes_plain_sorted_json(tmp_path):
    import json

    import pandas as pd

    frame = pd.DataFrame({"F1": [0.91234567, np.nan]}, index=["Bag", "Shirt"])
    path = ea.export_summary("m", tmp_path / "s.json", table=frame, counts=np.array([[1, 2], [3, 4]]),
                             share=np.float32(0.7), ok=np.bool_(True), names=("a", "b"), series=frame["F1"])
    out = json.loads(path.read_text())
    assert out == {"model": "m", "table": {"Bag": {"F1": 0.912346}, "Shirt": {"F1": None}}, "counts": [[1, 2], [3, 4]],
                   "share": 0.7, "ok": True, "names": ["a", "b"], "series": {"Bag": 0.912346, "Shirt": None}}
    again = ea.export_summary("m", tmp_path / "t.json", series=frame["F1"], names=("a", "b"), ok=np.bool_(True),
                              share=np.float32(0.7), counts=np.array([[1, 2], [3, 4]]), table=frame)
    assert again.read_bytes() == path.read_bytes()                 # same results, same bytes
    with pytest.raises(TypeError, match="object"):
        ea.export_summary("m", tmp_path / "u.json", bad=object())
