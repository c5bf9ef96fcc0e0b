"""The study's inference speeds, measured once and recorded in ``results/gear/`` (read by the notebook)."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.evaluation.speed import images_per_second
from helpers.inputs import gear_photos as catalogue
from helpers.studies.gear import config


def record_inference_speeds(names=None, path: Path | None = None) -> dict:
    """Measure images/s for the study's saved models on the test split; written to ``results/gear/``."""
    from helpers.models import saved_models

    path = Path(path or config.RESULTS_DIR / "inference_speed.json")
    out = {}
    for name in names or [config.OWN_CNN_WEIGHTED, config.OWN_CNN_UNWEIGHTED, config.TL_FROZEN, config.TL_FINE_TUNED]:
        model, record = saved_models.load(name)
        x = catalogue.load_splits(tuple(record["input_shape"]))["test"][0]
        out[name] = images_per_second(model, x, batch_size=64)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images_per_s": out, "batch_size": 64, "note": "2-core CPU, best of 3"}, indent=1) + "\n")
    return out


def load_inference_speeds(path: Path | None = None) -> dict:
    """``{model name: images/s}`` as recorded by :func:`record_inference_speeds` (empty if never measured)."""
    path = Path(path or config.RESULTS_DIR / "inference_speed.json")
    return json.loads(path.read_text())["images_per_s"] if path.is_file() else {}
