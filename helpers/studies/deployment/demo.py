"""A simulated day of uploads on the fashion site, deterministic and built from data we already have.

Two days, one per task of the offers pipeline:

- ``clothing`` (the default, the site's real uploads): each user's uploads are **photos of the clothing
  validation split** (:mod:`helpers.inputs.clothing_photos`; no model was fitted on them, though the model and its
  rules were chosen on them), with non-fashion photos that nothing was fitted on (flowers, and outdoor gear that is
  not clothing from the gear study's validation and test splits) and a few broken files. Photos are drawn with
  replacement, so one photo can be uploaded by several users, as the same product photo can be on a real site.
- ``fashion`` (catalogue thumbnails, below): Fashion-MNIST test images, real boot and jacket photos, non-fashion
  photos and broken files.

Each simulated user has a favourite category and uploads a number of images: most of the favourite, the rest
other categories (drawn uniformly, as in notebook 06's simulation). The images are Fashion-MNIST *test* images
written as PNG files (no model has trained on them), real boot and jacket photos from the gear dataset for users
whose favourite is Ankle boot or Coat, non-fashion photos (other outdoor gear and flowers) and a few broken files
(empty, truncated, not an image, missing). :func:`build` writes ``DIR/uploads.csv`` (``user_id``, ``image``
relative to ``DIR``, and what the upload really is: ``source`` and ``true_label``) and ``DIR/truth.csv`` (each
user's favourite), and copies every image under ``DIR/images/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_USERS = 300
#: Simulated users of the photo day (each photo is scored by TensorFlow Lite at about 100 per second here).
DEFAULT_PHOTO_USERS = 300
TASKS = ("clothing", "fashion")
#: Uploads per user: 1 + Poisson(MEAN_EXTRA_UPLOADS), capped.
MEAN_EXTRA_UPLOADS = 9
MAX_UPLOADS = 30
FAVOURITE_SHARE = 0.7
#: Of all uploads: real garment photos (for Ankle boot and Coat users), non-fashion photos, broken files.
PHOTO_SHARE = 0.3
NON_FASHION_SHARE = 0.05
BROKEN_FILES = 4
#: Gear classes that are fashion items of Fashion-MNIST's categories, and those that are not fashion at all.
GARMENT_PHOTOS = {"Ankle boot": ["boots"], "Coat": ["hardshell_jackets", "insulated_jackets"]}
NON_FASHION_GEAR = ["axes", "carabiners", "crampons", "helmets", "pulleys", "rope", "tents"]


def image_files(folder: Path, classes) -> list[Path]:
    """The image files of ``classes`` (one sub-folder each) under ``folder``, sorted."""
    from helpers.inputs.image_folder import IMAGE_SUFFIXES

    return sorted(f for c in classes for f in (folder / c).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)


def _broken(images: Path, sample: Path) -> list[tuple[str, str]]:
    """``(relative path, what is wrong)`` for a few broken uploads (one missing, never written); the truncated
    one is the first 60 bytes of the image file ``sample``."""
    d = images / "broken"
    d.mkdir(parents=True, exist_ok=True)
    (d / "empty.png").write_bytes(b"")
    (d / "not_an_image.jpg").write_text("this is a text file with an image's name\n")
    truncated = f"truncated{sample.suffix.lower()}"
    (d / truncated).write_bytes(sample.read_bytes()[:60])
    return [("images/broken/empty.png", "empty file"), ("images/broken/not_an_image.jpg", "not an image"),
            (f"images/broken/{truncated}", "truncated"), ("images/broken/missing.png", "missing")]


def build_thumbnail_day(out_dir, users: int = DEFAULT_USERS, seed: int = 0,
                        favourite_share: float = FAVOURITE_SHARE) -> dict:
    """The thumbnail day (task ``fashion``) in ``out_dir``; see :func:`build`."""
    from PIL import Image

    from helpers.inputs import flower_photos, gear_photos
    from helpers.inputs.fashion_mnist import CLASS_NAMES, load_fashion_mnist

    out = Path(out_dir)
    images = out / "images"
    shutil.rmtree(images, ignore_errors=True)
    (images / "fashion-mnist").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    _, (x_test, y_test), _ = load_fashion_mnist()
    by_class = {c: np.flatnonzero(y_test == c) for c in range(len(CLASS_NAMES))}
    gear_dir = gear_photos.dataset_dir()
    garment = {k: image_files(gear_dir, v) for k, v in GARMENT_PHOTOS.items()}
    non_fashion = image_files(gear_dir, NON_FASHION_GEAR) + image_files(flower_photos.dataset_dir(), flower_photos.CLASS_NAMES)
    rows, truth, used = [], [], set()
    for u in range(users):
        user = f"u{u:05d}"
        fav = int(rng.integers(len(CLASS_NAMES)))
        truth.append({"user_id": user, "favourite": CLASS_NAMES[fav]})
        for _ in range(_uploads_of(rng)):
            if rng.random() < NON_FASHION_SHARE:
                f = non_fashion[int(rng.integers(len(non_fashion)))]
                rows.append((user, f, "non-fashion photo", "not fashion"))
                continue
            c = fav if rng.random() < favourite_share else int(rng.choice([k for k in by_class if k != fav]))
            name = CLASS_NAMES[c]
            if name in garment and rng.random() < PHOTO_SHARE:
                f = garment[name][int(rng.integers(len(garment[name])))]
                rows.append((user, f, "real photo", name))
                continue
            i = int(rng.choice(by_class[c]))
            rel = f"images/fashion-mnist/test_{i:05d}.png"
            if i not in used:
                Image.fromarray(x_test[i], "L").save(out / rel, optimize=False)
                used.add(i)
            rows.append((user, rel, "Fashion-MNIST test image", name))
    _copy_photos(out, rows)
    first = images / "fashion-mnist" / sorted(p.name for p in (images / "fashion-mnist").iterdir())[0]
    return _finish(out, rows, truth, rng, first, users)


def _copy_photos(out: Path, rows: list) -> None:
    """Photos (``Path`` entries of ``rows``) copied once each under ``images/photos/<class folder>/``; the rows then
    name the copies (relative to ``out``)."""
    copied = {}
    for k, (user, f, source, label) in enumerate(rows):
        if isinstance(f, Path):
            rel = copied.get(f) or f"images/photos/{f.parent.name}/{f.name}"
            if f not in copied:
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, out / rel)
                copied[f] = rel
            rows[k] = (user, rel, source, label)


def _finish(out: Path, rows: list, truth: list, rng, sample: Path, users: int) -> dict:
    """The broken files inserted at random places, then ``uploads.csv`` and ``truth.csv`` written."""
    for rel, what in _broken(out / "images", sample)[:BROKEN_FILES]:
        k = int(rng.integers(len(rows)))
        rows.insert(k, (rows[k][0], rel, f"broken file ({what})", "unreadable"))
    uploads = pd.DataFrame(rows, columns=["user_id", "image", "source", "true_label"])
    uploads.to_csv(out / "uploads.csv", index=False, lineterminator="\n")
    pd.DataFrame(truth).to_csv(out / "truth.csv", index=False, lineterminator="\n")
    return {"uploads": out / "uploads.csv", "truth": out / "truth.csv", "rows": len(uploads), "users": users}


def _uploads_of(rng) -> int:
    return 1 + min(int(rng.poisson(MEAN_EXTRA_UPLOADS)), MAX_UPLOADS - 1)


def non_fashion_photos() -> list[Path]:
    """Photos that are not clothing and that nothing was fitted on: every flower photo, and the gear photos of
    :data:`NON_FASHION_GEAR` outside the split the photo model's rejection rule was fitted on."""
    from helpers.inputs import flower_photos
    from helpers.studies import gear
    from helpers.studies.clothing import config

    table = pd.read_csv(gear.ensure_manifest())
    keep = table["class"].isin(NON_FASHION_GEAR) & ~table["split"].isin(config.GEAR_FIT_SPLITS)
    root = gear.dataset_dir()
    return sorted(root / f for f in table.loc[keep, "file"]) + image_files(flower_photos.dataset_dir(),
                                                                       flower_photos.CLASS_NAMES)


def build_photo_day(out_dir, users: int = DEFAULT_PHOTO_USERS, seed: int = 0,
                    favourite_share: float = FAVOURITE_SHARE) -> dict:
    """The photo day (task ``clothing``) in ``out_dir``; see :func:`build`."""
    from helpers.inputs import clothing_photos

    out = Path(out_dir)
    shutil.rmtree(out / "images", ignore_errors=True)
    (out / "images").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    table = pd.read_csv(clothing_photos.ensure_manifest())
    val = table[table["split"] == "val"]
    root = clothing_photos.dataset_dir()
    names = clothing_photos.CLASS_NAMES
    by_class = {c: sorted(root / f for f in val.loc[val["class"] == c, "file"]) for c in names}
    junk = non_fashion_photos()
    rows, truth = [], []
    for u in range(users):
        user = f"u{u:05d}"
        fav = int(rng.integers(len(names)))
        truth.append({"user_id": user, "favourite": names[fav]})
        for _ in range(_uploads_of(rng)):
            if rng.random() < NON_FASHION_SHARE:
                rows.append((user, junk[int(rng.integers(len(junk)))], "non-fashion photo", "not fashion"))
                continue
            c = fav if rng.random() < favourite_share else int(rng.choice([k for k in range(len(names)) if k != fav]))
            photos = by_class[names[c]]
            rows.append((user, photos[int(rng.integers(len(photos)))], "clothing photo", names[c]))
    _copy_photos(out, rows)
    return _finish(out, rows, truth, rng, out / rows[0][1], users)


def build(out_dir, users: int | None = None, seed: int = 0, favourite_share: float = FAVOURITE_SHARE,
          task: str = "clothing") -> dict:
    """Write the simulated day of ``task`` to ``out_dir`` (``DIR/uploads.csv``, ``DIR/truth.csv``, the images under
    ``DIR/images/``); returns ``{"uploads": path, "truth": path, "rows": n, "users": n}``."""
    if task not in TASKS:
        raise ValueError(f"the simulated day is made for the tasks {', '.join(TASKS)}, not {task!r}")
    users = (DEFAULT_PHOTO_USERS if task == "clothing" else DEFAULT_USERS) if users is None else users
    if users < 1:
        raise ValueError(f"users must be at least 1, not {users}")
    make = build_photo_day if task == "clothing" else build_thumbnail_day
    return make(out_dir, users=users, seed=seed, favourite_share=favourite_share)
