"""Notebook 05's study helpers: test-time augmentation and the experiment definitions."""

import numpy as np
import pytest

from helpers import best_model


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
    monkeypatch.setattr(best_model, "SELECTION_DIR", tmp_path)
    y = np.array([0, 1, 1, 0])
    # a is right on 3 of 4, b on 3 of 4 (different ones): their average is right on all 4
    _save_outputs(tmp_path, "a", [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]], y)
    _save_outputs(tmp_path, "b", [[0.6, 0.4], [0.4, 0.6], [0.1, 0.9], [0.4, 0.6]], y)
    table = best_model.ensemble_candidates(["a", "b", "missing"])
    assert list(table["members"]) == ["a + b"]
    assert table.loc[0, "val_accuracy"] == 1.0 and table.loc[0, "best_member_val_accuracy"] == 0.75
    _save_outputs(tmp_path, "c", [[0.9, 0.1]] * 3, y[:3])
    with pytest.raises(ValueError, match="same validation images"):
        best_model.ensemble_candidates(["a", "c"])


def test_deployment_choice_respects_the_speed_bar():
    import pandas as pd

    c = pd.DataFrame({"name": ["slow_best", "fast_close", "fast_far", "mid_close"],
                      "val_accuracy": [0.950, 0.948, 0.940, 0.9475], "images_per_s": [400, 3000, 9000, 1500]})
    d = best_model.deployment_choice(c)
    assert d["most_accurate"] == "slow_best" and d["deployed"] == "fast_close"
    assert d["fastest_within_tolerance"] == "fast_close"
    assert best_model.deployment_choice(c[c["name"] != "fast_close"])["deployed"] == "mid_close"
    assert best_model.deployment_choice(c.iloc[[0, 2]])["deployed"] is None  # nothing fast within 0.3 points
    assert best_model.deployment_choice(c.assign(images_per_s=2000))["deployed"] == "slow_best"
    with pytest.raises(ValueError):
        best_model.deployment_choice(c.iloc[[]])


def test_the_deeper_transfer_experiment_trains_on_cached_activations(tiny_fashion, monkeypatch, tmp_path):
    import dataclasses

    from helpers import weights_store

    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion[0]))
    monkeypatch.setattr(best_model, "SELECTION_DIR", tmp_path / "selection")
    e = best_model.EXPERIMENTS["fashion_tl_mobilenet_v2_deep"]
    small = dataclasses.replace(e, hparams={**e.hparams, "image_size": 32}, build_kwargs={"backbone_weights": None})
    monkeypatch.setitem(best_model.EXPERIMENTS, e.name, small)
    _, rec = best_model.train(e.name, epochs=2, batch_size=16)
    assert rec["hparams"]["unfrozen_from"] == "block_16_expand" and rec["notes"]["direction"] == "deeper transfer"
    assert rec["training"]["schedule"]["kind"] == "cosine" and "refit" not in rec["training"]
    assert weights_store.exists(e.name) and best_model.selection_outputs(e.name)[0].shape[1] == 10
    with pytest.raises(ValueError, match="float32"):
        best_model.train(e.name, retrain=True, mixed_precision=True)
