import numpy as np
import pytest
from PIL import Image

from helpers.core.errors import DataNotFoundError
from helpers.inputs.image_folder import (
    SkippedFilesWarning,
    load_split,
    make_manifest,
    read_manifest,
    scan,
)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    rng = np.random.default_rng(0)
    modes = ["RGB", "RGBA", "L", "P", "CMYK"]
    for c, name in enumerate(["boots", "axes", "tents"]):
        (root / name).mkdir(parents=True)
        for i in range(20):
            mode = modes[i % len(modes)]
            size = (int(rng.integers(20, 60)), int(rng.integers(20, 60)))
            ext = "jpg" if mode in ("RGB", "L", "CMYK") else "png"
            Image.new(mode, size).save(root / name / f"{i:02d}.{ext}")
    (root / "boots" / "notes.txt").write_text("not an image")
    (root / "axes" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "tents" / "fake.png").write_text("<html>404</html>")
    return root


def test_scan_skips_bad_files_and_lists_them(folder):
    with pytest.warns(SkippedFilesWarning) as w:
        files, labels, names, skipped = scan(folder)
    assert names == ["axes", "boots", "tents"]
    assert len(files) == 60 and np.bincount(labels).tolist() == [20, 20, 20]
    text = str(w[0].message)
    assert "3 file(s)" in text and "broken.jpg" in text and "fake.png" in text and "notes.txt" in text


def test_manifest_is_stratified_deterministic_and_loadable(folder, tmp_path):
    with pytest.warns(SkippedFilesWarning):
        m1 = make_manifest(folder, tmp_path / "m1.csv", val_fraction=0.2, test_fraction=0.2, seed=3)
    with pytest.warns(SkippedFilesWarning):
        m2 = make_manifest(folder, tmp_path / "m2.csv", val_fraction=0.2, test_fraction=0.2, seed=3)
    assert m1.read_bytes() == m2.read_bytes()
    rows, names = read_manifest(m1)
    assert names == ["axes", "boots", "tents"]
    for split in ("train", "val", "test"):
        counts = np.bincount([r["label"] for r in rows if r["split"] == split], minlength=3)
        assert len(set(counts.tolist())) == 1, (split, counts)  # same count per class
    assert len({r["file"] for r in rows}) == 60
    x, y, _ = load_split(folder, m1, "test", size=(32, 24))
    assert x.shape == (12, 32, 24, 3) and x.dtype == np.uint8 and len(y) == 12


def test_missing_folder_and_manifest(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        scan(tmp_path / "nothing")
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataNotFoundError, match="no class sub-folders"):
        scan(tmp_path / "flat")
    with pytest.raises(DataNotFoundError, match="make_manifest"):
        read_manifest(tmp_path / "none.csv")


def test_byte_identical_photos_share_one_split(tmp_path):
    from helpers.inputs.image_folder import group_duplicates

    for name, payload in (("a.jpg", b"same"), ("b.jpg", b"other"), ("c.jpg", b"same")):
        (tmp_path / name).write_bytes(payload)
    split, moves = group_duplicates(tmp_path, ["a.jpg", "b.jpg", "c.jpg"], ["train", "test", "test"])
    assert list(split) == ["train", "test", "train"] and moves == [("c.jpg", "test", "train")]
