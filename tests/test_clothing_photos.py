"""The clothing photos (notebook 11): finding them, our versioned split, the task's framing, on tiny synthetic photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from helpers.core.errors import DataNotFoundError
from helpers.inputs import clothing_photos as cp


def make_photos(root: Path, per_class=(20, 4)) -> Path:
    """``root/train/<class>/`` and ``root/validation/<class>/`` with small portrait JPEGs (and one twin)."""
    rng = np.random.default_rng(0)
    for folder, n in zip(cp.SOURCE_SPLITS, per_class):
        for c, name in enumerate(cp.CLASS_NAMES):
            (root / folder / name).mkdir(parents=True)
            for i in range(n):
                arr = np.clip(np.array([20 * c, 200 - 15 * c, 90]) + rng.normal(0, 8, (40, 30, 3)), 0, 255)
                Image.fromarray(arr.astype(np.uint8)).save(root / folder / name / f"{folder}_{i:02d}.jpg")
    # a byte-identical twin of a validation photo in train: it must not be trained on
    twin = root / "validation" / "dress" / "validation_00.jpg"
    (root / "train" / "dress" / "twin_of_val.jpg").write_bytes(twin.read_bytes())
    (root / "train" / "hat" / "notes.txt").write_text("not a photo")
    return root


@pytest.fixture
def tiny_clothing(tmp_path, monkeypatch):
    root = make_photos(tmp_path / "clothing")
    monkeypatch.setenv(cp.ENV_DIR, str(root))
    monkeypatch.setattr(cp, "manifest_path", lambda: tmp_path / "manifests" / "clothing_photos.csv")
    return root


def test_our_split_keeps_the_source_validation_and_draws_a_stratified_test(tiny_clothing):
    assert cp.dataset_dir() == tiny_clothing
    m = cp.ensure_manifest()
    assert m == tiny_clothing.parent / "manifests" / "clothing_photos.csv"
    rows = pd.read_csv(m)
    assert list(rows.columns) == ["file", "label", "class", "split"]
    from_validation = rows["file"].str.startswith("validation/")
    assert (rows.loc[from_validation, "split"] == "val").all()
    assert set(rows.loc[~from_validation & (rows["split"] == "val"), "file"]) == {"train/dress/twin_of_val.jpg"}
    test = rows[rows["split"] == "test"]
    assert set(test["class"]) == set(cp.CLASS_NAMES) and len(test) == pytest.approx(0.1 * 201, abs=2)
    assert not rows["file"].str.endswith(".txt").any()
    before = m.read_bytes()
    m.unlink()
    assert cp.ensure_manifest().read_bytes() == before                                      # seeded: same split


def test_splits_are_squares_framed_as_asked(tiny_clothing):
    splits = cp.load_splits((32, 32, 3))
    assert {s: splits[s][0].shape[1:] for s in splits} == dict.fromkeys(("train", "val", "test"), (32, 32, 3))
    assert sum(len(splits[s][1]) for s in splits) == 10 * 24 + 1
    a = np.full((60, 30, 3), 40, np.uint8)   # a portrait: a white item in the middle, a dark floor around it
    a[15:45, 5:25] = 255
    portrait = Image.fromarray(a)
    centre = cp.prepare_image(portrait, (30, 30, 3), "centre")
    padded = cp.prepare_image(portrait, (30, 30, 3), "pad")
    assert centre[3:27, 7:23].min() > 250 and centre[0, 0].max() < 50    # the centre square: the item fills it
    assert (padded[:, :7] == 40).all() and padded[15, 15].min() > 250   # the whole photo, padded with the floor
    with pytest.raises(ValueError, match="unknown framing"):
        cp.frame(portrait, "stretch")


def test_the_task_is_registered_with_the_folder_names():
    from helpers.inputs import tasks

    task = tasks.get("clothing")
    assert task.class_names == cp.CLASS_NAMES and task.n_outputs == 10 and task.sized
    rgba = Image.new("RGBA", (60, 80), (255, 0, 0, 0))
    assert task.prepare(rgba, (16, 16, 3)).shape == (16, 16, 3)


def test_missing_photos_are_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(cp.ENV_DIR, str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match=r"(?s)clothing photos were not found.*CLOTHING_PHOTOS_DIR"):
        cp.dataset_dir()


def test_the_linear_probe_compares_framings_on_validation_only(tiny_clothing, tmp_path, monkeypatch):
    """The probe on the frozen backbone (random weights here): every framing x penalty scored on validation, with
    an interval; the test photos are never featurised."""
    from helpers.studies.clothing import config, linear_probe

    seen = []
    real = cp.load_splits

    def spy(input_shape, framing=None):
        data = real(input_shape, framing)
        seen.append(framing)
        return data

    monkeypatch.setattr(cp, "load_splits", spy)
    from helpers.training import cached_transfer

    featurised, real_features = [], cached_transfer.cached_features
    monkeypatch.setattr(cached_transfer, "cached_features",
                        lambda model, b, s, k, x, split, **kw: featurised.append(split) or real_features(
                            model, b, s, k, x, split, **kw))
    path = tmp_path / "probe.json"
    out = linear_probe.run(cs=(0.01,), backbone_weights=None, image_size=32, path=path)
    assert seen == list(config.FRAMINGS)
    assert sorted(set(featurised)) == ["clothing_train", "clothing_val"]
    assert set(out["runs"]) == {f"{f}, C={c:g}" for f in config.FRAMINGS for c in (0.01,)}
    for r in out["runs"].values():
        assert r["val_photos"] == 41 and r["val_low"] <= r["val_accuracy"] <= r["val_high"]
        assert r["val_right"] == round(r["val_accuracy"] * 41)
    assert out["best"] in out["runs"] and linear_probe.load(path) == out
