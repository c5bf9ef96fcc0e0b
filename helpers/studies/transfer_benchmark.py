"""The transfer-learning benchmark of notebook 03: ImageNet backbone frozen -> two dense layers added -> last two
layers unfrozen, each step trained on cached features (:mod:`helpers.training.cached_transfer`)."""

from __future__ import annotations

import numpy as np

from helpers.models.transfer import TAILS, parts
from helpers.training.cached_transfer import train_or_load_step

#: The benchmark protocol, in order. Step 3 starts from step 2's trained head.
PROTOCOL = {
    "frozen": dict(title="1 · frozen backbone + softmax", head_units=(), dropout=0.0, unfrozen=False,
                   learning_rate=1e-3, epochs=30, patience=5),
    "dense_head": dict(title="2 · + two dense layers", head_units=(256, 128), dropout=0.3, unfrozen=False,
                       learning_rate=1e-3, epochs=30, patience=5),
    "fine_tuned": dict(title="3 · last two layers unfrozen", head_units=(256, 128), dropout=0.3, unfrozen=True,
                       learning_rate=1e-4, epochs=12, patience=3, init_head_from="dense_head"),
}


def step_name(backbone: str, step: str) -> str:
    return f"fashion_tl_{backbone}_{step}"


def unfrozen_layer_summary(model, backbone: str) -> list[dict]:
    """The layers step 3 retrains: name, kind, trainable and frozen weight counts (from the model itself)."""
    base, _ = parts(model)
    out = []
    for name in TAILS[backbone].unfrozen:
        layer = base.get_layer(name)
        count = lambda ws: int(sum(int(np.prod(w.shape)) for w in ws))  # noqa: E731
        out.append({"layer": name, "kind": type(layer).__name__, "trainable weights": count(layer.trainable_weights),
                    "frozen weights": count(layer.non_trainable_weights)})
    return out


def protocol_table(backbone: str):
    """The protocol as a table (one row per step), rendered from :data:`PROTOCOL` for the notebook."""
    import pandas as pd

    rows = []
    for step, cfg in PROTOCOL.items():
        head = " → ".join([f"Dense {u}" for u in cfg["head_units"]] + ["softmax"])
        if cfg["head_units"]:
            head += f" (ReLU, dropout {cfg['dropout']:g})"
        trained = (f"{head}, plus {' and '.join(TAILS[backbone].unfrozen)}" if cfg["unfrozen"] else head)
        init = cfg.get("init_head_from")
        rows.append({"step": cfg["title"], "trained": trained,
                     "starts from": (f"step {PROTOCOL[init]['title'].split(' ')[0]}'s head (selection run: as trained "
                                     "on the training split only)") if init else "random head",
                     "learning rate": f"{cfg['learning_rate']:g}", "max epochs": cfg["epochs"],
                     "early-stopping patience": cfg["patience"]})
    return pd.DataFrame(rows).set_index("step")


def run_protocol(backbone: str, image_size: int = 96, retrain: bool = False, batch_size: int = 128, **kw) -> dict:
    """Train (or load) the three steps for ``backbone``; returns ``{step: (model, record)}``."""
    out = {}
    for step, cfg in PROTOCOL.items():
        init = cfg.get("init_head_from")
        out[step] = train_or_load_step(
            step_name(backbone, step), backbone=backbone, image_size=image_size, head_units=cfg["head_units"],
            dropout=cfg["dropout"], unfrozen=cfg["unfrozen"], init_head_from=step_name(backbone, init) if init else None,
            retrain=retrain, epochs=cfg["epochs"], patience=cfg["patience"], learning_rate=cfg["learning_rate"],
            batch_size=batch_size, monitor="val_loss", refit_on_train_and_val=True, **kw)
    return out
