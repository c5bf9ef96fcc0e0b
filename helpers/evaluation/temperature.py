"""A fitted temperature applied to a model's probabilities: ``softmax(log(p) / T)``.

Serving applies the temperature stored in a model's record (``helpers.models.saved_models.temperature_of``);
fitting it (temperature scaling on the validation split) is training's job (:mod:`helpers.training.calibration`).
"""

from __future__ import annotations

import numpy as np

from helpers.evaluation.metrics import as_class_probabilities

EPS = 1e-12


def apply_temperature(proba, temperature: float) -> np.ndarray:
    """Probabilities ``(N, C)`` re-scaled by ``temperature``: softmax(log(p) / T). ``T = 1`` changes nothing."""
    p = as_class_probabilities(proba)
    if temperature == 1.0:
        return p
    z = np.log(np.clip(p, EPS, 1.0)) / float(temperature)
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
