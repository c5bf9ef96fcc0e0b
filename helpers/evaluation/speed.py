"""Inference speed of a Keras model on this machine: the one way the project measures images per second
(``benchmarks/inference_speed.py`` for every Fashion-MNIST model, the gear study for its models)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from helpers.core import paths

#: Where ``benchmarks/inference_speed.py`` records every Fashion-MNIST model's speed (the figures the notebooks quote).
BENCHMARK_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "inference_speed.json"


def images_per_second(model, x: np.ndarray, batch_size: int = 512, repeats: int = 3) -> float:
    """Throughput of ``model.predict`` on ``x`` in batches of ``batch_size``: the best of ``repeats`` timed passes
    after one warm-up batch (graph tracing is not counted), in images per second rounded to 0.1."""
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict(x, batch_size=batch_size, verbose=0)
        best = max(best, len(x) / (time.perf_counter() - t))
    return round(best, 1)


def single_image_rate(model, x: np.ndarray, n: int = 200, repeats: int = 3) -> float:
    """Latency as a rate: ``model.predict_on_batch`` on one image at a time, ``n`` images, the best of ``repeats``,
    after one warm-up call; images per second rounded to 0.1 (``1000 / rate`` is the latency in ms)."""
    model.predict_on_batch(x[:1])
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        for i in range(n):
            model.predict_on_batch(x[i % len(x): i % len(x) + 1])
        best = max(best, n / (time.perf_counter() - t))
    return round(best, 1)


def recorded_speeds(path: Path | None = None) -> dict:
    """``{model: images/s at batch 512}`` as ``benchmarks/inference_speed.py`` last recorded them (each model in its own
    process, on the machine named in the file); empty if the benchmark was never run."""
    path = Path(path or BENCHMARK_JSON)
    if not path.is_file():
        return {}
    return {n: r["images_per_s_batch_512"] for n, r in json.loads(path.read_text())["results"].items()}
