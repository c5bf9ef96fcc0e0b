"""Test-time augmentation: shifted views of each image, averaged; their outputs saved per experiment, and the
selection runs' validation outputs."""

from __future__ import annotations

from helpers.core import paths
from helpers.inputs.augment import shift_images  # noqa: F401  (the views, shared with the teacher model)
from helpers.studies.best_model import config
from helpers.studies.best_model.experiments import EXPERIMENTS


def selection_outputs(name: str):
    """``(val_probabilities, y_val)`` of experiment ``name``'s selection run."""
    import numpy as np

    path = config.SELECTION_DIR / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no selection-run outputs for {name} ({paths.display_path(path)}); "
                                f"retrain it with python -m helpers.best_model train {name} --retrain")
    with np.load(path) as z:
        return z["val"].astype(np.float64), z["y_val"]


#: Test-time augmentation: the views averaged, as whole-pixel shifts ``(down, right)`` of the image (zero
#: filled, as the training shifts). No flipped views: every shoe in Fashion-MNIST faces left.
TTA_VIEWS = {
    1: ((0, 0),),
    5: ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)),
    9: tuple((dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)),
}


def tta_table(model, x, y, view_sets=TTA_VIEWS, batch_size: int = 512):
    """Accuracy and cross-entropy on ``(x, y)`` for each set of views, and the cost (forward passes per image).

    Each distinct view is predicted once and shared by the sets that contain it. Returns
    ``(table, probabilities)``: the table indexed by number of views, and ``{views: averaged probabilities}``.
    """
    import pandas as pd

    from helpers.evaluation import metrics
    from helpers.models.saved_models import predict_proba

    distinct = {v for views in view_sets.values() for v in views}
    proba = {v: predict_proba(model, shift_images(x, *v), batch_size) for v in sorted(distinct)}
    rows, averaged = [], {}
    for k, views in view_sets.items():
        if not views:
            raise ValueError("give at least one view")
        averaged[k] = sum(proba[v] for v in views) / len(views)
        m = metrics.classification_metrics(y, averaged[k])
        rows.append({"views": k, "accuracy": m["accuracy"], "loss": m["loss"], "cost": f"{len(views)}x"})
    return pd.DataFrame(rows).set_index("views"), averaged


#: Where the test-time-augmented validation outputs of each experiment are kept (``python -m helpers.best_model
#: tta NAME``): the probabilities averaged over the :data:`TTA_DEPLOYABLE` views of :data:`TTA_VIEWS`.
def save_tta_outputs(name: str, views: int | None = None, data: dict | None = None, split: str = "val"):
    """Predict ``split`` under ``views`` shifted views with experiment ``name``'s saved model and keep the averaged
    probabilities (``.npz``: ``<split>``, ``y_<split>``, ``views``); returns the path. The test split is for the
    one candidate notebook 05 scores on test, once."""
    views = config.TTA_DEPLOYABLE if views is None else views
    import numpy as np

    from helpers.inputs import tasks
    from helpers.models import saved_models

    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', not {split!r}")
    model, _ = saved_models.load(name)
    x, y = (data or tasks.get("fashion").load_splits())[split]
    _, averaged = tta_table(model, x, y, {views: TTA_VIEWS[views]})
    config.TTA_DIR.mkdir(parents=True, exist_ok=True)
    path = _tta_path(name, split)
    np.savez_compressed(path, **{split: averaged[views].astype(np.float32), f"y_{split}": np.asarray(y)},
                        views=np.asarray(TTA_VIEWS[views]))
    return path


def _tta_path(name: str, split: str = "val"):
    return config.TTA_DIR / (f"{name}.npz" if split == "val" else f"{name}_{split}.npz")


def tta_outputs(name: str, split: str = "val"):
    """``(probabilities, labels, views)`` of experiment ``name`` on ``split`` under test-time augmentation."""
    import numpy as np

    path = _tta_path(name, split)
    if not path.is_file():
        raise FileNotFoundError(f"no test-time-augmented outputs for {name} on {split} ({paths.display_path(path)}); "
                                f"compute them with python -m helpers.best_model tta {name}"
                                + (f" --split {split}" if split != "val" else ""))
    with np.load(path) as z:
        return z[split].astype(np.float64), z[f"y_{split}"], [tuple(int(v) for v in row) for row in z["views"]]


def tta_summary(names=None):
    """Per experiment with saved test-time-augmented outputs: validation accuracy with one view and with the
    averaged views, and the gain in points."""
    import pandas as pd

    from helpers.evaluation import metrics

    rows = []
    for n in names or EXPERIMENTS:
        if not _tta_path(n).is_file():
            continue
        p_tta, y, views = tta_outputs(n)
        one = metrics.classification_metrics(y, selection_outputs(n)[0])["accuracy"]
        many = metrics.classification_metrics(y, p_tta)["accuracy"]
        rows.append({"experiment": n, "views": len(views), "val_accuracy_1_view": one, "val_accuracy_tta": many,
                     "gain (points)": round((many - one) * 100, 2)})
    return pd.DataFrame(rows, columns=["experiment", "views", "val_accuracy_1_view", "val_accuracy_tta",
                                       "gain (points)"]).set_index("experiment")
