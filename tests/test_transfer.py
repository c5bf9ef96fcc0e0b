"""The transfer-learning path on tiny inputs with random backbone weights (ResNet50 included)."""

import numpy as np
import pytest

from helpers.inputs import tasks
from helpers.models import architectures, saved_models, transfer
from helpers.training import cached_transfer


@pytest.fixture
def tiny_rgb_task(monkeypatch):
    rng = np.random.default_rng(0)

    def make(n):
        y = np.arange(n) % 2
        x = rng.integers(0, 50, (n, 8, 8, 1)).astype(np.uint8)
        x[y == 1, 2:6, 2:6] = 240
        return x, y.astype(np.int64)

    data = {"train": make(24), "val": make(8), "test": make(8)}
    task = tasks.Task("tiny10", "two classes, 10-way softmax", [f"c{i}" for i in range(3)], (8, 8, 1),
                      lambda: data, lambda im: None)
    monkeypatch.setitem(tasks.TASKS, "tiny10", task)
    return data


STEP = dict(image_size=32, task="tiny10", backbone_weights=None, epochs=2, batch_size=8, patience=None,
            refit_on_train_and_val=True, progress=False)


@pytest.mark.parametrize("backbone", ["mobilenet_v2", "resnet50"])
def test_three_steps_train_on_cached_features_and_reload(tiny_rgb_task, isolated_dirs, backbone):
    m1, r1 = cached_transfer.train_or_load_step(f"{backbone}_s1", backbone=backbone, **STEP)
    assert r1["trainable_params"] < r1["params"] and r1["hparams"]["unfrozen"] is False
    cache = sorted(p.name for p in cached_transfer.feature_cache_dir().iterdir())
    assert len(cache) == 3 and all(p.startswith(f"{backbone}_32_random_") for p in cache)  # one file per split
    m2, r2 = cached_transfer.train_or_load_step(f"{backbone}_s2", backbone=backbone, head_units=[8, 8], dropout=0.1, **STEP)
    m3, r3 = cached_transfer.train_or_load_step(f"{backbone}_s3", backbone=backbone, head_units=[8, 8], dropout=0.1,
                                         unfrozen=True, init_head_from=f"{backbone}_s2", **STEP)
    assert len(list(cached_transfer.feature_cache_dir().iterdir())) == 3  # step 3 reused the same cache
    assert r3["notes"]["unfrozen_layers"] == list(transfer.TAILS[backbone].unfrozen)
    assert r3["trainable_params"] > r2["trainable_params"]
    assert {r["training"]["steps_per_execution"] for r in (r1, r2, r3)} == {cached_transfer.STEPS_PER_EXECUTION}
    # step 3's selection run started from step 2's head before step 2's refit saw the validation images
    assert r3["notes"]["init_head_for_selection"].endswith("replayed: identical to its recorded history")
    replayed, identical = cached_transfer.replay_selection_head(f"{backbone}_s2", None, progress=False)
    saved = m2.get_layer("head").get_weights()
    assert identical and any(not np.array_equal(a, b) for a, b in zip(replayed, saved))
    assert r3["notes"]["init_head_sha1"] == {"select": cached_transfer.weights_digest(replayed),
                                             "refit": cached_transfer.weights_digest(saved)}
    assert r3["notes"]["init_head_replay_seconds"] > 0
    # the full model (images in) reproduces the metrics computed on cached features
    for name, rec in ((f"{backbone}_s1", r1), (f"{backbone}_s3", r3)):
        model, _ = saved_models.load(name)
        x, y = tiny_rgb_task["test"]
        from helpers.evaluation.metrics import classification_metrics
        got = classification_metrics(y, saved_models.predict_proba(model, x))
        assert abs(got["loss"] - rec["metrics"]["test"]["loss"]) < 1e-4


def test_a_replay_on_other_data_is_refused(tiny_rgb_task, isolated_dirs):
    cached_transfer.train_or_load_step("s2", backbone="mobilenet_v2", head_units=[4], **STEP)
    smaller = {s: (x[:-2], y[:-2]) for s, (x, y) in tiny_rgb_task.items()}
    with pytest.raises(ValueError, match="cannot be replayed on them"):
        cached_transfer.replay_selection_head("s2", None, data=smaller, progress=False)
    with pytest.raises(ValueError, match="input_pipeline must be one of"):  # before any replay or caching
        cached_transfer.train_or_load_step("s3", backbone="mobilenet_v2", head_units=[4], unfrozen=True, init_head_from="s2",
                                    input_pipeline="fast", **STEP)


def test_tail_model_reproduces_the_backbone_output():

    model = architectures.build("transfer", (8, 8, 1), 3, "softmax", backbone="mobilenet_v2", image_size=32)
    x = np.random.default_rng(0).integers(0, 255, (2, 8, 8, 1)).astype(np.float32)
    pooled, cut = transfer.feature_extractor(model, "mobilenet_v2", with_tail_inputs=True)(x)
    np.testing.assert_allclose(np.asarray(transfer.tail_model(model, "mobilenet_v2")(cut)),
                               np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model.get_layer("head")(pooled)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("start", sorted(transfer.DEEPER_CUTS["mobilenet_v2"]))
def test_every_deeper_cut_reproduces_the_backbone_output(start):
    """Cached activations at a deeper cut, run through the tail from ``start`` on, give the full model's output."""
    model = architectures.build("transfer", (8, 8, 1), 3, "softmax", backbone="mobilenet_v2", image_size=32)
    x = np.random.default_rng(1).integers(0, 255, (2, 8, 8, 1)).astype(np.float32)
    cut = transfer.tail_cut("mobilenet_v2", start)
    _, acts = transfer.feature_extractor(model, "mobilenet_v2", with_tail_inputs=True, cut=cut)(x)
    np.testing.assert_allclose(np.asarray(transfer.tail_model(model, "mobilenet_v2", cut)(acts)),
                               np.asarray(model(x)), rtol=1e-4, atol=1e-5)


def test_a_deeper_tail_trains_on_its_own_cache_and_reloads(tiny_rgb_task, isolated_dirs):
    """unfrozen_from: block_16 and Conv_1 trained on cached block_15_add outputs, kept in cache files of their own."""
    from helpers.evaluation.metrics import classification_metrics

    _, r1 = cached_transfer.train_or_load_step("s1", backbone="mobilenet_v2", **STEP)
    model, rec = cached_transfer.train_or_load_step("deep", backbone="mobilenet_v2", unfrozen_from="block_16_expand",
                                             **{**STEP, "refit_on_train_and_val": False})
    cache = sorted(p.name for p in cached_transfer.feature_cache_dir().iterdir())
    assert len(cache) == 6 and sum("_cut-block_15_add_" in c for c in cache) == 3
    assert rec["hparams"]["unfrozen_from"] == "block_16_expand" and rec["hparams"]["unfrozen"] is False
    assert rec["notes"]["unfrozen_layers"][0] == "block_16_expand" and rec["notes"]["unfrozen_layers"][-1] == "Conv_1_bn"
    assert cached_transfer.trained_backbone_layers(model) == rec["notes"]["unfrozen_layers"]
    assert rec["trainable_params"] > 4 * r1["trainable_params"]
    loaded, _ = saved_models.load("deep")
    x, y = tiny_rgb_task["test"]
    got = classification_metrics(y, saved_models.predict_proba(loaded, x))
    assert abs(got["loss"] - rec["metrics"]["test"]["loss"]) < 1e-4  # images in = cached activations in
    cached = cached_transfer.predict_cached(loaded, rec, "test", tiny_rgb_task)
    assert abs(classification_metrics(y, cached)["loss"] - rec["metrics"]["test"]["loss"]) < 1e-4
    with pytest.raises(ValueError, match="no cached-tail cut"):
        transfer.tail_cut("mobilenet_v2", "block_5_expand")
    with pytest.raises(ValueError, match="not both"):
        cached_transfer.train_or_load_step("x", backbone="mobilenet_v2", unfrozen=True, unfrozen_from="block_16_expand",
                                    **STEP)
