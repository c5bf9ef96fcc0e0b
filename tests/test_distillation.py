"""Knowledge distillation and weight averaging on a tiny task: the loss, the targets, a distilled student with EMA
that is saved, reloaded and re-scored, and an ensemble with test-time views that equals its NumPy twin."""

import numpy as np
import pytest

from helpers import evaluate
from helpers.inputs.augment import shift_images
from helpers.models import saved_models
from helpers.training import distillation, ensemble, trainer
from tests.conftest import TINY_FIT


def test_the_loss_is_cross_entropy_at_alpha_0_and_zero_kl_when_the_student_is_the_teacher():
    import keras

    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=np.float32)
    y = np.array([0, 2])
    t = distillation.targets(y, distillation.log_probabilities(p))
    hard = distillation.distillation_loss(3, temperature=4.0, alpha=0.0)(t, p)
    ce = keras.losses.sparse_categorical_crossentropy(y, p)
    assert np.allclose(np.asarray(hard), np.asarray(ce), atol=1e-6)
    soft = distillation.distillation_loss(3, temperature=4.0, alpha=1.0)(t, p)
    assert np.allclose(np.asarray(soft), 0.0, atol=1e-5)                      # KL(teacher || itself) = 0
    other = distillation.distillation_loss(3, temperature=4.0, alpha=1.0)(t, p[::-1])
    assert (np.asarray(other) > 0.01).all()
    with pytest.raises(ValueError, match="temperature"):
        distillation.distillation_loss(3, temperature=0.0, alpha=0.5)
    with pytest.raises(ValueError, match="same images"):
        distillation.targets(y, np.zeros((3, 3)))


def test_teacher_outputs_round_trip_compactly(tmp_path):
    lp = distillation.log_probabilities(np.full((5, 3), 1 / 3))
    path = distillation.save_teacher_outputs(tmp_path / "t.npz", "teach", {"train": lp}, {"train": np.arange(5) % 3},
                                             notes={"views": 5})
    out = distillation.load_teacher_outputs(path)
    assert out["teacher"] == "teach" and out["notes"] == {"views": 5}
    assert out["train"][0].shape == (5, 3) and np.allclose(out["train"][0], np.log(1 / 3), atol=1e-3)
    with pytest.raises(Exception, match="no teacher outputs"):
        distillation.load_teacher_outputs(tmp_path / "missing.npz")


def test_a_distilled_student_with_ema_trains_saves_and_reproduces(tiny_task, tiny_dense, capsys):
    _, data = tiny_task
    teacher, _ = tiny_dense
    soft = {s: distillation.log_probabilities(saved_models.predict_proba(teacher, data[s][0]))
            for s in ("train", "val")}
    fit = dict(TINY_FIT, patience=None, monitor="val_accuracy")
    _, rec = trainer.fit("tiny_student", **fit, soft_targets=soft, distillation={"temperature": 2.0, "alpha": 0.7},
                         ema_momentum=0.9)
    t = rec["training"]
    assert t["distillation"] == {"temperature": 2.0, "alpha": 0.7} and t["ema_momentum"] == 0.9
    assert {"accuracy", "val_accuracy", "loss", "val_loss"} <= set(rec["history"])
    assert rec["metrics"]["val"]["accuracy"] >= 0.9                      # the stripes are easy
    capsys.readouterr()
    assert evaluate.main(["tiny_student", "--check"]) == 0               # the kept (averaged) weights are the saved ones
    with pytest.raises(ValueError, match="both"):
        trainer.fit("x", **fit, soft_targets=soft)


def test_an_ensemble_with_views_equals_its_members_on_shifted_images(tiny_task, tiny_dense):
    _, data = tiny_task
    x = data["test"][0]
    trainer.train_or_load("tiny_dense_2", **dict(TINY_FIT, seed=7))
    views = ((0, 0), (1, 0), (0, -1))
    model, rec = ensemble.make_ensemble("tiny_teacher", ["tiny_dense", "tiny_dense_2"], task="tiny", views=views)
    assert rec["hparams"]["views"] == [list(v) for v in views]
    members = [saved_models.load(n)[0] for n in ("tiny_dense", "tiny_dense_2")]
    expected = np.mean([saved_models.predict_proba(m, shift_images(x, *v)) for m in members for v in views], axis=0)
    assert np.allclose(saved_models.predict_proba(model, x), expected, atol=1e-5)
    assert evaluate.main(["tiny_teacher", "--check"]) == 0


def test_the_teacher_is_chosen_on_validation_loss_and_its_outputs_are_kept(tiny_task, tiny_dense, tmp_path, monkeypatch):
    from helpers.studies.best_model import config, teacher

    _, data = tiny_task
    trainer.train_or_load("tiny_dense_2", **dict(TINY_FIT, seed=7))
    views = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))
    outs = {n: (teacher.member_outputs(n, views, data["val"][0]), data["val"][1], list(views))
            for n in ("tiny_dense", "tiny_dense_2")}
    monkeypatch.setattr(teacher, "tta_outputs", lambda name, split: outs[name])
    monkeypatch.setattr(config, "TEACHER_OUTPUTS", tmp_path / "teacher_outputs.npz")
    table = teacher.candidates(names=tuple(outs), max_members=2)
    assert list(table["k"]) and table["val_loss"].is_monotonic_increasing       # best (lowest loss) first
    choice = teacher.choose(table)
    assert choice["views"] == [list(v) for v in views]
    model, rec = teacher.build(choice, data=data, progress=False, task="tiny")
    saved = distillation.load_teacher_outputs(config.TEACHER_OUTPUTS)
    assert saved["teacher"] == config.TEACHER and set(saved) >= {"train", "val", "test"}
    assert saved["train"][0].shape == (len(data["train"][1]), 3) and (saved["train"][1] == data["train"][1]).all()
    p_test = saved_models.predict_proba(model, data["test"][0])          # the saved model gives the saved outputs
    assert np.allclose(np.log(np.clip(p_test, 1e-7, 1)), saved["test"][0], atol=2e-2)
    assert rec["notes"]["members"] == choice["members"] and evaluate.main([config.TEACHER, "--check"]) == 0


def test_distillation_with_ema_trains_under_mixed_precision(tiny_task, tiny_dense):
    _, data = tiny_task
    teacher, _ = tiny_dense
    soft = {s: distillation.log_probabilities(saved_models.predict_proba(teacher, data[s][0]))
            for s in ("train", "val")}
    _, rec = trainer.fit("tiny_student_bf16", **dict(TINY_FIT, epochs=3, patience=None, monitor="val_accuracy"),
                         soft_targets=soft, distillation={"temperature": 2.0, "alpha": 0.7}, ema_momentum=0.9,
                         mixed_precision=True)
    assert rec["training"]["precision"].startswith("mixed_bfloat16") and rec["metrics"]["val"]["accuracy"] > 0.5
    assert evaluate.main(["tiny_student_bf16", "--check"]) == 0
