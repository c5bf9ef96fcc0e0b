"""Companion study 2: the outdoor-gear catalogue classifier (notebook 09).

An outdoor-equipment retailer asks whether deep learning classifies its product photos better than
classical models. The study's task functions, in the brief's order:

1. :func:`train_own_cnn`        our own CNN (with and without class weights), best epoch kept on validation;
2. :func:`predict_new_images`   the 12 photos that are not in the dataset, through ``helpers.predict``'s path;
3. :func:`train_transfer`       MobileNetV2 (ImageNet) frozen features + a head, then its top fine-tuned;
   :func:`classical_baseline`   the classical answer (logistic regression / random forest) to compare with.

``python -m helpers.gear`` runs them all in order (about 25 minutes on 2 cores); the notebook loads
what they saved. Data: ``$GEAR_IMAGES_DIR``, ``data/gear_images/``, ``../shared/datasets/gear_images/``,
else (machines with internet, e.g. Colab) the public source is downloaded into ``data/gear_images/``.

Preprocessing, as the retailer's earlier pipeline did it: every photo is **padded to a square on
white** (product photos sit on white; padding keeps the item's proportions, stretching would not),
then resized: 128x128 for our CNN, the backbone's 224x224 for transfer learning.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np

from . import image_folder, paths, tasks
from .errors import DataNotFoundError, HelpersError

NAME = "gear"
DATASET = "gear_images"
NEW_IMAGES = "gear_new_images"
ENV_DIR = "GEAR_IMAGES_DIR"
#: The public source (the MLOpenHack challenge repository), pinned to one commit.
SOURCE_COMMIT = "40efe9306c848c812ecd4fc324fa0ffdab19d136"
SOURCE_URL = f"https://github.com/ktakita1011/MLopenhack/archive/{SOURCE_COMMIT}.zip"
SOURCE_FOLDER = "Challenge2/gear_images"
DOWNLOAD_TIMEOUT_S = 30
#: The 12 classes (folder names), in label order.
CLASS_NAMES = ["axes", "boots", "carabiners", "crampons", "gloves", "hardshell_jackets", "harnesses", "helmets",
               "insulated_jackets", "pulleys", "rope", "tents"]
#: Tag of the preprocessing below (part of the image cache's key: change it when the preprocessing changes).
PREPROCESSING = "pad-square-white, bilinear"
CNN_SIZE = 128          # our CNN's input side: enough to see a carabiner's gate, 1/3 of the cost of 224
TL_SIZE = 224           # MobileNetV2's native input side (its ImageNet training size)
BACKBONE = "mobilenet_v2"
VAL_FRACTION = TEST_FRACTION = 0.15
SEED = 42

#: Saved models of the study.
OWN_CNN = "gear_own_cnn"
OWN_CNN_UNWEIGHTED = "gear_own_cnn_unweighted"
TL_FROZEN = "gear_tl_mobilenet_v2_frozen"
TL_FINE_TUNED = "gear_tl_mobilenet_v2_fine_tuned"
RESULTS_DIR = paths.REPO_ROOT / "results" / "gear"

#: Our CNN's design (justified element by element in notebook 09).
CNN_HPARAMS = dict(filters=(16, 32, 64, 128), dropout=0.3, flip=True, rotate=0.05, zoom=0.1, translate=0.1)
CNN_TRAINING = dict(epochs=50, batch_size=32, learning_rate=1e-3, patience=8, reduce_lr_patience=3,
                    monitor="val_loss")
#: Transfer learning: step 1 trains the head on cached frozen features, step 2 also MobileNetV2's last
#: two weight layers (Conv_1 and its BatchNorm) from step 1's head, at a tenth of the learning rate.
TL_HEAD = dict(head_units=(), dropout=0.3)
TL_STEPS = {
    TL_FROZEN: dict(unfrozen=False, learning_rate=1e-3, epochs=40, patience=6, init_head_from=None),
    TL_FINE_TUNED: dict(unfrozen=True, learning_rate=1e-4, epochs=15, patience=4, init_head_from=TL_FROZEN),
}


# --------------------------------------------------------------------------------------------- data
def candidate_dirs() -> list[Path]:
    return paths.candidate_dirs(ENV_DIR, DATASET, f"datasets/{DATASET}")


def _has_classes(folder: Path) -> bool:
    return image_folder.has_classes(folder, CLASS_NAMES)


def download(target: Path | None = None, url: str = SOURCE_URL, folder: str = SOURCE_FOLDER) -> Path:
    """Download the public source archive and extract ``folder`` (one sub-folder per class) into ``target``.

    Written to a temporary folder first and moved into place when complete, so an interrupted download
    leaves nothing half-done. Raises ``ConnectionError`` without internet.
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
        dest = tmp / inner
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(archive.read(member))
        n += 1
    if n == 0 or not _has_classes(tmp):
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataNotFoundError(f"{url} holds no complete {folder}/<class>/ folders; download the gear images by hand.")
    shutil.rmtree(target, ignore_errors=True)
    tmp.replace(target)
    return target


def dataset_dir(download_if_missing: bool = True) -> Path:
    """The folder of gear images (one sub-folder per class); downloads it where it is missing and allowed."""
    return image_folder.locate_or_download(
        candidate_dirs(), CLASS_NAMES, lambda: download(), "the gear images",
        f"Put the folder with one sub-folder per class ({', '.join(CLASS_NAMES[:3])}, ...) in data/{DATASET}/ "
        f"(or set ${ENV_DIR}); it is the {SOURCE_FOLDER} folder of the public MLOpenHack challenge repository.",
        download_if_missing)


def new_images_dir() -> Path:
    for folder in paths.candidate_dirs(ENV_DIR + "_NEW", NEW_IMAGES, f"datasets/{NEW_IMAGES}"):
        if folder.is_dir():
            return folder
    raise DataNotFoundError(f"the new gear photos were not found: put them in data/{NEW_IMAGES}/ "
                            "(file names start with the class name and '__').")


def manifest_path() -> Path:
    return paths.manifests_dir() / f"{DATASET}.csv"


def ensure_manifest() -> Path:
    """The stratified, seeded train/validation/test split (70/15/15), written once and versioned."""
    m = manifest_path()
    if not m.is_file():
        image_folder.make_manifest(dataset_dir(), m, val_fraction=VAL_FRACTION, test_fraction=TEST_FRACTION, seed=SEED)
    return m


def load_splits(input_shape=(CNN_SIZE, CNN_SIZE, 3)) -> dict:
    """``{"train", "val", "test"}`` -> ``(x uint8 (N, S, S, 3), y int64)``, padded on white and resized.

    Decoded once per size and cached in ``data/cache/images/`` (keyed by manifest, preprocessing and folder).
    """
    size = int(input_shape[0])
    m = ensure_manifest()

    root = dataset_dir()

    def load(split):
        x, y, names = image_folder.load_split(root, m, split, size=(size, size), pad=True)
        if names != CLASS_NAMES:
            raise HelpersError(f"{paths.display_path(m)} lists classes {names}, expected {CLASS_NAMES}")
        return x, y

    return image_folder.cached_splits(DATASET, m, size, load, PREPROCESSING, root)


def prepare_image(im, input_shape=(CNN_SIZE, CNN_SIZE, 3)) -> np.ndarray:
    """One photo as a model's input: padded to a square on white, resized to the model's side."""
    from .images import resize_rgb

    return resize_rgb(im, tuple(input_shape[:2]), pad=True)


TASK = tasks.register(tasks.Task(NAME, "Outdoor-gear catalogue photos, 12 classes", list(CLASS_NAMES),
                                 (CNN_SIZE, CNN_SIZE, 3), load_splits, prepare_image, sized=True))


def dataset_summary(root: Path | None = None):
    """Per class: image count, share, median width and height, and how many are PNG / have transparency."""
    import pandas as pd
    from PIL import Image

    root = Path(root or dataset_dir())
    rows, _ = image_folder.read_manifest(ensure_manifest())
    out = []
    for r in rows:
        with Image.open(root / r["file"]) as im:
            out.append({"file": r["file"], "class": r["class"], "width": im.width, "height": im.height, "format": im.format,
                        "transparency": im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info})
    df = pd.DataFrame(out)
    summary = df.groupby("class").agg(images=("width", "size"), median_width=("width", "median"),
                                      median_height=("height", "median"),
                                      png=("format", lambda f: int((f == "PNG").sum())),
                                      with_transparency=("transparency", "sum"))
    summary["share"] = (summary["images"] / summary["images"].sum()).round(3)
    return summary.loc[CLASS_NAMES].sort_values("images", ascending=False), df


def split_counts():
    import pandas as pd

    rows, _ = image_folder.read_manifest(ensure_manifest())
    df = pd.DataFrame(rows)
    return df.pivot_table(index="class", columns="split", values="file", aggfunc="count").loc[
        CLASS_NAMES, list(image_folder.SPLITS)]


def cnn_design_table():
    """Our CNN, element by element, with the reason for each choice (rendered from :data:`CNN_HPARAMS` and the
    split manifest)."""
    import pandas as pd

    hp, tr = CNN_HPARAMS, CNN_TRAINING
    counts = split_counts()
    n_train, per_class = int(counts["train"].sum()), counts.sum(axis=1)
    f = hp["filters"]
    side = CNN_SIZE // 2 ** len(f)
    rows = [
        ("input", f"{CNN_SIZE}×{CNN_SIZE} RGB, pixels / 255 inside the model",
         "colour matters (rope and tents come in bright colours, crampons are grey metal); the saved model takes raw pixels"),
        ("augmentation (training only)",
         f"left-right flips, rotations up to ±{hp['rotate'] * 360:.0f}°, zooms ±{hp['zoom']:.0%}, shifts ±{hp['translate']:.0%}, "
         "empty space filled white",
         f"{n_train:,} training photos are few for a CNN: each epoch sees a slightly different catalogue; flips are "
         "safe because no class depends on which way an item faces; white fill matches the photos' background"),
        ("convolutional blocks", f"{len(f)} × [Conv 3×3 → BatchNorm → ReLU → MaxPool 2×2], filters "
         + " → ".join(str(x) for x in f),
         f"the brief's conv → pool pattern, deep enough that the last filters see most of the item "
         f"({CNN_SIZE} → {side} pixels); filters double as the resolution halves; BatchNorm lets a small network train "
         "fast and steadily"),
        ("pooling to a vector", "global average pooling",
         "one number per filter, wherever the item sits; a flattened map would need many more weights and over-fit"),
        ("dropout", f"{hp['dropout']:g} before the output", "regularises the only dense layer"),
        ("output", f"Dense {len(CLASS_NAMES)}, softmax", "one probability per gear class"),
        ("training", f"Adam, learning rate {tr['learning_rate']:g}, batch {tr['batch_size']}, at most {tr['epochs']} epochs; "
         f"learning rate halved after {tr['reduce_lr_patience']} epochs without progress",
         "Adam's default rate trains BatchNorm networks reliably without a search"),
        ("against over-fitting", f"checkpoint of the best validation loss, early stopping after {tr['patience']} epochs "
         "without improvement, augmentation, dropout",
         "the model kept is the one that generalised best to photos it did not train on"),
        ("unbalanced classes", "class weights n / (k · n_class); the alternative, trained without, is compared on validation",
         f"the rarest class ({per_class.idxmin()}) has {per_class.min() / per_class.max():.0%} of the largest one's "
         "photos: unweighted, the loss hardly notices it"),
    ]
    return pd.DataFrame(rows, columns=["element", "choice", "why"]).set_index("element")


def overfitting_summary(record: dict) -> dict:
    """From a record's history: the best epoch, its train and validation loss, and where validation loss
    ended (the curves' verdict on over-fitting)."""
    h = record["history"]
    best = int(np.argmin(h["val_loss"]))
    return {"best epoch": best + 1, "epochs run": len(h["val_loss"]), "train loss at best": round(h["loss"][best], 3),
            "val loss at best": round(h["val_loss"][best], 3), "val loss at the end": round(h["val_loss"][-1], 3),
            "train accuracy at best": round(h["accuracy"][best], 3),
            "val accuracy at best": round(h["val_accuracy"][best], 3)}


# ---------------------------------------------------------------------------------------- metrics
def scores(y_true, proba) -> dict:
    """accuracy, macro F1, balanced accuracy and the per-class recall, for unbalanced classes."""
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    y = np.asarray(y_true)
    pred = np.asarray(proba).argmax(axis=1)
    recall = recall_score(y, pred, average=None, labels=range(len(CLASS_NAMES)), zero_division=0)
    labels = list(range(len(CLASS_NAMES)))
    return {"accuracy": round(float(np.mean(pred == y)), 4),
            "macro_f1": round(float(f1_score(y, pred, labels=labels, average="macro", zero_division=0)), 4),
            "balanced_accuracy": round(float(balanced_accuracy_score(y, pred)), 4),
            "recall": {c: round(float(r), 4) for c, r in zip(CLASS_NAMES, recall)}}


def class_weights(y) -> dict:
    """``{class: n / (k * n_class)}``: each class weighs as much in the loss as a balanced class would."""
    counts = np.bincount(np.asarray(y), minlength=len(CLASS_NAMES))
    if (counts == 0).any():
        missing = [CLASS_NAMES[i] for i in np.where(counts == 0)[0]]
        raise HelpersError(f"no training images of {', '.join(missing)}: class weights are undefined")
    return {i: float(len(y) / (len(CLASS_NAMES) * c)) for i, c in enumerate(counts)}


# ----------------------------------------------------------------------------------- task functions
def train_own_cnn(retrain: bool = False, weighted: bool = True, data: dict | None = None, **overrides):
    """Task 1: our CNN on 128x128 photos; returns ``(model, record)`` (loaded when saved and not ``retrain``).

    Parameters: ``weighted`` weights each class's loss by ``class_weights`` (the unbalanced-class answer);
    ``data`` the splits (default :func:`load_splits` at 128x128); ``overrides`` change
    :data:`CNN_TRAINING` (tests use tiny data). The best validation epoch is kept (checkpoint on
    validation loss, early stopping); the test split is scored once and recorded.
    """
    from . import training

    name = OWN_CNN if weighted else OWN_CNN_UNWEIGHTED
    if not retrain and training.weights_store.exists(name):
        return training.load(name)
    data = data if data is not None else load_splits((CNN_SIZE, CNN_SIZE, 3))
    shape = tuple(int(d) for d in data["train"][0].shape[1:])
    args = {**CNN_TRAINING, **overrides}
    fit_kwargs = {"class_weight": class_weights(data["train"][1])} if weighted else None
    return training.fit(name, task=NAME, architecture="catalogue_cnn", hparams=dict(CNN_HPARAMS), data=data,
                        input_shape=shape, fit_kwargs=fit_kwargs, refit_on_train_and_val=False,
                        notes={"class_weights": "balanced (n / (k * n_class))" if weighted else "none",
                               "kept": "the best validation epoch (checkpoint); no refit"}, **args)


def train_transfer(retrain: bool = False, data: dict | None = None, backbone_weights="imagenet", **overrides):
    """Task 3: MobileNetV2 transfer learning on 224x224 photos, trained on cached backbone features.

    Returns ``{name: (model, record)}`` for :data:`TL_STEPS` (frozen features + head, then the top two
    weight layers fine-tuned from that head). ``overrides`` change every step's settings (tests).
    """
    from . import transfer

    data = data if data is not None else load_splits((TL_SIZE, TL_SIZE, 3))
    shape = tuple(int(d) for d in data["train"][0].shape[1:])
    out = {}
    for name, step in TL_STEPS.items():
        cfg = {**step, **overrides}
        out[name] = transfer.train_or_load_step(
            name, backbone=BACKBONE, image_size=shape[0], head_units=TL_HEAD["head_units"], dropout=TL_HEAD["dropout"],
            unfrozen=cfg["unfrozen"], init_head_from=cfg["init_head_from"], backbone_weights=backbone_weights,
            task=NAME, retrain=retrain, progress=False, data=data, input_shape=shape, epochs=cfg["epochs"],
            patience=cfg["patience"], learning_rate=cfg["learning_rate"], batch_size=32, monitor="val_loss",
            refit_on_train_and_val=False)
    return out


#: The classical baselines: (name, model factory, features). Chosen on validation accuracy.
BASELINE_SIZE = 32


def baseline_features(x: np.ndarray, kind: str) -> np.ndarray:
    """``pixels``: 32x32 RGB pixels scaled to [0, 1]; ``histogram``: 8x8x8 RGB colour histogram plus a
    16x16 grey thumbnail (colour and rough shape)."""
    from PIL import Image

    small = np.stack([np.asarray(Image.fromarray(im).resize((BASELINE_SIZE, BASELINE_SIZE), Image.BILINEAR))
                      for im in x]).astype(np.float32) / 255.0
    if kind == "pixels":
        return small.reshape(len(x), -1)
    bins = (small * 7.999).astype(np.int64)
    codes = bins[..., 0] * 64 + bins[..., 1] * 8 + bins[..., 2]
    hist = np.stack([np.bincount(c.ravel(), minlength=512) for c in codes]).astype(np.float32)
    hist /= hist.sum(axis=1, keepdims=True)
    thumb = small.mean(axis=-1)[:, ::2, ::2].reshape(len(x), -1)
    return np.concatenate([hist, thumb], axis=1)


def classical_baseline(retrain: bool = False, data: dict | None = None, path: Path | None = None) -> dict:
    """The classical answer: logistic regression on pixels and a random forest on colour histograms,
    the better one on validation scored once on test. Saved to ``results/gear/classical_baseline.json``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    path = Path(path or RESULTS_DIR / "classical_baseline.json")
    if not retrain and path.is_file():
        return json.loads(path.read_text())
    data = data if data is not None else load_splits((CNN_SIZE, CNN_SIZE, 3))
    candidates = {
        "logistic regression on 32x32 pixels": ("pixels", lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=0.01, max_iter=2000, class_weight="balanced"))),
        "random forest on colour histograms + thumbnail": ("histogram", lambda: RandomForestClassifier(
            n_estimators=500, class_weight="balanced", random_state=SEED, n_jobs=-1)),
    }
    rows = {}
    for label, (kind, factory) in candidates.items():
        feats = {s: baseline_features(xy[0], kind) for s, xy in data.items()}
        t = time.perf_counter()
        clf = factory().fit(feats["train"], data["train"][1])
        seconds = time.perf_counter() - t
        t = time.perf_counter()
        val = clf.predict_proba(feats["val"])
        rows[label] = {"clf": clf, "kind": kind, "seconds": round(seconds, 1), "val": scores(data["val"][1], val),
                       "images_per_s": round(len(val) / (time.perf_counter() - t), 1)}
    best = max(rows, key=lambda k: (rows[k]["val"]["accuracy"], k))
    test = rows[best]["clf"].predict_proba(baseline_features(data["test"][0], rows[best]["kind"]))
    result = {"chosen": best, "candidates": {k: {kk: v for kk, v in r.items() if kk != "clf"} for k, r in rows.items()},
              "test": scores(data["test"][1], test)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result


def new_images() -> list[tuple[Path, str]]:
    """The photos not in the dataset, with the true class taken from the file name (``<class>__...``)."""
    folder = new_images_dir()
    from .images import IMAGE_SUFFIXES

    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    return [(f, f.name.split("__", 1)[0]) for f in files]


def predict_new_images(model_name: str | None = None):
    """Task 2: every new photo through ``helpers.predict``'s own path; a table (file, true, predicted, confidence)."""
    import pandas as pd

    from .predict import predict_files

    pairs = new_images()
    rows = []
    for (f, truth), r in zip(pairs, predict_files([f for f, _ in pairs], NAME, model_name)):
        rows.append({"file": f.name, "true class": truth, "predicted": r.get("label"),
                     "confidence": r.get("confidence"), "correct": r.get("label") == truth, "model": r.get("model"),
                     "error": r.get("error")})
    return pd.DataFrame(rows)


def inference_speed(model, x: np.ndarray, batch_size: int = 64, repeats: int = 3) -> float:
    """Images per second of ``model.predict`` on ``x`` (best of ``repeats``, after one warm-up)."""
    model.predict(x[:batch_size], batch_size=batch_size, verbose=0)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict(x, batch_size=batch_size, verbose=0)
        best = max(best, len(x) / (time.perf_counter() - t))
    return round(best, 1)


def record_inference_speeds(names=None, path: Path | None = None) -> dict:
    """Measure images/s for the study's saved models on the test split; written to ``results/gear/``."""
    from . import training

    path = Path(path or RESULTS_DIR / "inference_speed.json")
    out = {}
    for name in names or [OWN_CNN, OWN_CNN_UNWEIGHTED, TL_FROZEN, TL_FINE_TUNED]:
        model, record = training.load(name)
        x = load_splits(tuple(record["input_shape"]))["test"][0]
        out[name] = inference_speed(model, x)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images_per_s": out, "batch_size": 64, "note": "2-core CPU, best of 3"}, indent=1) + "\n")
    return out


def load_inference_speeds(path: Path | None = None) -> dict:
    """``{model name: images/s}`` as recorded by :func:`record_inference_speeds` (empty if never measured)."""
    path = Path(path or RESULTS_DIR / "inference_speed.json")
    return json.loads(path.read_text())["images_per_s"] if path.is_file() else {}


def main(argv=None) -> int:
    """Repeat the whole study, task by task (saved models are retrained)."""
    print("task 1: our CNN", flush=True)
    train_own_cnn(retrain=True, weighted=True)
    train_own_cnn(retrain=True, weighted=False)
    print("task 3: transfer learning", flush=True)
    train_transfer(retrain=True)
    print("classical baseline", flush=True)
    classical_baseline(retrain=True)
    print("inference speed", flush=True)
    record_inference_speeds()
    print("task 2: new images", flush=True)
    print(predict_new_images().to_string(), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    from . import cli

    sys.exit(cli.run(main))  # a missing dataset or unavailable weights: one clear line, no traceback
