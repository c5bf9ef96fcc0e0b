"""The modern training recipe: optimizer settings, a cosine schedule with warm-up, label smoothing."""

import numpy as np
import pandas as pd
import pytest
from conftest import TINY_FIT

from helpers import best_model as best_model_command
from helpers.models import weights_store
from helpers.training import recipe, trainer


def test_cosine_schedule_warms_up_then_decays_to_the_final_fraction():
    lr = recipe.lr_schedule_values({"kind": "cosine", "warmup_epochs": 2, "final_fraction": 0.01}, 0.1, 10)
    assert len(lr) == 10
    assert lr[0] < lr[1] < lr[2] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lr[2:], lr[3:]))
    assert lr[-1] == pytest.approx(0.001)
    assert recipe.lr_schedule_values(None, 0.1, 5) is None
    with pytest.raises(ValueError, match="unknown"):
        recipe.lr_schedule_values({"kind": "step"}, 0.1, 5)


def test_label_smoothing_matches_its_formula():
    import keras

    loss = recipe.smoothed_sparse_crossentropy(0.1, 4)
    y = np.array([0, 3])
    p = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]], dtype="float32")
    target = np.eye(4)[y] * 0.9 + 0.025
    expected = -(target * np.log(p)).sum(1)
    got = keras.ops.convert_to_numpy(loss(y, p))
    assert np.allclose(got, expected, atol=1e-5)
    with pytest.raises(ValueError):
        recipe.smoothed_sparse_crossentropy(1.0, 4)


def test_fit_with_the_recipe_records_it_and_refits_on_the_same_schedule(tiny_task):
    schedule = {"kind": "cosine", "warmup_epochs": 1, "final_fraction": 0.05}
    model, rec = trainer.fit("tiny_recipe", **{**TINY_FIT, "patience": None, "epochs": 4}, optimizer="adamw",
                              optimizer_config={"weight_decay": 1e-4}, label_smoothing=0.1, schedule=schedule,
                              refit_on_train_and_val=True)
    t = rec["training"]
    assert t["optimizer_config"] == {"weight_decay": 1e-4} and t["label_smoothing"] == 0.1 and t["schedule"] == schedule
    expected = recipe.lr_schedule_values(schedule, TINY_FIT["learning_rate"], 4)
    assert rec["history"]["learning_rate"] == pytest.approx(expected, rel=1e-5)
    assert t["refit"]["history"]["learning_rate"][:t["best_epoch"]] == pytest.approx(expected[:t["best_epoch"]], rel=1e-5)
    assert rec["metrics"]["test"]["accuracy"] > 0.6
    assert weights_store.exists("tiny_recipe")


def test_a_recipe_is_the_keyword_form_as_one_value():
    r = recipe.Recipe(**TINY_FIT)
    assert recipe.as_recipe(**TINY_FIT) == r and recipe.as_recipe(r) is r
    assert recipe.as_recipe(r, epochs=9) == recipe.Recipe(**{**TINY_FIT, "epochs": 9}) and r.epochs == 6
    with pytest.raises(TypeError):
        recipe.as_recipe(epochs=3)                      # task, architecture and hparams are required
    with pytest.raises(TypeError):
        recipe.Recipe(**TINY_FIT, epoch=3)              # a misspelt setting is an error, as it was for fit
    kept = recipe.Recipe(**TINY_FIT, soft_targets={"train": np.zeros(2)}, prepare=print,
                         fit_kwargs={"class_weight": {np.int64(0): np.float64(1.5)}}, input_shape=(8, 8, 1)).as_record()
    assert not {"soft_targets", "prepare", "selection_outputs", "build_kwargs", "notes"} & set(kept)
    assert kept["fit_kwargs"] == {"class_weight": {"0": 1.5}} and kept["input_shape"] == [8, 8, 1]
    assert kept["epochs"] == 6 and kept["hparams"] == TINY_FIT["hparams"]


def test_fit_takes_a_recipe_and_records_it_for_a_new_training(tiny_task):
    _, rec = trainer.fit("tiny_from_recipe", recipe.Recipe(**TINY_FIT), notes={"why": "test"})
    again = weights_store.load_record("tiny_from_recipe")
    assert again["recipe"] == recipe.Recipe(**TINY_FIT).as_record() and again["notes"] == {"why": "test"}
    assert again["training"]["max_epochs"] == TINY_FIT["epochs"] and again["training"]["batch_size"] == 16
    _, loaded = trainer.train_or_load("tiny_from_recipe", recipe.Recipe(**TINY_FIT))   # saved: loaded, not trained
    assert loaded["sha256"] == rec["sha256"]


def test_schedule_and_plateau_reduction_do_not_mix(tiny_task):
    with pytest.raises(ValueError, match="not both"):
        trainer.fit("x", **TINY_FIT, schedule={"kind": "cosine"}, reduce_lr_patience=2)


def test_best_model_experiment_trains_tiny_and_logs(tiny_fashion, monkeypatch, tmp_path):
    from helpers.studies import best_model

    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion[0]))
    monkeypatch.setattr(best_model.config, "EXPERIMENTS_CSV", tmp_path / "experiments.csv")
    monkeypatch.setattr(best_model.config, "INFERENCE_JSON", tmp_path / "none.json")
    monkeypatch.setattr(best_model.config, "SELECTION_DIR", tmp_path / "selection")
    _, rec = best_model.train("fashion_vgg_bn", epochs=2, batch_size=16)
    assert rec["notes"]["direction"] == "own network" and rec["training"]["schedule"]["kind"] == "cosine"
    assert "refit" not in rec["training"]  # a fixed cosine budget: the selection run is the model
    val_proba, y_val = best_model.selection_outputs("fashion_vgg_bn")
    assert val_proba.shape == (len(y_val), 10) and np.allclose(val_proba.sum(axis=1), 1, atol=1e-4)
    assert round(float((val_proba.argmax(1) == y_val).mean()), 6) == rec["metrics"]["val"]["accuracy"]
    df = best_model.write_log()
    assert list(df["name"]) == ["fashion_vgg_bn"] and (tmp_path / "experiments.csv").is_file()
    assert df.loc[0, "val_accuracy"] == rec["metrics"]["val"]["accuracy"] and df.loc[0, "epochs"] == 2
    assert df.loc[0, "kind"] == "single model" and pd.isna(df.loc[0, "gpu_training_seconds"])  # a CPU run
    combined = pd.DataFrame([{"name": "fashion_vgg_bn + TTA x5", "kind": "test-time augmentation",
                              "members": "fashion_vgg_bn", "val_accuracy": 0.5, "images_per_s": 100.0,
                              "cpu_training_seconds": 1.0, "cpu_training": "measured"}])
    df = best_model.write_log(candidates=pd.concat([combined.assign(kind="single model"), combined]))
    assert list(df["kind"]) == ["single model", "test-time augmentation"]  # a single model is logged once
    assert df.loc[1, "members"] == "fashion_vgg_bn" and pd.isna(df.loc[1, "epochs"])
    assert best_model_command.main(["train", "nope"]) != 0
