"""Shared fixtures: every test runs with its own data/, weights/ and shared/ folders, and tiny
synthetic data written by the tests themselves."""

from __future__ import annotations

import gzip
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers.core.repro import quiet_tensorflow  # noqa: E402

quiet_tensorflow()


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Point data/, weights/ and shared/ at empty temporary folders; no Fashion-MNIST splits cached
    in memory from another test (a tiny synthetic set must not leak into the next one)."""
    from helpers.inputs import tasks

    for var, sub in (("HELPERS_DATA_DIR", "data"), ("HELPERS_WEIGHTS_DIR", "weights"),
                     ("HELPERS_SHARED_DIR", "shared")):
        (tmp_path / sub).mkdir()
        monkeypatch.setenv(var, str(tmp_path / sub))
    for var in ("FASHION_MNIST_DIR", "PRETRAINED_DIR", "GEAR_IMAGES_DIR", "GEAR_IMAGES_DIR_NEW",
                "FLOWER_PHOTOS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    tasks.fashion_splits.cache_clear()
    yield tmp_path
    tasks.fashion_splits.cache_clear()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    payload = header + array.tobytes()
    path.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
    return path


@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch):
    """A tiny Fashion-MNIST in the official file layout; the loader's md5 table is patched to it."""
    from helpers.inputs import fashion_mnist

    rng = np.random.default_rng(0)
    folder = tmp_path / "tiny-fashion"
    folder.mkdir()
    arrays = {
        "train_images": rng.integers(0, 256, (60, 28, 28)), "train_labels": np.arange(60) % 10,
        "test_images": rng.integers(0, 256, (20, 28, 28)), "test_labels": np.arange(20) % 10,
    }
    table = {}
    for key, (name, _) in fashion_mnist.FILES.items():
        write_idx(folder / name, arrays[key])
        table[key] = (name, hashlib.md5((folder / name).read_bytes()).hexdigest())
    monkeypatch.setattr(fashion_mnist, "FILES", table)
    return folder, arrays


@pytest.fixture
def tiny_task(monkeypatch):
    """A 3-class task on 8x8 grey images: class = which third of the image is bright."""
    from helpers.inputs import tasks

    rng = np.random.default_rng(1)

    def make(n):
        y = np.arange(n) % 3
        x = rng.integers(0, 60, (n, 8, 8, 1))
        for i, c in enumerate(y):
            x[i, :, c * 3:c * 3 + 2] = 230
        return x.astype(np.uint8), y.astype(np.int64)

    data = {"train": make(90), "val": make(30), "test": make(30)}

    def prepare(im):
        return np.asarray(im.convert("L").resize((8, 8)), dtype=np.uint8)[..., None]

    task = tasks.Task("tiny", "synthetic stripes", ["left", "middle", "right"], (8, 8, 1), lambda: data, prepare)
    monkeypatch.setitem(tasks.TASKS, "tiny", task)
    return task, data


#: Fit arguments of a small dense model on the tiny task: fast, and accurate on its stripes.
TINY_FIT = dict(task="tiny", architecture="dense", hparams={"units": [16], "dropout": 0.0},
                epochs=6, batch_size=16, patience=3, learning_rate=0.01)


@pytest.fixture
def tiny_dense(tiny_task):
    """``(model, record)`` of the small dense model, trained and saved as ``tiny_dense``."""
    from helpers.training import trainer

    return trainer.train_or_load("tiny_dense", **TINY_FIT)


@pytest.fixture
def loopback_server():
    """``serve(folder) -> base URL``: serves a folder over HTTP on 127.0.0.1 for the test's duration."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    servers = []

    def serve(folder):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for s in servers:
        s.shutdown()
