"""What every notebook's first cell runs after it has found the project.

In Google Colab it installs the few packages Colab lacks; everywhere it silences TensorFlow's
log lines, sets the seeds, fixes matplotlib's look, and prints one line saying where it runs.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

from helpers.core.repro import DEFAULT_SEED, quiet_tensorflow, set_seeds

#: import name -> pip requirement, for what Colab does not ship
COLAB_EXTRAS = {"keras_tuner": "keras-tuner==1.4.8", "nbval": "nbval==0.11.0"}


def in_colab() -> bool:
    return "google.colab" in sys.modules


def install_missing(extras=COLAB_EXTRAS) -> list[str]:
    missing = [req for mod, req in extras.items() if importlib.util.find_spec(mod) is None]
    if missing:
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
    print(f"{where} | Keras {env['keras']} on {env['backend']} | "
          f"{'GPU available' if gpus else 'no GPU: CPU only (loading saved weights needs none)'} | seed {seed}")
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
