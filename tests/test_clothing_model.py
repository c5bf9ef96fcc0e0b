"""Notebook 11's modelling path on tiny synthetic photos (MobileNetV2 with random weights at 32 px): fine-tuning on
cached activations with augmented views, the final model saved and calibrated, its rejection rule, its offer rules,
``helpers.predict --task clothing``, the TensorFlow Lite runtime and ``helpers.offers score --task clothing``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers.inputs import clothing_photos as cp

SIZE = 32


def _photo(c: int, rng) -> np.ndarray:
    """A portrait photo of class ``c``: its colour tells the class."""
    base = np.array([25 * c, 230 - 20 * c, (90 + 40 * c) % 255])
    return np.clip(base + rng.normal(0, 6, (48, 36, 3)), 0, 255).astype(np.uint8)


@pytest.fixture
def photo_world(tmp_path, monkeypatch):
    """Tiny clothing photos (our split written to a temporary manifest), tiny gear and flower sets, and every results
    folder of the study pointed into ``tmp_path``."""
    from PIL import Image

    from helpers.evaluation import out_of_domain
    from helpers.serving import rules
    from helpers.studies.clothing import config

    rng = np.random.default_rng(0)
    root = tmp_path / "clothing"
    for folder, n in zip(cp.SOURCE_SPLITS, (12, 3)):
        for c, name in enumerate(cp.CLASS_NAMES):
            (root / folder / name).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(_photo(c, rng)).save(root / folder / name / f"{i:02d}.png")
    monkeypatch.setenv(cp.ENV_DIR, str(root))
    monkeypatch.setattr(cp, "manifest_path", lambda: tmp_path / "manifests" / "clothing_photos.csv")
    results = tmp_path / "results"
    for key, value in {"RESULTS_DIR": results, "RUNS_JSON": results / "runs.json", "OUTPUTS_DIR": results / "outputs",
                       "REJECTION_JSON": results / "rejection.json", "THUMBNAIL_JSON": results / "thumb.json",
                       "PROBE_JSON": results / "probe.json"}.items():
        monkeypatch.setattr(config, key, value)
    monkeypatch.setattr(out_of_domain, "RULES_DIR", tmp_path / "rules")
    monkeypatch.setattr(rules, "RULES_DIR", tmp_path / "offer_rules")
    return root


def _sets(data, rng):
    """The rejection study's photo sets, synthetic: gear (boots and jackets look like shoes and outwear; tents are
    grey noise) and flowers (bright noise)."""
    x_gear, classes, split = [], [], []
    for cls, like in (("boots", 6), ("hardshell_jackets", 3), ("tents", None), ("rope", None)):
        for i in range(8):
            a = data["train"][0][data["train"][1] == like][i % 4] if like is not None else \
                rng.integers(0, 255, (SIZE, SIZE, 3)).astype(np.uint8)
            x_gear.append(a)
            classes.append(cls)
            split.append("train" if i < 4 else "test")
    table = pd.DataFrame({"file": [f"g{i}.png" for i in range(len(classes))], "class": classes, "split": split})
    flowers = rng.integers(100, 255, (20, SIZE, SIZE, 3)).astype(np.uint8)
    from helpers.inputs.photo_views import scrambled

    x_scrambled = scrambled(data["train"][0])
    return {**data, "scrambled": (x_scrambled, np.full(len(x_scrambled), -1)), "gear": (np.stack(x_gear), table),
            "flowers": (flowers, None)}


def test_fine_tune_save_reject_rules_predict_and_offers(photo_world, tmp_path, monkeypatch):
    from helpers.inputs import photo_views
    from helpers.models import weights_store
    from helpers.studies.clothing import config, final_model, fine_tune, offer_rules, photo_rejection
    from helpers.training import cached_transfer

    data = cp.load_splits((SIZE, SIZE, 3))
    views = cp.train_views(1, SIZE)
    assert views[0].shape == data["train"][0].shape and (views[1] == data["train"][1]).all()
    assert (cp.train_views(1, SIZE)[0] == views[0]).all()                    # seeded and cached: the same views
    assert photo_views.views([], SIZE, 2).shape == (0, SIZE, SIZE, 3)

    featurised, real = [], cached_transfer.cached_features
    monkeypatch.setattr(cached_transfer, "cached_features", lambda model, b, s, k, x, split, **kw:
                        featurised.append(split) or real(model, b, s, k, x, split, **kw))
    r = fine_tune.run(views=1, epochs=2, batch_size=16, data=data, view_data=views, backbone_weights=None)
    assert r["train_images"] == 3 * len(data["train"][1]) and r["val_photos"] == len(data["val"][1])
    assert 1 <= r["best_epoch"] <= 2 and len(r["history"]["val_loss"]) == 2
    for kind in ("plain", "mirror"):
        assert r[kind]["val_low"] <= r[kind]["val_accuracy"] <= r[kind]["val_high"]
    assert not any("test" in s for s in featurised)                          # the study never touches test
    key = final_model.choose()
    assert fine_tune.run(views=1, epochs=2, batch_size=16, data=data) == r     # loaded, not trained again
    from helpers.core.errors import HelpersError

    with pytest.raises(HelpersError, match="RETRAIN = True"):                 # a notebook that loads never trains
        fine_tune.run(views=2, epochs=2, batch_size=16, data=data, train_if_missing=False)
    verdict = final_model.mirror_verdict(key)
    assert set(verdict) == {"only_a", "only_b", "p_value", "adopt"}

    model, record = final_model.save(key, data=data, backbone_weights=None)
    assert record["metrics"]["test"]["n"] == len(data["test"][1]) and record["calibration"]["temperature"] > 0
    assert record["notes"]["run"] == key and weights_store.exists(config.FINAL_NAME)
    assert record["notes"]["earlier_final_models"] == []
    with pytest.raises(HelpersError, match="RETRAIN = True"):                 # validation chose another run since
        final_model.save("another run", data=data, backbone_weights=None)
    assert final_model._earlier(record, "another run") == [{"run": key, "test_accuracy": round(
        record["metrics"]["test"]["accuracy"], 4), "val_accuracy": round(record["metrics"]["val"]["accuracy"], 4)}]
    from helpers.models.saved_models import load, predict_proba

    again, rec2 = load(config.FINAL_NAME)                                      # reloads and reproduces its scores
    from helpers.evaluation.metrics import classification_metrics

    assert classification_metrics(data["val"][1], predict_proba(again, data["val"][0]))["accuracy"] == \
        rec2["metrics"]["val"]["accuracy"]

    report = photo_rejection.run(sets=_sets(data, np.random.default_rng(1)))
    assert report["score"] in config.REJECTION_SCORES and report["val_kept"]["of"] == len(data["val"][1])
    assert set(report["gear_garments"]) == {"boots", "hardshell_jackets"}
    assert set(report["gear_junk_rejected_by_class"]) == {"rope", "tents"} and report["flowers_rejected"]["of"] == 20
    assert report["detector_without_scrambled"]["flowers_rejected"]["of"] == 20

    table = offer_rules.status(*offer_rules.validation_outputs(data=data))
    assert set(table.loc[list(config.TOPS), "offer"]) == {"tops"}
    written = offer_rules.write(table=table)
    assert written["offers"]["pants"] in ("trousers", None) and written["rejection_rule"] is not None
    assert offer_rules.write(table=table)["version"] == written["version"]     # same decisions: same version

    weights_store.set_deployed("clothing", config.FINAL_NAME)
    photo = photo_world / "validation" / "shoes" / "00.png"
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    from helpers.serving.classify import predict_files

    lines = list(predict_files([photo, bad], "clothing"))                   # the deployed line of weights/deployed.txt
    assert lines[0]["label"] in cp.CLASS_NAMES and 0 < lines[0]["confidence"] <= 1
    assert {"ood_score", "in_domain"} <= set(lines[0]) and "error" in lines[1]

    from helpers.serving import lite

    tfl = lite.LiteModel.of(model, rec2, threads=1)
    from helpers.evaluation import out_of_domain

    k_logits, k_feats = out_of_domain.logits_and_features(model, data["val"][0])
    l_logits, l_feats = tfl.outputs(data["val"][0])
    assert np.abs(k_feats - l_feats).max() < 1e-3 * max(1.0, np.abs(k_feats).max())
    assert np.abs(out_of_domain.softmax(k_logits) - out_of_domain.softmax(l_logits)).max() < 1e-3
    files = [photo_world / "validation" / c / "00.png" for c in cp.CLASS_NAMES]
    with lite.LitePool.of(model, rec2, workers=2) as pool:                   # two one-thread interpreters, same answers
        p_logits, p_feats = pool.outputs(data["val"][0])
        rows = list(pool.outputs_of(files, lambda f: cp.TASK.prepare(cp.open_rgb(f), (SIZE, SIZE, 3))))
    assert np.abs(p_feats - l_feats).max() < 1e-4 * max(1.0, np.abs(l_feats).max())
    assert len(rows) == len(files) and rows[0][0].shape == (len(cp.CLASS_NAMES),)

    uploads = pd.DataFrame({"user_id": ["a", "a", "b"], "image": [str(photo), str(photo), str(bad)]})
    uploads.to_csv(tmp_path / "uploads.csv", index=False)
    from helpers.offers import main

    assert main(["score", str(tmp_path / "uploads.csv"), "--out", str(tmp_path / "out"), "--task", "clothing",
                 "--quiet"]) == 0
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["rows"] == 3 and run["unreadable"] == 1
    pred = pd.read_parquet(tmp_path / "out" / "predictions.parquet")
    assert set(pred["label"].dropna()) <= set(cp.CLASS_NAMES)


def test_views_are_seeded_per_photo_and_change_the_photo():
    from PIL import Image

    from helpers.inputs import photo_views

    rng = np.random.default_rng(0)
    ims = [Image.fromarray(_photo(c, rng)) for c in range(3)]
    v = photo_views.views(ims, 24, 2, seed=5)
    assert v.shape == (6, 24, 24, 3) and v.dtype == np.uint8
    assert (photo_views.views(ims[:1], 24, 2, seed=5) == v[[0, 3]]).all()     # photo 0's views do not depend on others
    assert not (photo_views.views(ims, 24, 2, seed=6) == v).all()
    still = photo_views.random_view(ims[0], 24, np.random.default_rng(0), {k: 0 for k in ("rotation", "brightness",
                                    "contrast", "saturation", "mirror")} | {"scale": (1.0, 1.0), "ratio": (0.75, 0.75)})
    assert still.shape == (24, 24, 3)


def test_scrambled_photos_keep_the_pixels_and_lose_the_layout():
    from helpers.inputs.photo_views import scrambled

    x = np.random.default_rng(0).integers(0, 255, (6, 12, 12, 3)).astype(np.uint8)
    s = scrambled(x, seed=3)
    assert s.shape == x.shape and s.dtype == x.dtype
    for a, b in zip(x, s):                                                    # the same pixels, moved
        assert sorted(a.reshape(-1, 3).tolist()) == sorted(b.reshape(-1, 3).tolist())
    assert (scrambled(x, seed=3) == s).all() and not (s == x).all()         # seeded, and changed
    with pytest.raises(ValueError, match="square"):
        scrambled(x[:, :10])


def test_final_verdict_says_the_goal_and_every_earlier_use_of_test():
    from helpers.studies.clothing import summary

    record = {"calibration": {"temperature": 1.3, "val_nll_before": 0.4, "val_nll_after": 0.3, "val_ece_before": 0.05,
                              "val_ece_after": 0.03, "ece_bins": 15},
              "notes": {"earlier_final_models": [{"run": "r1", "val_accuracy": 0.9, "test_accuracy": 0.91}]}}
    scores = {"val": (0.95, 0.92, 0.97, 95, 100), "test": (0.90, 0.83, 0.95, 90, 100)}
    text = summary.final_verdict(record, scores)
    assert "met on validation, not met on test" in text and "r1" in text and "use number 2" in text
    record["notes"]["earlier_final_models"] = []
    assert "used before" not in summary.final_verdict(record, scores)
