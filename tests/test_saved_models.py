"""Every committed model still reproduces its recorded test metrics (``helpers.evaluate --check``)."""

import json

import pytest

from helpers import evaluate
from helpers.paths import REPO_ROOT

RECORDS = sorted((REPO_ROOT / "weights").glob("*.json"))


@pytest.fixture
def repo_dirs(monkeypatch):
    monkeypatch.setenv("HELPERS_WEIGHTS_DIR", str(REPO_ROOT / "weights"))
    monkeypatch.setenv("HELPERS_DATA_DIR", str(REPO_ROOT / "data"))
    monkeypatch.setenv("HELPERS_SHARED_DIR", str(REPO_ROOT.parent / "shared"))


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_saved_model_reproduces_its_record(record, repo_dirs, capsys):
    rec = json.loads(record.read_text())
    assert {"sha256", "task", "architecture", "hparams", "history", "metrics", "training", "versions"} <= set(rec)
    assert evaluate.main([record.stem, "--check"]) == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["check"] == "ok" and out["metrics"]["n"] == rec["metrics"]["test"]["n"]
