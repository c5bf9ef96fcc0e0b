"""Sampled reproduction checks (helpers.evaluation.reproduction, run by helpers.evaluation.rescoring and the
command helpers.evaluate) on a tiny saved model."""

import json

import numpy as np
import pytest

from helpers import evaluate
from helpers.core import paths
from helpers.core.errors import HelpersError
from helpers.evaluation import reproduction, rescoring
from helpers.models import weights_store


@pytest.fixture
def kept_dir(monkeypatch, tmp_path):
    monkeypatch.setattr(reproduction, "PREDICTIONS_DIR", tmp_path / "predictions")
    return tmp_path / "predictions"


def test_kept_labels_reproduce_on_a_sample_and_are_void_for_other_weights(tiny_dense, kept_dir):
    assert reproduction.saved_test_labels("tiny_dense") is None and rescoring.check_on_sample("tiny_dense") is None
    assert evaluate.main(["tiny_dense", "--save-test-labels"]) == 0       # the command keeps them
    path = reproduction.predictions_path("tiny_dense")
    assert path.parent == kept_dir and path.is_file()
    r = rescoring.check_on_sample("tiny_dense", size=7)
    assert r["reproduced"] and r["disagree"] == 0 and r["sample"] == 7
    assert r["accuracy"] == pytest.approx(tiny_dense[1]["metrics"]["test"]["accuracy"], abs=5e-4)
    with np.load(path) as z:   # labels changed on disk: the sample disagrees and the accuracy moves
        wrong, sha = (z["labels"] + 1) % 3, z["sha256"]
    np.savez_compressed(path, labels=wrong, sha256=sha)
    assert not rescoring.check_on_sample("tiny_dense")["reproduced"]
    record = weights_store.load_record("tiny_dense")
    assert reproduction.saved_test_labels("tiny_dense", {**record, "sha256": "other weights"}) is None


def test_labels_that_do_not_reproduce_the_record_are_not_kept(tiny_dense, kept_dir):
    path = paths.weights_dir() / "tiny_dense.json"
    record = json.loads(path.read_text())
    record["metrics"]["test"]["accuracy"] = 2.0
    path.write_text(json.dumps(record))
    with pytest.raises(HelpersError, match="not reproduced"):
        rescoring.save_test_labels("tiny_dense")
    assert not reproduction.predictions_path("tiny_dense").exists()


def test_the_sample_is_fixed_sorted_and_never_larger_than_the_split():
    a, b = reproduction.sample(100, 10), reproduction.sample(100, 10)
    assert (a == b).all() and (np.diff(a) > 0).all() and len(a) == 10
    assert (reproduction.sample(5, 10) == np.arange(5)).all()
