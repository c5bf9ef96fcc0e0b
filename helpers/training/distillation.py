"""Knowledge distillation: a small student trained on a teacher's softened outputs and on the true labels.

The teacher's outputs are computed once and kept as log-probabilities (float16, :func:`save_teacher_outputs`), so a
student can be retrained later without the teacher. The student's targets carry both: column 0 the label, the other
columns the teacher's log-probabilities (:func:`targets`); :func:`distillation_loss` splits them again::

    loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(label, student)

(Hinton et al., 2015: the T^2 keeps the soft term's gradients on the scale of the hard one's as T changes; the
student's logits are recovered from its softmax as log-probabilities, which changes nothing after a softmax.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The student's outputs below this probability count as this (log of 0 is undefined).
EPS = 1e-7


def log_probabilities(proba) -> np.ndarray:
    """``log(p)`` of averaged probabilities ``(N, C)``, clipped at :data:`EPS`, as float32."""
    return np.log(np.clip(np.asarray(proba, dtype=np.float64), EPS, 1.0)).astype(np.float32)


def targets(y, teacher_log_proba) -> np.ndarray:
    """The student's targets ``(N, 1 + C)`` float32: the label, then the teacher's log-probabilities."""
    y = np.asarray(y).reshape(-1, 1).astype(np.float32)
    t = np.asarray(teacher_log_proba, dtype=np.float32)
    if len(y) != len(t):
        raise ValueError(f"{len(y)} labels but {len(t)} teacher outputs: they must describe the same images")
    return np.concatenate([y, t], axis=1)


def distillation_loss(n_classes: int, temperature: float, alpha: float, label_smoothing: float = 0.0):
    """The loss of :mod:`this module <helpers.training.distillation>`: ``alpha`` of the softened teacher's KL term,
    ``1 - alpha`` of cross-entropy against the (optionally smoothed) label. Targets from :func:`targets`."""
    import keras
    from keras import ops

    c, t, a, s = int(n_classes), float(temperature), float(alpha), float(label_smoothing)
    if t <= 0 or not 0.0 <= a <= 1.0 or not 0.0 <= s < 1.0:
        raise ValueError(f"need temperature > 0, 0 <= alpha <= 1 and 0 <= label_smoothing < 1; got {t}, {a}, {s}")

    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        label = ops.cast(y_true[:, 0], "int32")
        teacher = y_true[:, 1:]
        log_p = ops.log(ops.clip(ops.cast(y_pred, "float32"), EPS, 1.0))
        hard = keras.losses.categorical_crossentropy(ops.one_hot(label, c) * (1.0 - s) + s / c, ops.exp(log_p))
        soft_teacher = ops.softmax(teacher / t, axis=-1)
        kl = ops.sum(soft_teacher * (ops.log(ops.clip(soft_teacher, EPS, 1.0)) - ops.log_softmax(log_p / t, axis=-1)),
                     axis=-1)
        return a * t * t * kl + (1.0 - a) * hard

    loss.__name__ = f"distillation_t{t:g}_a{a:g}"
    return loss


def label_accuracy(y_true, y_pred):
    """Accuracy against the label in column 0 of distillation targets (so histories keep ``accuracy``)."""
    from keras import ops

    label = ops.cast(y_true[:, 0], "int32")
    return ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), label), "float32")


label_accuracy.__name__ = "accuracy"


def save_teacher_outputs(path, teacher: str, log_proba: dict, labels: dict, notes: dict | None = None) -> Path:
    """Keep a teacher's log-probabilities per split (float16, compressed) with the labels they belong to."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, teacher=np.array(teacher), notes=np.array(json.dumps(notes or {}, sort_keys=True)),
                        **{f"log_proba_{s}": np.asarray(v, dtype=np.float16) for s, v in log_proba.items()},
                        **{f"y_{s}": np.asarray(v, dtype=np.int64) for s, v in labels.items()})
    tmp.replace(path)
    return path


def load_teacher_outputs(path) -> dict:
    """``{"teacher", "notes", split: (log_proba float32 (N, C), y (N,))}`` as saved by :func:`save_teacher_outputs`."""
    import json

    from helpers.core.errors import HelpersError

    path = Path(path)
    if not path.is_file():
        raise HelpersError(f"no teacher outputs at {path}: compute them with python -m helpers.best_model teacher")
    with np.load(path) as z:
        out = {"teacher": str(z["teacher"]), "notes": json.loads(str(z["notes"]))}
        for k in z.files:
            if k.startswith("log_proba_"):
                s = k.removeprefix("log_proba_")
                out[s] = (z[k].astype(np.float32), z[f"y_{s}"])
    return out
