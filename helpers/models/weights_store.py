"""Saved models: ``weights/<name>.weights.h5`` plus ``weights/<name>.json``.

The JSON record holds the file's sha256, the task, architecture and hyperparameters (enough to
rebuild the model), the per-epoch history, validation and test metrics, training time and the
library versions. Loading verifies the sha256; a mismatch is a clear error, never a silently
different model.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path

from helpers.core import paths
from helpers.core.checksums import file_digest
from helpers.core.errors import WeightsChecksumError, WeightsNotFoundError


def weights_path(name: str) -> Path:
    return paths.weights_dir() / f"{name}.weights.h5"


def record_path(name: str) -> Path:
    return paths.weights_dir() / f"{name}.json"


def sha256sum(path: Path) -> str:
    return file_digest(path, "sha256")


def exists(name: str) -> bool:
    return weights_path(name).is_file() and record_path(name).is_file()


def versions() -> dict:
    import keras
    import numpy
    out = {"python": platform.python_version(), "keras": keras.__version__,
           "backend": keras.backend.backend(), "numpy": numpy.__version__}
    try:
        import tensorflow as tf
        out["tensorflow"] = tf.__version__
    except ImportError:  # JAX/PyTorch backend on a GPU machine
        pass
    if out["backend"] == "jax":
        import jax
        out["jax"] = jax.__version__
        out["device"] = jax.devices()[0].device_kind
    return out


#: Which saved model each task deploys, when a notebook chose one on more than validation accuracy
#: (notebook 05: the speed bar and the training budget). One line per task: ``task model``.
DEPLOYED_FILE = "deployed.txt"


def deployed_path() -> Path:
    return paths.weights_dir() / DEPLOYED_FILE


def deployed(task: str) -> str | None:
    """The model deployed for ``task`` (``None``: none named, or the named one is not saved)."""
    path = deployed_path()
    if not path.is_file():
        return None
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == task:
            if not exists(parts[1]):
                raise WeightsNotFoundError(f"{paths.display_path(path)} deploys {parts[1]!r} for task {task!r}, but "
                                           "that model is not saved; restore it (git checkout -- weights/) or "
                                           "re-execute the notebook that chose it.")
            return parts[1]
    return None


def set_deployed(task: str, name: str) -> Path:
    """Name ``name`` as the model deployed for ``task`` (other tasks' lines are kept; same bytes when unchanged)."""
    if not exists(name):
        raise WeightsNotFoundError(f"cannot deploy {name!r}: it is not saved in {paths.display_path(paths.weights_dir())}")
    if load_record(name)["task"] != task:
        raise ValueError(f"{name!r} is a model for task {load_record(name)['task']!r}, not {task!r}")
    path = deployed_path()
    lines = dict(line.split() for line in path.read_text().splitlines() if len(line.split()) == 2) \
        if path.is_file() else {}
    lines[task] = name
    text = "".join(f"{t} {n}\n" for t, n in sorted(lines.items()))
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def load_record(name: str) -> dict:
    path = record_path(name)
    if not path.is_file():
        known = ", ".join(list_names()) or "none"
        raise WeightsNotFoundError(f"no saved model {name!r} (looked for {paths.display_path(path)}); "
                                   f"saved models: {known}. Run the notebook that trains it.")
    return json.loads(path.read_text())


def list_names(task: str | None = None) -> list[str]:
    folder = paths.weights_dir()
    if not folder.is_dir():
        return []
    names = []
    for rec in sorted(folder.glob("*.json")):
        name = rec.name[:-len(".json")]
        if not weights_path(name).is_file():
            continue
        if task is not None:
            try:
                if json.loads(rec.read_text()).get("task") != task:
                    continue
            except ValueError:
                continue
        names.append(name)
    return names


def verify(name: str, record: dict | None = None) -> Path:
    """The weights file's path after checking its sha256 against the record."""
    record = record or load_record(name)
    path = weights_path(name)
    if not path.is_file():
        raise WeightsNotFoundError(f"{paths.display_path(path)} is missing although its record exists; "
                                   "restore it from git (git checkout -- weights/) or retrain.")
    got = sha256sum(path)
    if got != record.get("sha256"):
        raise WeightsChecksumError(
            f"{paths.display_path(path)} has sha256 {got[:12]}..., but {paths.display_path(record_path(name))} "
            f"records {str(record.get('sha256'))[:12]}...: the weights file is corrupt or belongs to another run. "
            "Restore it from git (git checkout -- weights/) or retrain with RETRAIN = True.")
    return path


def load_weights(model, name: str) -> dict:
    """Load verified weights into ``model``; returns the record."""
    record = load_record(name)
    model.load_weights(verify(name, record))
    return record


def save(name: str, model, record: dict) -> dict:
    """Write ``model``'s weights and the record (sha256, versions and date added)."""
    folder = paths.weights_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = weights_path(name)
    tmp = path.with_name(path.name + ".tmp.weights.h5")
    optimizer = getattr(model, "optimizer", None)
    try:  # the model's weights only: the optimizer's state would triple the file for nothing
        model.optimizer = None
        model.save_weights(tmp)
    finally:
        model.optimizer = optimizer
    os.replace(tmp, path)
    record = dict(record)
    record["name"] = name
    record["sha256"] = sha256sum(path)
    record["weights_file"] = path.name
    record["saved"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    record["versions"] = versions()
    record_path(name).write_text(json.dumps(record, indent=1, sort_keys=False) + "\n")
    return record


def training_seconds(record: dict) -> float | None:
    """What producing a saved model cost: the selection run, plus the refit on training + validation
    images where the protocol has one, plus any replayed run the training started from
    (``notes["init_head_replay_seconds"]``). ``None`` when the record has no timing."""
    t = record.get("training", {})
    if t.get("seconds") is None:
        return None
    return round(t["seconds"] + t.get("refit", {}).get("seconds", 0.0)
                 + record.get("notes", {}).get("init_head_replay_seconds", 0.0), 1)
