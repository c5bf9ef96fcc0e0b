import functools
import http.server
import threading
import time

import numpy as np
import pytest
from conftest import write_idx

from helpers.core.errors import ChecksumError, DataNotFoundError
from helpers.inputs import fashion_mnist


def test_reads_official_layout_from_env_dir(tiny_fashion, monkeypatch):
    folder, arrays = tiny_fashion
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    (x, y), (xt, yt), names = fashion_mnist.load_fashion_mnist(download_if_missing=False)
    assert x.dtype == np.uint8 and x.shape == (60, 28, 28) and xt.shape == (20, 28, 28)
    assert y.dtype == np.int64 and np.array_equal(y, arrays["train_labels"])
    assert np.array_equal(x, arrays["train_images"])
    assert names[0] == "T-shirt/top" and names[9] == "Ankle boot" and len(names) == 10


def test_lookup_order_env_then_data_then_shared(tiny_fashion, isolated_dirs, monkeypatch):
    folder, _ = tiny_fashion
    shared = isolated_dirs / "shared" / "datasets" / "fashion-mnist"
    shared.parent.mkdir(parents=True)
    folder.rename(shared)
    assert fashion_mnist.find_fashion_mnist(download_if_missing=False) == shared
    local = isolated_dirs / "data" / "fashion-mnist"
    import shutil
    shutil.copytree(shared, local)
    assert fashion_mnist.find_fashion_mnist(download_if_missing=False) == local
    monkeypatch.setenv("FASHION_MNIST_DIR", str(shared))
    assert fashion_mnist.find_fashion_mnist(download_if_missing=False) == shared


def test_md5_mismatch_is_a_clear_error(tiny_fashion, monkeypatch):
    folder, arrays = tiny_fashion
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    name = fashion_mnist.FILES["test_images"][0]
    write_idx(folder / name, arrays["test_images"][::-1])  # valid IDX, wrong content
    with pytest.raises(ChecksumError, match=r"md5 .* expected .*corrupt"):
        fashion_mnist.load_fashion_mnist(download_if_missing=False)


def test_offline_and_absent_fails_fast_with_instructions(monkeypatch):
    monkeypatch.setattr(fashion_mnist, "BASE_URL", "http://127.0.0.1:9/")  # nothing listens: refused at once
    t = time.perf_counter()
    with pytest.raises(DataNotFoundError) as e:
        fashion_mnist.load_fashion_mnist()
    assert time.perf_counter() - t < 10
    msg = str(e.value)
    assert "no internet" in msg and "train-images-idx3-ubyte.gz" in msg and "data/fashion-mnist" in msg
    assert "FASHION_MNIST_DIR" in msg


def test_absent_without_download_says_so():
    with pytest.raises(DataNotFoundError, match="downloading was not allowed"):
        fashion_mnist.find_fashion_mnist(download_if_missing=False)


def test_download_from_a_mirror(tiny_fashion, isolated_dirs, monkeypatch):
    """The real download code, against a mirror served on loopback."""
    folder, arrays = tiny_fashion
    mirror = folder.parent / "mirror"
    folder.rename(mirror)  # only the mirror has the files now

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(mirror)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(fashion_mnist, "BASE_URL", f"http://127.0.0.1:{server.server_port}/")
        (x, _), _, _ = fashion_mnist.load_fashion_mnist()
    finally:
        server.shutdown()
        server.server_close()
    assert np.array_equal(x, arrays["train_images"])
    assert sorted(p.name for p in (isolated_dirs / "data" / "fashion-mnist").iterdir()) == sorted(
        n for n, _ in fashion_mnist.FILES.values())


def test_truncated_idx_is_reported(tmp_path):
    p = write_idx(tmp_path / "x.gz", np.zeros((5, 28, 28)))
    import gzip
    raw = gzip.decompress(p.read_bytes())
    p.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(ChecksumError, match="truncated"):
        fashion_mnist.read_idx(p)
    p.write_bytes(b"not gzip at all")
    with pytest.raises(ChecksumError, match="not a readable"):
        fashion_mnist.read_idx(p)


def test_real_files_in_shared_match_official_md5(monkeypatch):
    from helpers.core.paths import REPO_ROOT

    shared = REPO_ROOT.parent / "shared" / "datasets" / "fashion-mnist"
    if not shared.is_dir():
        pytest.skip("../shared/datasets/fashion-mnist not present on this machine")
    for name, md5 in fashion_mnist.FILES.values():
        assert fashion_mnist.md5sum(shared / name) == md5


def test_display_path_keeps_linked_shared_folder_relative(tmp_path):
    from helpers.core.paths import REPO_ROOT, display_path

    assert display_path(REPO_ROOT.parent / "shared" / "datasets" / "x") == "../shared/datasets/x"
    assert display_path(REPO_ROOT / "data" / "fashion-mnist") == "data/fashion-mnist"
    assert display_path("/nonexistent-root/elsewhere") == "/nonexistent-root/elsewhere"
