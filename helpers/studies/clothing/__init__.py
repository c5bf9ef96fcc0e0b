"""Notebook 11: real clothing photos, and a model for them by transfer learning.

``config`` (the settings), ``thumbnail_model`` (what the deployed Fashion-MNIST model does with real photos),
``linear_probe`` (the frozen backbone's linear probe and the photos' framing), ``fine_tune`` (fine-tuning on cached
activations with augmented views, decided on validation), ``final_model`` (the chosen run saved, calibrated, tested
once), ``photo_rejection`` (its rejection rule), ``offer_rules`` (its offer rules), ``summary`` (the notebook's
tables)."""

from helpers.core.settings import settings_of
from helpers.studies.clothing import (
    config,
    final_model,
    fine_tune,
    linear_probe,
    offer_rules,
    photo_rejection,
    summary,
    thumbnail_model,
)

__getattr__ = settings_of(config)

__all__ = ["config", "thumbnail_model", "linear_probe", "fine_tune", "final_model", "photo_rejection", "offer_rules",
           "summary"]
