"""Class-per-folder image datasets (flowers, gear) and their split manifests.

``root/<class name>/<image file>``: every readable image is used; corrupt, truncated or
non-image files are skipped and listed in one warning. The train/validation/test split is
stratified, seeded, and written to a CSV manifest (``data/manifests/<name>.csv``, under version
control) so that every notebook and tool uses the very same split.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from helpers.core import paths
from helpers.core.errors import DataNotFoundError, HelpersError, ImageLoadError
from helpers.inputs.images import IMAGE_SUFFIXES, load_rgb_array, open_rgb

SPLITS = ("train", "val", "test")


class SkippedFilesWarning(UserWarning):
    """Some files in an image folder could not be read and were left out."""


def scan(root: str | Path, check: bool = True):
    """``(files, labels, class_names, skipped)`` for a class-per-folder tree.

    ``files`` are paths relative to ``root`` (POSIX style, sorted), ``labels`` class indices.
    With ``check`` every file is decoded; unreadable ones are skipped and reported in a
    :class:`SkippedFilesWarning`.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataNotFoundError(f"image folder {paths.display_path(root)} does not exist.")
    class_names = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not class_names:
        raise DataNotFoundError(f"{paths.display_path(root)} has no class sub-folders (expected root/<class>/<image>).")
    files, labels, skipped = [], [], []
    for label, name in enumerate(class_names):
        for f in sorted((root / name).rglob("*")):
            if not f.is_file() or f.name.startswith("."):
                continue
            rel = f.relative_to(root).as_posix()
            if f.suffix.lower() not in IMAGE_SUFFIXES:
                skipped.append((rel, "not an image file name"))
                continue
            if check:
                try:
                    open_rgb(f)
                except ImageLoadError as e:
                    skipped.append((rel, str(e).split(": ", 1)[-1]))
                    continue
            files.append(rel)
            labels.append(label)
    if skipped:
        listing = "\n".join(f"  {rel}: {why}" for rel, why in skipped)
        warnings.warn(f"{len(skipped)} file(s) in {paths.display_path(root)} skipped:\n{listing}",
                      SkippedFilesWarning, stacklevel=2)
    return files, np.asarray(labels, dtype=np.int64), class_names, skipped


def content_hash(path: str | Path) -> str:
    """The sha256 of a file's bytes: byte-identical photos under different names have the same hash."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def group_duplicates(root, files, split_of) -> tuple[np.ndarray, list]:
    """``split_of`` with every group of byte-identical files moved into the split of the group's first file (in
    ``files`` order), so that no photo is both trained on and scored; and the moves ``(file, from, to)``."""
    split_of = np.array(split_of, dtype=object)
    first: dict = {}
    moves = []
    for i, f in enumerate(files):
        j = first.setdefault(content_hash(Path(root) / f), i)
        if j != i and split_of[i] != split_of[j]:
            moves.append((f, split_of[i], split_of[j]))
            split_of[i] = split_of[j]
    return split_of, moves


def make_manifest(root, manifest: str | Path, val_fraction=0.15, test_fraction=0.15, seed=42):
    """Write the stratified, seeded split of ``root`` to ``manifest`` (CSV: file,label,class,split); byte-identical
    duplicates are then grouped into one split (:func:`group_duplicates`)."""
    files, labels, class_names, _ = scan(root)
    idx = np.arange(len(files))
    rest, test = train_test_split(idx, test_size=test_fraction, stratify=labels, random_state=seed)
    train, val = train_test_split(rest, test_size=val_fraction / (1 - test_fraction),
                                  stratify=labels[rest], random_state=seed)
    split_of = np.empty(len(files), dtype=object)
    split_of[train], split_of[val], split_of[test] = "train", "val", "test"
    split_of, _ = group_duplicates(root, files, split_of)
    manifest = Path(manifest)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file", "label", "class", "split"])
        for i in idx:
            w.writerow([files[i], int(labels[i]), class_names[labels[i]], split_of[i]])
    return manifest


def read_manifest(manifest: str | Path):
    """``(rows, class_names)``; rows are dicts with file, label (int), class, split."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise DataNotFoundError(f"split manifest {paths.display_path(manifest)} not found; "
                                "create it with helpers.inputs.image_folder.make_manifest().")
    with open(manifest, newline="") as f:
        rows = [dict(r, label=int(r["label"])) for r in csv.DictReader(f)]
    n_classes = max(r["label"] for r in rows) + 1
    class_names = [""] * n_classes
    for r in rows:
        class_names[r["label"]] = r["class"]
    return rows, class_names


def load_split(root, manifest, split: str, size=(160, 160), pad: bool = False):
    """Images of one split as ``(x uint8 (N,H,W,3), y int64 (N,), class_names)``; ``pad``: padded to a
    square on white before resizing (no stretching)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    rows, class_names = read_manifest(manifest)
    rows = [r for r in rows if r["split"] == split]
    root = Path(root)
    x = np.stack([load_rgb_array(root / r["file"], size, pad) for r in rows]) if rows else \
        np.zeros((0, *size, 3), np.uint8)
    y = np.asarray([r["label"] for r in rows], dtype=np.int64)
    return x, y, class_names


def has_classes(folder: Path, class_names) -> bool:
    """True if ``folder`` has one sub-folder per class."""
    folder = Path(folder)
    return folder.is_dir() and all((folder / c).is_dir() for c in class_names)


def locate_or_download(candidates, class_names, download, what: str, how_to_get: str,
                       download_if_missing: bool = True) -> Path:
    """The first candidate folder with every class sub-folder; else ``download()`` (which raises
    ``ConnectionError`` offline); else a :class:`DataNotFoundError` naming where it looked and ``how_to_get``."""
    candidates = list(candidates)
    for folder in candidates:
        if has_classes(folder, class_names):
            return folder
    problem = "downloading was not allowed"
    if download_if_missing:
        try:
            return download()
        except ConnectionError as e:
            problem = f"no internet: {e}"
    searched = ", ".join(paths.display_path(p) for p in candidates)
    raise DataNotFoundError(f"{what} were not found and {problem}.\nLooked in: {searched}.\n{how_to_get}")


def cached_splits(dataset: str, manifest: Path, size: int, load, preprocessing: str, source: Path) -> dict:
    """``{split: (x, y)}`` from ``load(split)``, cached in ``data/cache/images/`` per dataset, image side,
    manifest content, ``preprocessing`` (a short description: change it when the preprocessing changes) and
    ``source`` folder: any of them changing gives a new cache file."""
    import hashlib

    h = hashlib.sha1(Path(manifest).read_bytes())
    h.update(f"{preprocessing}|{Path(source).resolve()}".encode())
    cache = paths.data_dir() / "cache" / "images" / f"{dataset}_{int(size)}_{h.hexdigest()[:10]}.npz"
    if cache.is_file():
        with np.load(cache) as z:
            return {s: (z[f"x_{s}"], z[f"y_{s}"]) for s in SPLITS}
    out = {s: load(s) for s in SPLITS}
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, **{f"{k}_{s}": v for s, xy in out.items() for k, v in zip("xy", xy)})
    tmp.replace(cache)
    return out


class ImageFolderDataset:
    """A class-per-folder dataset (flowers, gear): where it is found, how it is downloaded, and its versioned split.

    ``name``: the folder's name under ``data/`` and ``../shared/datasets/`` (also the manifest's and the image
    cache's name); ``env_dir``: the environment variable that points at it; ``class_names``: the sub-folders, in
    label order; ``fetch``: a callable that downloads it into ``data/<name>`` and returns the folder (raises
    ``ConnectionError`` offline); ``what`` / ``how_to_get``: the words of the error when it is missing; the split is
    stratified and seeded (``val_fraction``, ``test_fraction``, ``seed``) and written once to
    ``data/manifests/<name>.csv``.
    """

    def __init__(self, name: str, env_dir: str, class_names, fetch, what: str, how_to_get: str,
                 val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 42):
        self.name, self.env_dir, self.class_names = name, env_dir, list(class_names)
        self.fetch, self.what, self.how_to_get = fetch, what, how_to_get
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed

    def candidate_dirs(self) -> list[Path]:
        return paths.candidate_dirs(self.env_dir, self.name, f"datasets/{self.name}")

    def has_classes(self, folder: Path) -> bool:
        return has_classes(folder, self.class_names)

    def dataset_dir(self, download_if_missing: bool = True) -> Path:
        """The folder (one sub-folder per class); downloaded into ``data/`` where missing and allowed."""
        return locate_or_download(self.candidate_dirs(), self.class_names, self.fetch, self.what, self.how_to_get,
                                  download_if_missing)

    def manifest_path(self) -> Path:
        return paths.manifests_dir() / f"{self.name}.csv"

    def ensure_manifest(self) -> Path:
        """The stratified, seeded train/validation/test split, written once and versioned."""
        m = self.manifest_path()
        if not m.is_file():
            make_manifest(self.dataset_dir(), m, val_fraction=self.val_fraction, test_fraction=self.test_fraction,
                          seed=self.seed)
        return m

    def checked_manifest(self):
        """``(manifest path, rows, class names)``, refusing a manifest whose classes are not this dataset's."""
        m = self.ensure_manifest()
        rows, names = read_manifest(m)
        if names != self.class_names:
            raise HelpersError(f"{paths.display_path(m)} lists classes {names}, expected {self.class_names}")
        return m, rows, names
