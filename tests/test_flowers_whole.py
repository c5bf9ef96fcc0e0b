"""The whole-backbone probe (``flowers.whole``): it trains every backbone layer with random augmentation on tiny
synthetic photos, saves and reloads its run, and its sentence compares it with the chosen depth's run of the same
seed at the same number of training photos seen."""

import numpy as np
import pytest
from test_flowers_evidence import fake_run

from helpers.studies.flowers import whole

RECORD = {"hparams": {"image_size": 32}, "training": {"learning_rate": 0.01, "optimizer_config": {"momentum": 0.0}}}


def test_probe_trains_every_layer_with_augmentation_and_reloads(tmp_path):
    rng = np.random.default_rng(0)
    data = {s: (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), np.arange(n) % 5)
            for s, n in (("train", 16), ("val", 10), ("test", 5))}
    path = tmp_path / "whole.json"
    r = whole.probe(RECORD, data=data, backbone_weights=None, epochs=2, batch_size=8, path=path)
    assert r["tail"] == whole.FIRST_LAYER and r["train_size"] == 16 and r["augmentation"] == whole.AUGMENTATION
    assert len(r["history"]["val_loss"]) == 2 and 1 <= r["best_epoch"] <= 2
    assert r["history"]["val_loss"][r["best_epoch"] - 1] == min(r["history"]["val_loss"])
    assert 0 <= r["val_report"]["accuracy"] <= 1 and r["learning_rate"] == 0.01 and r["momentum"] == 0.0
    assert whole.load(path) == r and whole.probe(RECORD, data=None, path=path) == r      # saved: no photos needed
    assert whole.load(tmp_path / "missing.json") is None


def test_the_augmentation_changes_training_photos_only():
    import keras

    aug = whole.augmenter(seed=1)
    x = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    assert np.allclose(keras.ops.convert_to_numpy(aug(x, training=False)), x)
    assert not np.allclose(keras.ops.convert_to_numpy(aug(x, training=True)), x)


def test_sentence_compares_at_the_same_photos_seen_and_claims_nothing_on_one_seed():
    ref = fake_run(42, 0.20, 0.93, epochs=20, best_epoch=19, tail="block_10_expand", mirror=True, train_size=4622)
    probe = fake_run(42, 0.25, 0.92, epochs=20, best_epoch=20, train_size=2311, seconds=120)
    probe.update(tail=whole.FIRST_LAYER, augmentation=whole.AUGMENTATION)
    f = whole.facts(probe, ref)
    assert f["same_photos_epochs"] == 10 and f["ref_same_photos"]["epoch"] == 10    # 20 x 2,311 = 10 x 4,622
    assert f["ref_best"]["epoch"] == 19 and f["best"]["epoch"] == 20 and f["at_edge"]
    assert f["ref_same_photos"]["val_loss"] == pytest.approx(1.1)                    # its epoch 10 (best at 19)
    text = whole.sentence(probe, ref, n_val=496)
    assert "at epoch 20 of 20 (at the edge" in text and "18° either way" in text and "2,311 training photos" in text
    assert "−0.850 in loss for the whole backbone, +40 photos" in text           # against the same photos seen
    assert "(+0.050, −5 photos)" in text and "a direction, not a verdict" in text    # against its whole run
    fig = whole.plot(probe, ref)
    assert len(fig.axes[0].lines) == 2
