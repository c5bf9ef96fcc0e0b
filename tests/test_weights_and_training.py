import json

import numpy as np
import pytest
from conftest import TINY_FIT as FIT

from helpers.core.errors import WeightsChecksumError, WeightsNotFoundError
from helpers.models import saved_models, weights_store
from helpers.training import trainer


@pytest.fixture
def trained(tiny_dense):
    return tiny_dense


def test_training_writes_weights_and_a_complete_record(trained, isolated_dirs):
    model, rec = trained
    saved = json.loads((isolated_dirs / "weights" / "tiny_dense.json").read_text())
    assert saved["sha256"] == weights_store.sha256sum(isolated_dirs / "weights" / "tiny_dense.weights.h5")
    n = saved["training"]["epochs_run"]
    assert 1 <= n <= 6 and all(len(v) == n for v in saved["history"].values())
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "epoch_seconds"} <= set(saved["history"])
    assert saved["training"]["best_epoch"] == int(np.argmin(saved["history"]["val_loss"])) + 1
    assert set(saved["metrics"]) == {"val", "test"} and saved["metrics"]["test"]["n"] == 30
    assert saved["metrics"]["val"]["accuracy"] > 0.6  # the stripes are easy
    assert {"keras", "numpy", "python"} <= set(saved["versions"]) and saved["params"] == model.count_params()
    assert not (isolated_dirs / "data" / "checkpoints" / "tiny_dense").exists()  # cleaned up after success


def test_second_call_loads_instead_of_training(trained, tiny_task, monkeypatch):
    model, rec = trained
    monkeypatch.setattr(trainer, "fit", lambda *a, **k: pytest.fail("should have loaded"))
    model2, rec2 = trainer.train_or_load("tiny_dense", **FIT)
    x = tiny_task[1]["test"][0]
    np.testing.assert_array_equal(saved_models.predict_proba(model, x), saved_models.predict_proba(model2, x))
    assert rec2["sha256"] == rec["sha256"]


def test_training_is_reproducible(trained, tiny_task):
    model, rec = trained
    first = [w.copy() for w in model.get_weights()]
    model2, again = trainer.train_or_load("tiny_dense", retrain=True, **FIT)
    assert again["history"]["loss"] == rec["history"]["loss"]
    assert again["metrics"] == rec["metrics"]
    for a, b in zip(first, model2.get_weights()):  # the .h5 bytes differ (file metadata), the weights do not
        np.testing.assert_array_equal(a, b)


def test_checksum_mismatch_is_a_clear_error(trained, isolated_dirs):
    path = isolated_dirs / "weights" / "tiny_dense.weights.h5"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsChecksumError, match="sha256.*git checkout -- weights/"):
        saved_models.load("tiny_dense")


def test_missing_model_lists_the_saved_ones(trained):
    with pytest.raises(WeightsNotFoundError, match="saved models: tiny_dense"):
        saved_models.load("nope")
    assert weights_store.list_names("tiny") == ["tiny_dense"] and weights_store.list_names("other") == []


def test_refit_on_train_and_val_uses_the_chosen_epoch_count(tiny_task):
    _, rec = trainer.train_or_load("tiny_refit", refit_on_train_and_val=True, monitor="val_accuracy",
                                    reduce_lr_patience=1, **FIT)
    refit = rec["training"]["refit"]
    assert refit["epochs"] == rec["training"]["best_epoch"] == trainer.best_epoch(rec["history"], "val_accuracy")
    assert refit["train_size"] == 120 and len(refit["history"]["loss"]) == refit["epochs"]
    # the plateau schedule of the selection run is replayed
    assert refit["history"]["learning_rate"] == rec["history"]["learning_rate"][: refit["epochs"]]
    assert rec["metrics"]["test"]["n"] == 30


def test_refit_history_has_no_empty_validation_columns(tiny_task):
    _, rec = trainer.train_or_load("tiny_refit2", refit_on_train_and_val=True, **FIT)
    assert not any(k.startswith("val_") for k in rec["training"]["refit"]["history"])


def test_mixed_precision_training_is_scored_and_saved_in_float32(tiny_task):
    import keras

    model, rec = trainer.train_or_load("tiny_bf16", mixed_precision=True, refit_on_train_and_val=True, **FIT)
    assert keras.config.dtype_policy().name == "float32"  # policy restored
    assert all(w.dtype == "float32" for w in model.weights) and model.dtype_policy.name == "float32"
    assert rec["training"]["precision"].startswith("mixed_bfloat16")
    loaded, _ = saved_models.load("tiny_bf16")
    x, y = tiny_task[1]["test"]
    from helpers.evaluation.metrics import classification_metrics
    assert classification_metrics(y, saved_models.predict_proba(loaded, x)) == rec["metrics"]["test"]


@pytest.mark.parametrize("pipeline", trainer.INPUT_PIPELINES)
def test_several_steps_per_execution_change_the_speed_not_the_model(tiny_task, pipeline):
    fit = dict(FIT, hparams={"units": [16], "dropout": 0.3}, input_pipeline=pipeline)  # dropout: its random stream too
    one, rec_one = trainer.train_or_load("tiny_spe1", refit_on_train_and_val=True, **fit)
    many, rec_many = trainer.train_or_load("tiny_spe4", refit_on_train_and_val=True, steps_per_execution=4, **fit)
    assert rec_one["training"]["input_pipeline"] == pipeline
    assert rec_many["training"]["steps_per_execution"] == 4 and rec_one["training"]["steps_per_execution"] == 1
    assert rec_many["history"]["loss"] == rec_one["history"]["loss"]
    assert rec_many["metrics"] == rec_one["metrics"]
    for a, b in zip(one.get_weights(), many.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_steady_pipeline_shuffles_reproducibly_and_learns(tiny_task):
    fit = dict(FIT, input_pipeline="steady", refit_on_train_and_val=True)
    model, rec = trainer.train_or_load("tiny_steady", **fit)
    again, rec2 = trainer.train_or_load("tiny_steady", retrain=True, **fit)
    assert rec2["history"]["loss"] == rec["history"]["loss"] and rec2["metrics"] == rec["metrics"]
    assert rec["metrics"]["val"]["accuracy"] > 0.6  # the stripes are easy
    # the order changes every epoch, and it is a permutation of the whole split
    x, y = tiny_task[1]["train"]
    ds = trainer.array_dataset(np.arange(len(y)), y, 7, shuffle_seed=3)
    first, second = (np.concatenate([b[0].numpy() for b in ds]) for _ in range(2))
    assert sorted(first) == list(range(len(y))) and not np.array_equal(first, second)
    in_order = np.concatenate([b[0].numpy() for b in trainer.array_dataset(np.arange(len(y)), y, 7)])
    np.testing.assert_array_equal(in_order, np.arange(len(y)))


def test_unknown_input_pipeline_is_a_clear_error(tiny_task):
    with pytest.raises(ValueError, match="input_pipeline must be one of"):
        trainer.train_or_load("tiny_bad", input_pipeline="fast", **FIT)


@pytest.mark.parametrize("backend, expected", [("tensorflow", ("steady", 8)), ("jax", ("keras", 8)),
                                               ("torch", ("keras", 1))])
def test_settings_fall_back_to_what_the_backend_can_do(monkeypatch, backend, expected):
    import keras

    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    assert trainer.effective_settings("steady", 8) == expected


def test_fit_kwargs_may_not_override_what_run_fit_sets(tiny_task):
    with pytest.raises(ValueError, match=r"fit_kwargs may not set \['shuffle'\]"):
        trainer.train_or_load("tiny_clash", input_pipeline="steady", fit_kwargs={"shuffle": True}, **FIT)
