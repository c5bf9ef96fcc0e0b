"""Task 2: the photos that are not in the dataset, through ``helpers.predict``'s own path."""

from __future__ import annotations

from helpers.inputs import gear_photos as catalogue
from helpers.studies.gear import config


def predict_new_images(model_name: str | None = None):
    """Task 2: every new photo through ``helpers.predict``'s own path; a table (file, true, predicted, confidence)."""
    import pandas as pd

    from helpers.serving.classify import predict_files

    pairs = catalogue.new_images()
    rows = []
    for (f, truth), r in zip(pairs, predict_files([f for f, _ in pairs], config.NAME, model_name)):
        rows.append({"file": f.name, "true class": truth, "predicted": r.get("label"),
                     "confidence": r.get("confidence"), "correct": r.get("label") == truth, "model": r.get("model"),
                     "error": r.get("error")})
    return pd.DataFrame(rows)
