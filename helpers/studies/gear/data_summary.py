"""The catalogue described (notebook 09's data understanding): images per class, sizes, formats, the split."""

from __future__ import annotations

from pathlib import Path

from helpers.inputs import gear_photos as catalogue
from helpers.inputs import image_folder
from helpers.studies.gear import config


def dataset_summary(root: Path | None = None):
    """Per class: image count, share, median width and height, and how many are PNG / have transparency."""
    import pandas as pd
    from PIL import Image

    root = Path(root or catalogue.dataset_dir())
    rows, _ = image_folder.read_manifest(catalogue.ensure_manifest())
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
    return summary.loc[config.CLASS_NAMES].sort_values("images", ascending=False), df


def split_counts():
    import pandas as pd

    rows, _ = image_folder.read_manifest(catalogue.ensure_manifest())
    df = pd.DataFrame(rows)
    return df.pivot_table(index="class", columns="split", values="file", aggfunc="count").loc[
        config.CLASS_NAMES, list(image_folder.SPLITS)]


def duplicate_groups(root: Path | None = None):
    """The groups of byte-identical photos (the same bytes under two or more names): one row per file, with its
    group (content hash), class and split. The manifest keeps each group in one split
    (``image_folder.group_duplicates``), so that no photo is both trained on and scored."""
    import pandas as pd

    root = Path(root or catalogue.dataset_dir())
    rows, _ = image_folder.read_manifest(catalogue.ensure_manifest())
    df = pd.DataFrame([{"file": r["file"], "class": r["class"], "split": r["split"],
                        "group": image_folder.content_hash(root / r["file"])[:12]} for r in rows])
    return df[df.duplicated("group", keep=False)].sort_values(["group", "file"]).reset_index(drop=True)
