"""The gear study (notebook 09) on a tiny synthetic catalogue: odd image modes, transparency, a
corrupt file, the Colab download from a loopback server, training, evaluate --check and predict."""

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from helpers import evaluate
from helpers import predict as predict_command
from helpers.core.errors import DataNotFoundError
from helpers.inputs.image_folder import SkippedFilesWarning
from helpers.inputs.images import pad_to_square, resize_rgb
from helpers.serving import classify
from helpers.inputs import gear_photos
from helpers.studies import gear

MODES = ["RGB", "RGBA", "L", "P", "CMYK", "LA"]


def _photo(mode, size, colour):
    im = Image.new("RGB", size, (255, 255, 255))
    w, h = size
    im.paste(Image.new("RGB", (w // 2, h // 2), colour), (w // 4, h // 4))
    if mode in ("RGBA", "LA"):
        im = im.convert(mode)
        alpha = Image.new("L", size, 0)
        alpha.paste(255, (w // 4, h // 4, 3 * w // 4, 3 * h // 4))
        im.putalpha(alpha)
        return im
    return im.convert(mode)


def make_catalogue(root, per_class=8):
    """12 class folders of small photos whose centre colour gives the class; plus bad files."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(gear.CLASS_NAMES):
        (root / name).mkdir(parents=True)
        colour = tuple(int(v) for v in rng.integers(0, 200, 3))
        for i in range(per_class):
            mode = MODES[(c + i) % len(MODES)]
            size = (int(rng.integers(24, 60)), int(rng.integers(24, 60)))
            ext = "jpg" if mode in ("RGB", "L", "CMYK") else "png"
            _photo(mode, size, colour).save(root / name / f"{i:02d}.{ext}")
    (root / "axes" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "tents" / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    root = make_catalogue(tmp_path / "gear_images")
    monkeypatch.setenv("GEAR_IMAGES_DIR", str(root))
    monkeypatch.setattr(gear.FOLDER, "manifest_path", lambda: tmp_path / "manifests" / "gear_images.csv")
    return root


def test_pad_to_square_keeps_proportions_on_white():
    im = Image.new("RGB", (40, 10), (0, 0, 0))
    sq = pad_to_square(im)
    assert sq.size == (40, 40)
    arr = np.asarray(sq)
    assert (arr[:15] == 255).all() and (arr[-15:] == 255).all() and (arr[15:25] == 0).all()
    assert resize_rgb(Image.new("RGBA", (30, 20)), (8, 8), pad=True).shape == (8, 8, 3)


def test_splits_are_stratified_padded_and_skip_bad_files(catalogue):
    with pytest.warns(SkippedFilesWarning, match="broken.jpg"):
        data = gear.load_splits((32, 32, 3))
    n = sum(len(y) for _, y in data.values())
    assert n == 12 * 8
    for split, (x, y) in data.items():
        assert x.shape[1:] == (32, 32, 3) and x.dtype == np.uint8
        assert set(np.unique(y)) == set(range(12))  # every class in every split
    # transparent photos come out white where they were transparent (corners)
    assert (data["train"][0][:, 0, 0] >= 250).all()


def test_missing_data_offline_is_a_clear_error(monkeypatch):
    def refuse(*a, **k):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(gear_photos, "download", refuse)
    with pytest.raises(DataNotFoundError, match="GEAR_IMAGES_DIR") as e:
        gear.dataset_dir()
    assert "no internet" in str(e.value) and "data/gear_images" in str(e.value)
    with pytest.raises(DataNotFoundError, match="not allowed"):
        gear.dataset_dir(download_if_missing=False)


def _zip_of(root, top="MLopenhack-abc"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"{top}/README.md", "challenge")
        for f in sorted(root.rglob("*")):
            if f.is_file():
                z.write(f, f"{top}/{gear.SOURCE_FOLDER}/{f.relative_to(root).as_posix()}")
        z.writestr(f"{top}/Challenge2/other/x.jpg", b"elsewhere")
    return buf.getvalue()


def test_download_from_a_loopback_server(tmp_path, monkeypatch, loopback_server):
    """The real download code (Colab, no ../shared), against an archive served on loopback."""
    src = make_catalogue(tmp_path / "src", per_class=2)
    site = tmp_path / "site"
    site.mkdir()
    (site / "archive.zip").write_bytes(_zip_of(src))
    (site / "page.zip").write_text("<html>not found</html>")
    new_photo = next(f for f in sorted((src / "axes").iterdir()) if f.name != "broken.jpg")  # a "new photo" in the archive
    monkeypatch.setattr(gear_photos, "NEW_IMAGE_SHA256",
                        frozenset({hashlib.sha256(new_photo.read_bytes()).hexdigest()}))
    base = loopback_server(site)
    monkeypatch.setattr(gear.download, "__defaults__", (None, base + "archive.zip", gear.SOURCE_FOLDER))
    folder = gear.dataset_dir()
    assert not (folder / "axes" / new_photo.name).exists()          # kept out of training by its content hash
    assert folder == tmp_path / "data" / "gear_images"
    assert sorted(p.name for p in folder.iterdir()) == gear.CLASS_NAMES
    assert (folder / "axes" / "broken.jpg").is_file() and not (folder / "other").exists()
    with pytest.raises(DataNotFoundError, match="zip"):
        gear.download(tmp_path / "x", url=base + "page.zip")
    with pytest.raises(ConnectionError):
        gear.download(tmp_path / "y", url=base + "missing.zip")
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.part").exists()


def test_class_weights_balance_the_loss():
    y = np.array([0] * 30 + [1] * 10 + list(range(2, 12)))
    w = gear.class_weights(y)
    totals = np.bincount(y, minlength=12) * np.array([w[i] for i in range(12)])
    assert np.allclose(totals, totals[0])


def test_scores_report_unbalanced_metrics():
    y = np.array([0, 0, 0, 1])
    proba = np.eye(12)[[0, 0, 0, 0]]
    s = gear.scores(y, proba)
    assert s["accuracy"] == 0.75 and s["recall"]["axes"] == 1.0 and s["recall"]["boots"] == 0.0
    assert s["balanced_accuracy"] == 0.5


def test_own_cnn_trains_saves_evaluates_and_predicts(catalogue, tmp_path, capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        data = gear.load_splits((32, 32, 3))
    model, record = gear.train_own_cnn(retrain=True, data=data, epochs=2, batch_size=16, patience=2)
    assert record["input_shape"] == [32, 32, 3] and record["notes"]["class_weights"].startswith("balanced")
    assert record["metrics"]["test"]["n"] == len(data["test"][1])
    assert model.input_shape[1:] == (32, 32, 3)
    capsys.readouterr()
    assert evaluate.main([gear.OWN_CNN_WEIGHTED, "--check"]) == 0
    assert json.loads(capsys.readouterr().out)["check"] == "ok"
    photo = tmp_path / "boot.png"
    _photo("RGBA", (50, 30), (10, 20, 30)).save(photo)
    bad = tmp_path / "bad.jpg"
    bad.write_text("no")
    out = list(classify.predict_files([photo, bad], "gear"))
    assert out[0]["label"] in gear.CLASS_NAMES and 0 <= out[0]["confidence"] <= 1
    assert "error" in out[1] and "bad.jpg" in out[1]["error"]
    assert predict_command.main(["--task", "gear", str(photo)]) == 0


def test_transfer_steps_train_on_cached_features(catalogue):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        data = gear.load_splits((32, 32, 3))
    out = gear.train_transfer(retrain=True, data=data, backbone_weights=None, epochs=1, patience=1)
    assert set(out) == {gear.TL_FROZEN, gear.TL_FINE_TUNED}
    rec = out[gear.TL_FINE_TUNED][1]
    assert rec["hparams"]["unfrozen"] and rec["notes"]["init_head_from"] == gear.TL_FROZEN
    assert rec["input_shape"] == [32, 32, 3]
    assert evaluate.main([gear.TL_FINE_TUNED, "--check"]) == 0


def test_classical_baseline_picks_on_validation(catalogue, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        data = gear.load_splits((32, 32, 3))
    res = gear.classical_baseline(retrain=True, data=data, path=tmp_path / "b.json")
    assert res["chosen"] in res["candidates"]
    assert res["test"]["accuracy"] > 0.3  # colours separate the classes
    assert json.loads((tmp_path / "b.json").read_text()) == res
    assert len(res["test_predictions"]) == len(data["test"][1])


def test_intervals_and_paired_tests_state_the_noise():
    from helpers.studies.gear import comparison

    y = np.repeat(np.arange(4), 50)
    right = np.eye(4)[y]
    ci = comparison.accuracy_interval(y, right)
    assert ci["accuracy"] == 1.0 and 0.95 < ci["low"] < 1.0 and ci["photos"] == 200
    rng = np.random.default_rng(0)
    noisy = np.where(rng.random(200) < 0.7, y, (y + 1) % 4)
    nearly = np.where(rng.random(200) < 0.72, y, (y + 1) % 4)
    table = comparison.paired_tests(y, {"good": y, "noisy": noisy, "nearly": nearly}, "noisy")
    assert table.loc["good", "verdict"] == "better" and table.loc["good", "p-value"] < 0.001
    assert table.loc["nearly", "verdict"] == "within noise" and "noisy" not in table.index


def test_new_images_take_the_class_from_the_file_name(tmp_path, monkeypatch):
    folder = tmp_path / "new"
    folder.mkdir()
    _photo("RGB", (20, 20), (1, 2, 3)).save(folder / "boots__abc.jpg")
    (folder / "readme.txt").write_text("x")
    monkeypatch.setenv("GEAR_IMAGES_DIR_NEW", str(folder))
    assert gear.new_images() == [(folder / "boots__abc.jpg", "boots")]


def test_duplicate_groups_are_listed_and_kept_in_one_split(catalogue):
    import shutil

    for src in sorted((catalogue / "tents").glob("0[0-2].*")):  # the same bytes under another name, three times
        shutil.copy(src, src.with_name(f"copy_{src.name}"))
    with pytest.warns(SkippedFilesWarning):
        gear.ensure_manifest()
    dups = gear.duplicate_groups()
    assert dups["group"].nunique() == 3 and len(dups) == 6 and set(dups["class"]) == {"tents"}
    assert (dups.groupby("group")["split"].nunique() == 1).all()
