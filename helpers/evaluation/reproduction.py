"""A saved model's recorded test accuracy reproduced on a sample of the test images, for the slowest networks.

Pushing every test image through a large network takes most of a minute on 2 CPU cores, on every run of the test
suite. So for those networks the predicted test labels are kept (``results/test_predictions/NAME.npz``: made once
from the saved weights, every image through the whole network, only when they give the recorded accuracy; stamped
with the weights file's sha256), and a check asks two things: do the kept labels give the recorded accuracy, and does
a fixed random sample of the test images, pushed through the whole network again, get the same labels? New weights
(another sha256) make the kept labels void. ``python -m helpers.evaluate NAME --check`` still scores every image.

This module keeps, finds and judges the labels; :func:`helpers.evaluation.rescoring.save_test_labels` and
:func:`~helpers.evaluation.rescoring.check_on_sample` load the model (``helpers.models.saved_models``) and predict.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.errors import HelpersError

#: Where the kept test labels live (small files under version control).
PREDICTIONS_DIR = paths.REPO_ROOT / "results" / "test_predictions"
#: Test images re-predicted by a sampled check, drawn once with :data:`SEED`.
SAMPLE_SIZE = 2000
SEED = 0
#: The share of the sample allowed to get another label (the float order of another backend can flip a near tie).
MAX_DISAGREEMENT = 0.001
#: The largest gap between a reproduced accuracy and the recorded one (``helpers.evaluate``'s default tolerance).
TOLERANCE = 5e-4


def predictions_path(name: str) -> Path:
    return PREDICTIONS_DIR / f"{name}.npz"


def keep_test_labels(name: str, record: dict, labels, y) -> dict:
    """Keep ``labels`` (every test image's predicted class, made by saved model ``name`` through the whole network)
    if they reproduce the recorded accuracy (else :class:`HelpersError`, nothing kept). Returns ``{"accuracy",
    "path"}``. ``helpers.evaluation.rescoring.save_test_labels`` makes the labels and calls this."""
    labels, y = np.asarray(labels), np.asarray(y)
    accuracy = float((labels == y).mean())
    recorded = record["metrics"]["test"]["accuracy"]
    if abs(accuracy - recorded) > TOLERANCE:
        raise HelpersError(f"{name}: test accuracy {accuracy:.4f}, recorded {recorded:.4f}: not reproduced, no labels "
                           "kept (python -m helpers.evaluate NAME --check says more)")
    path = predictions_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, labels=labels.astype(np.int16), sha256=np.asarray(record["sha256"]))
    return {"accuracy": accuracy, "path": path}


def saved_test_labels(name: str, record: dict | None = None) -> np.ndarray | None:
    """The kept test labels of ``name``, or ``None`` when none are kept or they belong to other weights."""
    path = predictions_path(name)
    if not path.is_file():
        return None
    if record is None:
        from helpers.models import weights_store

        record = weights_store.load_record(name)
    with np.load(path) as z:
        return z["labels"].astype(np.int64) if str(z["sha256"]) == record.get("sha256") else None


def sample(n: int, size: int = SAMPLE_SIZE, seed: int = SEED) -> np.ndarray:
    """A fixed random sample of ``size`` of ``n`` indices (all of them when ``n <= size``), sorted."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def sampled_verdict(name: str, record: dict, kept, y, idx, again) -> dict:
    """``{"accuracy", "recorded", "sample", "disagree", "reproduced"}``: the accuracy of the ``kept`` labels, and how
    many of the sampled test images ``idx``, predicted ``again`` from the saved weights, get another label.
    ``helpers.evaluation.rescoring.check_on_sample`` predicts the sample and calls this."""
    kept, y, again = np.asarray(kept), np.asarray(y), np.asarray(again)
    if len(kept) != len(y):
        raise HelpersError(f"{predictions_path(name)} holds {len(kept)} labels for {len(y)} test images: "
                           f"python -m helpers.evaluate {name} --save-test-labels")
    accuracy, recorded = float((kept == y).mean()), record["metrics"]["test"]["accuracy"]
    disagree = int((again != kept[idx]).sum())
    return {"accuracy": accuracy, "recorded": recorded, "sample": len(idx), "disagree": disagree,
            "reproduced": abs(accuracy - recorded) <= TOLERANCE and disagree <= MAX_DISAGREEMENT * len(idx)}
