"""Fashion-MNIST: the four official ``.gz`` files, md5-verified.

>>> from helpers.inputs.fashion_mnist import load_fashion_mnist
>>> (x_train, y_train), (x_test, y_test), class_names = load_fashion_mnist()

Look-up order: ``$FASHION_MNIST_DIR``, ``data/fashion-mnist/``, ``../shared/datasets/fashion-mnist/``.
If none holds the files, they are downloaded from the official mirror into ``data/fashion-mnist/``
(machines with internet). Offline and absent: :class:`~helpers.core.errors.DataNotFoundError` within
seconds, naming the files and where to put them.
"""

from __future__ import annotations

import gzip
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.checksums import file_digest
from helpers.core.errors import ChecksumError, DataNotFoundError

ENV_DIR = "FASHION_MNIST_DIR"
BASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DOWNLOAD_TIMEOUT_S = 15

#: The md5 sums published by Zalando Research for the official release.
FILES = {
    "train_images": ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
}

CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


def md5sum(path: Path) -> str:
    return file_digest(path, "md5")


def read_idx(path: Path) -> np.ndarray:
    """Read a (gzipped) IDX file: the format of MNIST and Fashion-MNIST."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise ChecksumError(f"{paths.display_path(path)} is not a readable gzip/IDX file ({e}); "
                            "delete it and fetch the official file again.") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ChecksumError(f"{paths.display_path(path)} is not an unsigned-byte IDX file.")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(data) - header != expected:
        raise ChecksumError(f"{paths.display_path(path)}: header announces shape {shape} but the file "
                            f"holds {len(data) - header} bytes of data (truncated?).")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _locate(verify: bool) -> Path | None:
    """The first candidate folder that holds all four files (verified when asked)."""
    for folder in paths.candidate_dirs(ENV_DIR, "fashion-mnist", "datasets/fashion-mnist"):
        if all((folder / name).is_file() for name, _ in FILES.values()):
            if verify:
                for name, md5 in FILES.values():
                    got = md5sum(folder / name)
                    if got != md5:
                        raise ChecksumError(
                            f"{paths.display_path(folder / name)} has md5 {got}, expected {md5} "
                            "(the official Fashion-MNIST value): the file is corrupt or not the official "
                            "release. Delete it and fetch it again from "
                            "https://github.com/zalandoresearch/fashion-mnist.")
            return folder
    return None


def download(target: Path | None = None, base_url: str | None = None) -> Path:
    """Download the four official files into ``target`` (default ``data/fashion-mnist``).

    Each file is written to a temporary name, md5-checked, then moved into place, so an
    interrupted download never leaves a half file behind.
    """
    target = Path(target or paths.data_dir() / "fashion-mnist")
    base_url = base_url or BASE_URL
    target.mkdir(parents=True, exist_ok=True)
    for name, md5 in FILES.values():
        dest = target / name
        if dest.is_file() and md5sum(dest) == md5:
            continue
        tmp = dest.with_suffix(dest.suffix + ".part")
        try:
            with urllib.request.urlopen(base_url + name, timeout=DOWNLOAD_TIMEOUT_S) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f)
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
            tmp.unlink(missing_ok=True)
            raise ConnectionError(f"could not download {base_url + name}: {e}") from None
        got = md5sum(tmp)
        if got != md5:
            tmp.unlink(missing_ok=True)
            raise ChecksumError(f"downloaded {name} has md5 {got}, expected {md5}; try again later.")
        tmp.replace(dest)
    return target


def find_fashion_mnist(download_if_missing: bool = True, verify: bool = True) -> Path:
    """The folder holding the four verified files; downloads them if missing and allowed."""
    folder = _locate(verify)
    if folder is not None:
        return folder
    searched = [paths.display_path(p) for p in paths.candidate_dirs(ENV_DIR, "fashion-mnist",
                                                                    "datasets/fashion-mnist")]
    names = ", ".join(name for name, _ in FILES.values())
    problem = "downloading was not allowed"
    if download_if_missing:
        try:
            return download()
        except ConnectionError as e:
            problem = f"no internet: {e}"
    raise DataNotFoundError(
        f"Fashion-MNIST not found and {problem}.\n"
        f"Needed files: {names}.\n"
        f"Looked in: {', '.join(searched)}.\n"
        f"Put the four official files in data/fashion-mnist/ (or set ${ENV_DIR} to their folder); "
        "they are published at https://github.com/zalandoresearch/fashion-mnist.")


def load_fashion_mnist(download_if_missing: bool = True, verify: bool = True):
    """Return ``(x_train, y_train), (x_test, y_test), class_names``.

    Images are uint8 arrays of shape ``(N, 28, 28)`` (white garment on black), labels int64 in 0..9.
    """
    folder = find_fashion_mnist(download_if_missing=download_if_missing, verify=verify)
    arrays = {key: read_idx(folder / name) for key, (name, _) in FILES.items()}
    for split in ("train", "test"):
        n_img, n_lab = len(arrays[f"{split}_images"]), len(arrays[f"{split}_labels"])
        if n_img != n_lab:
            raise ChecksumError(f"{split}: {n_img} images but {n_lab} labels.")
    return ((arrays["train_images"], arrays["train_labels"].astype(np.int64)),
            (arrays["test_images"], arrays["test_labels"].astype(np.int64)),
            list(CLASS_NAMES))
