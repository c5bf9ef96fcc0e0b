"""What every notebook's first cell runs after it has found the project.

In Google Colab (where the set-up cell has just cloned the project into /content) it installs the few
packages Colab lacks; everywhere it silences TensorFlow's log lines, sets the seeds, fixes matplotlib's
look, and prints one line saying where it runs and whether a GPU is present. No data are fetched here: the
loaders find Fashion-MNIST or download it from the official mirror on first use (``helpers.inputs``).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from helpers.core.paths import REPO_ROOT
from helpers.core.repro import DEFAULT_SEED, quiet_tensorflow, set_seeds

#: Import name -> distribution of what the notebooks need and Colab does not ship: KerasTuner (notebook 04's
#: search with RETRAIN = True; Colab has the TensorBoard it needs), pinned as in requirements.txt. Colab's own
#: TensorFlow, Keras, NumPy, pandas, scikit-learn, ... are kept: replacing them means a runtime restart and a
#: CPU-only TensorFlow, and outputs in Colab may differ in the last digits anyway (strict nbval runs on the
#: project's pinned machines, not in Colab). nbval, typst and pypdf serve the tests and the PDF reports only.
COLAB_EXTRAS = {"keras_tuner": "keras-tuner", "ray": "ray[data]"}

REQUIREMENTS = REPO_ROOT / "requirements.txt"


def in_colab() -> bool:
    return "google.colab" in sys.modules


def pinned(dist: str, requirements: Path = REQUIREMENTS) -> str:
    """``dist==version`` as pinned in requirements.txt (``dist`` alone if it is not pinned there)."""
    try:
        text = requirements.read_text()
    except OSError:
        return dist
    m = re.search(rf"^{re.escape(dist)}\s*==\s*([^\s#;]+)", text, re.M | re.I)
    return f"{dist}=={m.group(1)}" if m else dist


def install_missing(extras=COLAB_EXTRAS) -> list[str]:
    """pip-install (pinned) the distributions whose module cannot be imported; returns them."""
    missing = [pinned(dist) for mod, dist in extras.items() if importlib.util.find_spec(mod) is None]
    if missing:
        print(f"installing what Colab lacks: {' '.join(missing)}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
    return missing


def setup(seed: int = DEFAULT_SEED) -> dict:
    """Prepare the notebook session; returns a small description of the environment."""
    quiet_tensorflow()
    if in_colab():
        install_missing()
    import keras
    import matplotlib

    set_seeds(seed)
    matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "axes.spines.top": False,
                                "axes.spines.right": False})
    gpus = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        gpus = tf.config.list_physical_devices("GPU")
    env = {"colab": in_colab(), "backend": keras.backend.backend(), "keras": keras.__version__,
           "gpu": bool(gpus), "seed": seed}
    where = "Google Colab" if env["colab"] else "local machine"
    no_gpu = "no GPU: CPU only (loading saved weights needs none)"
    if env["colab"]:
        no_gpu = "no GPU (Runtime > Change runtime type adds one; loading saved weights needs none)"
    print(f"{where} | Keras {env['keras']} on {env['backend']} | "
          f"{'GPU available' if gpus else no_gpu} | seed {seed}")
    return env


def say(text: str) -> None:
    """Show computed text as Markdown in the notebook (plain text elsewhere)."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is not None:
            display(Markdown(text))
            return
    except ImportError:  # pragma: no cover
        pass
    print(text)
