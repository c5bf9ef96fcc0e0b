import importlib.util

import pytest

from helpers.core.errors import HelpersError
from helpers.training import tuning


def test_both_strategies_run_and_record_every_trial(tiny_task, isolated_dirs):
    _, data = tiny_task
    df = tuning.search("random", data, max_epochs=1, budget_epochs=2, batch_size=32, task="tiny")
    both = tuning.search_equal_budget(data, max_epochs=2, batch_size=32, task="tiny")
    hb_epochs = both.loc[both.strategy == "hyperband", "epochs"].sum()
    assert (both.strategy == "random").sum() == max(1, round(hb_epochs / 2))
    assert len(df) == 2 and (df["status"] == "COMPLETED").all()
    assert set(tuning.SPACE) <= set(df.columns) and df["val_accuracy"].between(0, 1).all()
    hb = both[both.strategy == "hyperband"]                         # the equal-budget search ran Hyperband first
    assert len(hb) >= 2 and hb["epochs"].sum() >= len(hb) and (hb["status"] == "COMPLETED").all()


def test_a_failing_trial_fails_loudly(tiny_task, monkeypatch):
    _, data = tiny_task

    real = tuning._hypermodel

    def broken(task_name):
        calls = []
        good = real(task_name)

        def build(hp):  # the tuner's first build (at construction) works; every trial's build fails
            calls.append(1)
            if len(calls) > 1:
                raise ValueError("simulated trial failure, like a missing tensorboard")
            return good(hp)
        return build

    monkeypatch.setattr(tuning, "_hypermodel", broken)
    with pytest.raises(HelpersError, match="failed"):
        tuning.search("random", data, max_epochs=1, budget_epochs=2, task="tiny")


def test_missing_tensorboard_is_reported_up_front(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    with pytest.raises(HelpersError, match="pip install keras-tuner tensorboard"):
        tuning.check_ready()
