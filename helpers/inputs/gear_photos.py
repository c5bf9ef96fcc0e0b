"""The outdoor-gear catalogue photos (companion study 2, notebook 09): where they are, how they are split, and how
a product photo becomes an input.

Preprocessing, as the retailer's earlier pipeline did it: every photo is **padded to a square on white** (product
photos sit on white; padding keeps the item's proportions, stretching would not), then resized: 128x128 for our CNN,
the backbone's 224x224 for transfer learning. Data: ``$GEAR_IMAGES_DIR``, ``data/gear_images/``,
``../shared/datasets/gear_images/``, else (machines with internet, e.g. Colab) the public source is downloaded into
``data/gear_images/``. Registers the ``gear`` task.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import socket
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.errors import DataNotFoundError
from helpers.inputs import image_folder, tasks
from helpers.inputs.images import IMAGE_SUFFIXES, resize_rgb

NAME = "gear"
DATASET = "gear_images"
NEW_IMAGES = "gear_new_images"
ENV_DIR = "GEAR_IMAGES_DIR"
#: The public source (the MLOpenHack challenge repository), pinned to one commit.
SOURCE_COMMIT = "40efe9306c848c812ecd4fc324fa0ffdab19d136"
SOURCE_URL = f"https://github.com/ktakita1011/MLopenhack/archive/{SOURCE_COMMIT}.zip"
SOURCE_FOLDER = "Challenge2/gear_images"
DOWNLOAD_TIMEOUT_S = 30
#: The sha256 of the 12 new photos (notebook 09, part 2). The public source's class folders may hold them too;
#: a download skips them, so that the photos we predict on were never trained on.
NEW_IMAGE_SHA256 = frozenset({
    "2fde3eec4fd328e7d9098729e65dbed78b0947ff30b093f427a98275c04b6661",
    "306712fc6792ccb8abf549a79af2a88802bb74f042c642b9b94b34af759bcd7e",
    "31b8921be045d02dbecd9260ffe9e8c685e2d94e23d32f055d308edbbb647e1d",
    "56814fbe9794e1aa8d4807185715e615ef17c9a31f07b6bf9f285f9a49053819",
    "604a08c2374a3e48f56151919c1c669a55d9821a076b4b537bb0286f3ce4d076",
    "61b3fc42120a6d0c9ca45443b6462a65d19793b2975993dada626c0900dbe2a5",
    "69b82a1f04453b0358b2b249ed260e5fafc78cba335c4dece5ff21afca400dab",
    "93f3fb2259aa15e6792808dba9bd67d2dcc6596b067815cf9696faa4b7954251",
    "99bd18192416e92395fdbdc3a179681d56867378d05fece9d734b5b18cd818f2",
    "9f9559b54f1e5c17cc0305145e87b7a22f4f8f0f45cb196d184da08a303e1683",
    "a311bc645523e8ffc647b5aa26de991a1b104321f832e047f945d48b93da5725",
    "effd1eb6e834a0d0f0207183557fd693359a4b2f5c6d8d4252fb01a632cb508f",
})
#: The 12 classes (folder names), in label order.
CLASS_NAMES = ["axes", "boots", "carabiners", "crampons", "gloves", "hardshell_jackets", "harnesses", "helmets",
               "insulated_jackets", "pulleys", "rope", "tents"]
#: Tag of the preprocessing below (part of the image cache's key: change it when the preprocessing changes).
PREPROCESSING = "pad-square-white, bilinear"
CNN_SIZE = 128          # our CNN's input side: enough to see a carabiner's gate, 1/3 of the cost of 224
TL_SIZE = 224           # MobileNetV2's native input side (its ImageNet training size)
VAL_FRACTION = TEST_FRACTION = 0.15
SEED = 42


def download(target: Path | None = None, url: str = SOURCE_URL, folder: str = SOURCE_FOLDER) -> Path:
    """Download the public source archive and extract ``folder`` (one sub-folder per class) into ``target``.

    Written to a temporary folder first and moved into place when complete, so an interrupted download
    leaves nothing half-done; files identical to one of the new photos (:data:`NEW_IMAGE_SHA256`) are skipped.
    Raises ``ConnectionError`` without internet.
    """
    target = Path(target or paths.data_dir() / DATASET)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r:
            payload = r.read()
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as e:
        raise ConnectionError(f"could not download {url}: {e}") from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise DataNotFoundError(f"{url} did not return a zip archive; download the gear images by hand.") from None
    tmp = target.with_name(target.name + ".part")
    shutil.rmtree(tmp, ignore_errors=True)
    n = 0
    for member in archive.infolist():
        parts = member.filename.split("/")
        # archives name everything under one top folder (<repo>-<commit>/); keep what lies under `folder`
        rel = "/".join(parts[1:])
        if member.is_dir() or not rel.startswith(folder.rstrip("/") + "/"):
            continue
        inner = Path(rel[len(folder.rstrip("/")) + 1:])
        if ".." in inner.parts or len(inner.parts) != 2:
            continue
        payload_bytes = archive.read(member)
        if hashlib.sha256(payload_bytes).hexdigest() in NEW_IMAGE_SHA256:
            continue  # one of the new photos: it must stay out of training
        dest = tmp / inner
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(payload_bytes)
        n += 1
    if n == 0 or not image_folder.has_classes(tmp, CLASS_NAMES):
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataNotFoundError(f"{url} holds no complete {folder}/<class>/ folders; download the gear images by hand.")
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)
    return target


FOLDER = image_folder.ImageFolderDataset(
    DATASET, ENV_DIR, CLASS_NAMES, lambda: download(), "the gear images",
    f"Put the folder with one sub-folder per class ({', '.join(CLASS_NAMES[:3])}, ...) in data/{DATASET}/ "
    f"(or set ${ENV_DIR}); it is the {SOURCE_FOLDER} folder of the public MLOpenHack challenge repository.",
    val_fraction=VAL_FRACTION, test_fraction=TEST_FRACTION, seed=SEED)
dataset_dir, ensure_manifest = FOLDER.dataset_dir, FOLDER.ensure_manifest


def new_images_dir() -> Path:
    for folder in paths.candidate_dirs(ENV_DIR + "_NEW", NEW_IMAGES, f"datasets/{NEW_IMAGES}"):
        if folder.is_dir():
            return folder
    raise DataNotFoundError(f"the new gear photos were not found: put them in data/{NEW_IMAGES}/ "
                            "(file names start with the class name and '__').")


def new_images() -> list[tuple[Path, str]]:
    """The photos not in the dataset, with the true class taken from the file name (``<class>__...``)."""
    folder = new_images_dir()
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    return [(f, f.name.split("__", 1)[0]) for f in files]


def load_splits(input_shape=(CNN_SIZE, CNN_SIZE, 3)) -> dict:
    """``{"train", "val", "test"}`` -> ``(x uint8 (N, S, S, 3), y int64)``, padded on white and resized.

    Decoded once per size and cached in ``data/cache/images/`` (keyed by manifest, preprocessing and folder).
    """
    size = int(input_shape[0])
    m, _, _ = FOLDER.checked_manifest()
    root = FOLDER.dataset_dir()

    def load(split):
        x, y, _ = image_folder.load_split(root, m, split, size=(size, size), pad=True)
        return x, y

    return image_folder.cached_splits(DATASET, m, size, load, PREPROCESSING, root)


def prepare_image(im, input_shape=(CNN_SIZE, CNN_SIZE, 3)) -> np.ndarray:
    """One photo as a model's input: padded to a square on white, resized to the model's side."""
    return resize_rgb(im, tuple(input_shape[:2]), pad=True)


TASK = tasks.register(tasks.Task(NAME, "Outdoor-gear catalogue photos, 12 classes", list(CLASS_NAMES),
                                 (CNN_SIZE, CNN_SIZE, 3), load_splits, prepare_image, sized=True))
