"""Real photos of clothes taken by people (notebook 11): where they are, how they are split, how a photo becomes an
input. Registers the ``clothing`` task.

The source (a public-domain set of phone photos: garments on beds, floors, hangers) comes as ``train/<class>/`` and
``validation/<class>/``; its own test split is held back as an evaluation this project never sees. Our splits,
written once to the versioned manifest ``data/manifests/clothing_photos.csv``:

- ``val``: the source's ``validation/`` photos, as they are;
- ``test``: :data:`TEST_FRACTION` of the source's ``train/`` photos, stratified and seeded (:data:`SEED`), scored
  once for the final model;
- ``train``: the rest of the source's ``train/`` photos.

A byte-identical copy of a photo never sits in two of our splits: a ``train`` photo with a twin in ``val`` or
``test`` moves to its twin's split (the source's validation split itself is never changed).

A photo becomes an input the way :data:`FRAMING` says (decided on validation in notebook 11): ``"centre"`` cuts the
largest centred square (most photos are 3:4 portraits, so a quarter of the height goes), ``"pad"`` pads the photo to
a square with its own edge colour first, so that nothing is cut. MobileNetV2's ``preprocess_input`` (inside the model)
then scales pixels to [-1, 1].
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from helpers.core import paths
from helpers.core.errors import DataNotFoundError, HelpersError
from helpers.inputs import image_folder, tasks
from helpers.inputs.images import IMAGE_SUFFIXES, open_rgb, to_rgb

NAME = "clothing"
DATASET = "clothing_photos"
ENV_DIR = "CLOTHING_PHOTOS_DIR"
#: The folder names of the source, in label order (``helpers.predict`` prints them as they are spelled here).
CLASS_NAMES = ["dress", "hat", "longsleeve", "outwear", "pants", "shirt", "shoes", "shorts", "skirt", "t-shirt"]
#: The source's folders and the split each becomes before the test photos are drawn from ``train``.
SOURCE_SPLITS = {"train": "train", "validation": "val"}
SOURCE_URL = "https://github.com/alexeygrigorev/clothing-dataset-small"
TEST_FRACTION = 0.10
SEED = 42
IMAGE_SIZE = 224
FRAMINGS = ("centre", "pad")
#: How a photo is framed into the model's square input (decided on validation, notebook 11).
FRAMING = "centre"


def candidate_dirs() -> list[Path]:
    return paths.candidate_dirs(ENV_DIR, DATASET, f"datasets/{DATASET}")


def _complete(folder: Path) -> bool:
    return all(image_folder.has_classes(Path(folder) / s, CLASS_NAMES) for s in SOURCE_SPLITS)


def dataset_dir() -> Path:
    """The folder holding ``train/<class>/`` and ``validation/<class>/`` (``$CLOTHING_PHOTOS_DIR``, then
    ``data/clothing_photos``, then ``../shared/datasets/clothing_photos``)."""
    looked = candidate_dirs()
    for folder in looked:
        if _complete(folder):
            return folder
    raise DataNotFoundError(
        "the clothing photos were not found.\nLooked in: " + ", ".join(paths.display_path(p) for p in looked)
        + f".\nPut the source's train/ and validation/ folders (one sub-folder per class: {', '.join(CLASS_NAMES)}) "
        f"in data/{DATASET}/, or set ${ENV_DIR}; they are the public-domain clothing-dataset-small ({SOURCE_URL}).")


def manifest_path() -> Path:
    return paths.manifests_dir() / f"{DATASET}.csv"


def _source_files(root: Path):
    """``(files relative to root, labels, source split)`` of every image file, sorted."""
    files, labels, source = [], [], []
    for folder, split in SOURCE_SPLITS.items():
        for label, name in enumerate(CLASS_NAMES):
            for f in sorted((root / folder / name).iterdir()):
                if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in IMAGE_SUFFIXES:
                    files.append(f.relative_to(root).as_posix())
                    labels.append(label)
                    source.append(split)
    return files, np.asarray(labels, dtype=np.int64), np.asarray(source, dtype=object)


def make_manifest(root: Path, manifest: Path, test_fraction: float = TEST_FRACTION, seed: int = SEED) -> Path:
    """Write our split of the photos in ``root`` to ``manifest`` (CSV: file, label, class, split; see the module
    docstring)."""
    from sklearn.model_selection import train_test_split

    files, labels, split = _source_files(Path(root))
    if not files:
        raise DataNotFoundError(f"{paths.display_path(root)} holds no photos.")
    train = np.where(split == "train")[0]
    _, test = train_test_split(train, test_size=test_fraction, stratify=labels[train], random_state=seed)
    split[test] = "test"
    # byte-identical twins: a train photo goes where its twin is (the source's validation photos stay in val)
    order = np.r_[np.where(split == "val")[0], np.where(split == "test")[0], np.where(split == "train")[0]]
    moved, _ = image_folder.group_duplicates(root, [files[i] for i in order], split[order])
    split[order] = moved
    manifest = Path(manifest)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "label", "class", "split"])
        for i in range(len(files)):
            w.writerow([files[i], int(labels[i]), CLASS_NAMES[labels[i]], split[i]])
    return manifest


def ensure_manifest() -> Path:
    """The versioned split (written once, from the photos, when missing)."""
    m = manifest_path()
    if not m.is_file():
        make_manifest(dataset_dir(), m)
    return m


def checked_manifest():
    """``(manifest path, rows)``, refusing a manifest whose classes are not this data set's."""
    m = ensure_manifest()
    rows, names = image_folder.read_manifest(m)
    if names != CLASS_NAMES:
        raise HelpersError(f"{paths.display_path(m)} lists classes {names}, expected {CLASS_NAMES}")
    return m, rows


def frame(im, framing: str | None = None):
    """A PIL photo framed as a square (see :data:`FRAMINGS`)."""
    framing = framing or FRAMING
    if framing not in FRAMINGS:
        raise ValueError(f"unknown framing {framing!r}; known: {', '.join(FRAMINGS)}")
    im = to_rgb(im)
    w, h = im.size
    s = min(w, h) if framing == "centre" else max(w, h)
    if framing == "centre":
        return im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
    from PIL import Image

    from helpers.inputs.photo_views import edge_colour

    out = Image.new("RGB", (s, s), edge_colour(im))
    out.paste(im, ((s - w) // 2, (s - h) // 2))
    return out


def prepare_image(im, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), framing: str | None = None) -> np.ndarray:
    """One photo as a model input: framed as a square, resized to the model's side, uint8 RGB."""
    from helpers.inputs.images import resize_rgb

    return resize_rgb(frame(im, framing), tuple(input_shape[:2]))


def load_splits(input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), framing: str | None = None) -> dict:
    """``{"train", "val", "test"}`` -> ``(x uint8 (N, S, S, 3), y int64 (N,))``, decoded once per side and framing
    and cached in ``data/cache/images``."""
    size, framing = int(input_shape[0]), framing or FRAMING
    m, rows = checked_manifest()
    root = dataset_dir()

    def load(split):
        part = [r for r in rows if r["split"] == split]
        x = np.stack([prepare_image(open_rgb(root / r["file"]), (size, size, 3), framing) for r in part])
        return x, np.asarray([r["label"] for r in part], dtype=np.int64)

    return image_folder.cached_splits(DATASET, m, size, load, f"{framing}, bilinear", root)


TASK = tasks.register(tasks.Task(NAME, "Real clothing photos, 10 classes", list(CLASS_NAMES),
                                 (IMAGE_SIZE, IMAGE_SIZE, 3), load_splits, prepare_image, sized=True))


def train_views(n_views: int | None = None, size: int = IMAGE_SIZE, seed: int = SEED, settings: dict | None = None):
    """``(x uint8 (n_views * N, S, S, 3), y)``: :func:`helpers.inputs.photo_views.views` of our training photos (drawn
    from each full photo, view-major), cached in ``data/cache/images`` by manifest, side, views, seed and settings."""
    import hashlib
    import json

    from helpers.inputs import photo_views

    n_views = photo_views.VIEWS if n_views is None else int(n_views)
    m, rows = checked_manifest()
    root = dataset_dir()
    part = [r for r in rows if r["split"] == "train"]
    s = {**photo_views.DEFAULT, **(settings or {})}
    h = hashlib.sha1(m.read_bytes())
    h.update(json.dumps([int(size), n_views, int(seed), s], sort_keys=True).encode())
    cache = paths.data_dir() / "cache" / "images" / f"{DATASET}_views_{int(size)}_{h.hexdigest()[:10]}.npz"
    y = np.tile(np.asarray([r["label"] for r in part], dtype=np.int64), n_views)
    if cache.is_file():
        with np.load(cache) as z:
            return z["x"], y
    x = photo_views.views((open_rgb(root / r["file"]) for r in part), int(size), n_views, seed, s)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, x=x)
    tmp.replace(cache)
    return x, y
