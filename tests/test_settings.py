"""Study settings are read at call time: a test (or a notebook) that changes a study's ``config`` is seen by every
function's defaults (``helpers.core.settings``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd

from helpers.studies.best_model import config as best_model_config
from helpers.studies.best_model import selection
from helpers.studies.flowers import config as flowers_config
from helpers.studies.flowers import runs

PKG = Path(__file__).resolve().parent.parent / "helpers"


def test_a_changed_setting_is_seen_by_a_function_default(monkeypatch):
    assert f"_e{flowers_config.EPOCHS}_b{flowers_config.BATCH_SIZE}_" in runs.run_key("standard", 0.01, 0.9, 1)
    monkeypatch.setattr(flowers_config, "EPOCHS", 3)
    monkeypatch.setattr(flowers_config, "BATCH_SIZE", 7)
    assert "_e3_b7_" in runs.run_key("standard", 0.01, 0.9, 1)
    assert runs.run_key("standard", 0.01, 0.9, 1, epochs=5).count("_e5_") == 1      # a given value still wins


def test_the_speed_bar_is_read_when_the_deployment_is_chosen(monkeypatch):
    candidates = pd.DataFrame({"name": ["big", "small"], "val_accuracy": [0.95, 0.94], "images_per_s": [100.0, 900.0],
                               "cpu_training_seconds": [10.0, 10.0]})
    monkeypatch.setattr(best_model_config, "SPEED_TARGET", 50.0)
    assert selection.deployment_choice(candidates)["deployed"] == "big"
    monkeypatch.setattr(best_model_config, "SPEED_TARGET", 500.0)
    chosen = selection.deployment_choice(candidates)
    assert chosen["deployed"] == "small" and chosen["speed_target"] == 500.0


def test_no_function_default_copies_a_config_value_at_import():
    found = []
    for path in sorted(PKG.rglob("*.py")):
        tree = ast.parse(path.read_text())
        configs = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                   for a in n.names if a.name == "config" or a.name.endswith("_config")}
        for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for d in [*fn.args.defaults, *(d for d in fn.args.kw_defaults if d is not None)]:
                if any(isinstance(s, ast.Attribute) and isinstance(s.value, ast.Name) and s.value.id in configs
                       for s in ast.walk(d)):
                    found.append(f"{path.relative_to(PKG.parent)}:{fn.lineno} {fn.name}(... = {ast.unparse(d)})")
    assert not found, "read these settings at call time (default None): " + "; ".join(found)
