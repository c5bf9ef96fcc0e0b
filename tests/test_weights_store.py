"""The weights store's deployment pointer (weights/deployed.txt), which helpers.predict follows."""

import pytest

from helpers.core.errors import WeightsNotFoundError
from helpers.models import weights_store


def test_the_deployed_model_is_named_per_task_and_followed_by_predict(tiny_task):
    from conftest import TINY_FIT

    from helpers.serving import classify
    from helpers.training import trainer

    trainer.train_or_load("tiny_a", **TINY_FIT)
    trainer.train_or_load("tiny_b", **{**TINY_FIT, "seed": 7})
    by_val = classify.best_model_name("tiny")
    other = "tiny_b" if by_val == "tiny_a" else "tiny_a"
    assert weights_store.deployed("tiny") is None
    path = weights_store.set_deployed("tiny", other)
    assert weights_store.deployed("tiny") == other and classify.best_model_name("tiny") == other
    before = path.stat().st_mtime_ns
    weights_store.set_deployed("tiny", other)  # unchanged: the file is not rewritten
    assert path.stat().st_mtime_ns == before and path.read_text() == f"tiny {other}\n"
    with pytest.raises(WeightsNotFoundError):
        weights_store.set_deployed("tiny", "missing")
    with pytest.raises(ValueError, match="task"):
        weights_store.set_deployed("fashion", other)
    weights_store.weights_path(other).unlink()  # the named model is gone: a clear error, not another model
    with pytest.raises(WeightsNotFoundError, match="not saved"):
        classify.best_model_name("tiny")
