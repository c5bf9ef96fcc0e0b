"""The flower photos (companion study 1, notebook 08): where they are, how they are split, how a photo becomes an input.

Photos are centre-cropped to a square (flowers fill the middle of the frame; cropping keeps their shape where
stretching would not) and resized to the model's side; MobileNetV2's own ``preprocess_input`` (inside the model)
then scales pixels to [-1, 1], as in its ImageNet training. Registers the ``flowers`` task.
"""

from __future__ import annotations

import shutil
import socket
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.checksums import file_digest
from helpers.core.errors import ChecksumError, DataNotFoundError
from helpers.inputs import image_folder, tasks
from helpers.inputs.images import open_rgb, resize_rgb, to_rgb

NAME = "flowers"
DATASET = "flower_photos"
ENV_DIR = "FLOWER_PHOTOS_DIR"
CLASS_NAMES = ["daisy", "dandelion", "roses", "sunflowers", "tulips"]
#: TensorFlow's official archive and its sha256 and size (as published with TensorFlow Datasets' tf_flowers).
SOURCE_URL = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
SOURCE_SHA256 = "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c"
SOURCE_BYTES = 228_813_984
DOWNLOAD_TIMEOUT_S = 60

BACKBONE = "mobilenet_v2"
#: Input side of the SGD study: MobileNetV2's ImageNet size would be 224; 160 keeps the ImageNet features (the
#: network is fully convolutional) at about half the cost per image (measured: 83 against 37 training images/s
#: on 2 cores), which matters for the *standard* runs that push every photo through the backbone every epoch.
#: The final model's side is chosen on validation afterwards (:data:`FINAL_IMAGE_SIZES`).
IMAGE_SIZE = 160
#: Tag of the preprocessing (part of the image cache's key: change it when the preprocessing changes).
PREPROCESSING = "centre-square, bilinear"
VAL_FRACTION = TEST_FRACTION = 0.15
SEED = 42
#: Seeds of the cheap (accelerated) runs; the standard runs use the first one.
SEEDS = (42, 43, 44)


def download(target: Path | None = None, url: str = SOURCE_URL, sha256: str = SOURCE_SHA256) -> Path:
    """Download TensorFlow's ``flower_photos.tgz``, verify its sha256, and extract it into ``target``.

    The archive goes to a temporary file, is verified, then extracted to a temporary folder that is
    moved into place: an interrupted or corrupt download leaves nothing behind. Raises
    ``ConnectionError`` without internet and :class:`ChecksumError` for a wrong archive.
    """
    target = Path(target or paths.data_dir() / DATASET)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / "flower_photos.tgz"
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r, open(archive, "wb") as f:
                shutil.copyfileobj(r, f)
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
            raise ConnectionError(f"could not download {url}: {e}") from None
        got = file_digest(archive, "sha256")
        if got != sha256:
            raise ChecksumError(f"{url} has sha256 {got[:16]}..., expected {sha256[:16]}... (the published value): "
                                "a corrupt or changed archive; try again later or put the photos in place by hand.")
        out = Path(tmp) / "extracted"
        with tarfile.open(archive) as t:
            t.extractall(out, filter="data")
        found = next((p for p in [out, *out.iterdir()] if image_folder.has_classes(p, CLASS_NAMES)), None)
        if found is None:
            raise DataNotFoundError(f"{url} holds no {'/'.join(CLASS_NAMES)} folders.")
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(found), str(target))
    return target


FOLDER = image_folder.ImageFolderDataset(
    DATASET, ENV_DIR, CLASS_NAMES, lambda: download(), "the flower photos",
    f"Put the folders {', '.join(CLASS_NAMES)} in data/{DATASET}/ (or set ${ENV_DIR}); they are TensorFlow's "
    f"flower_photos archive ({SOURCE_URL}).", val_fraction=VAL_FRACTION, test_fraction=TEST_FRACTION, seed=SEED)
dataset_dir, ensure_manifest = FOLDER.dataset_dir, FOLDER.ensure_manifest


def centre_square(im):
    """The largest centred square of a PIL image."""
    w, h = im.size
    s = min(w, h)
    return im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))


def prepare_image(im, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3)) -> np.ndarray:
    """One photo as a model input: centre square, resized to the model's side, uint8 RGB."""
    return resize_rgb(centre_square(to_rgb(im)), tuple(input_shape[:2]))


def load_splits(input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3)) -> dict:
    """``{"train", "val", "test"}`` -> ``(x uint8 (N, S, S, 3), y int64 (N,))``, decoded once per size and
    cached in ``data/cache/images`` (keyed by manifest, preprocessing and folder)."""
    size = int(input_shape[0])
    m, rows, _ = FOLDER.checked_manifest()
    root = FOLDER.dataset_dir()

    def load(split):
        part = [r for r in rows if r["split"] == split]
        x = np.stack([prepare_image(open_rgb(root / r["file"]), (size, size, 3)) for r in part])
        return x, np.asarray([r["label"] for r in part], dtype=np.int64)

    return image_folder.cached_splits(FOLDER.name, m, size, load, PREPROCESSING, root)


TASK = tasks.register(tasks.Task(NAME, "Flower photos, 5 classes", list(CLASS_NAMES), (IMAGE_SIZE, IMAGE_SIZE, 3),
                                 load_splits, prepare_image, sized=True))


TASK = tasks.register(tasks.Task(NAME, "Flower photos, 5 classes", list(CLASS_NAMES), (IMAGE_SIZE, IMAGE_SIZE, 3),
                                 load_splits, prepare_image, sized=True))
