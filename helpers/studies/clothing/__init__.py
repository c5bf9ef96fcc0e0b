"""Notebook 11: real clothing photos, and a model for them by transfer learning (``config``: the settings;
``linear_probe``: the linear probe on the frozen backbone and the photos' framing, decided on validation)."""

from helpers.core.settings import settings_of
from helpers.studies.clothing import config, linear_probe

__getattr__ = settings_of(config)

__all__ = ["config", "linear_probe"]
