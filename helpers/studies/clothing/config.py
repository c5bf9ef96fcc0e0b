"""Settings of the clothing-photo study (notebook 11), read at call time (``helpers.core.settings``)."""

from __future__ import annotations

from helpers.core import paths

NAME = "clothing"
BACKBONE = "mobilenet_v2"
IMAGE_SIZE = 224
#: The framings compared on validation (``helpers.inputs.clothing_photos.FRAMINGS``).
FRAMINGS = ("centre", "pad")
#: Penalties (inverse L2 strength) of the linear probe on the frozen backbone's pooled features.
PROBE_C = (0.1, 0.3, 1.0, 3.0)
SEED = 42
RESULTS_DIR = paths.REPO_ROOT / "results" / "clothing"
PROBE_JSON = RESULTS_DIR / "probe.json"
