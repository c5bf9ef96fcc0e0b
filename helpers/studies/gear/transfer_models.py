"""Task 3: MobileNetV2 transfer learning on the catalogue (frozen features + head, then its top fine-tuned)."""

from __future__ import annotations

from helpers.inputs import gear_photos as catalogue
from helpers.studies.gear import config


def train_transfer(retrain: bool = False, data: dict | None = None, backbone_weights="imagenet", **overrides):
    """Task 3: MobileNetV2 transfer learning on 224x224 photos, trained on cached backbone features.

    Returns ``{name: (model, record)}`` for :data:`TL_STEPS` (frozen features + head, then the top two
    weight layers fine-tuned from that head). ``overrides`` change every step's settings (tests).
    """
    from helpers.training import cached_transfer

    data = data if data is not None else catalogue.load_splits((config.TL_SIZE, config.TL_SIZE, 3))
    shape = tuple(int(d) for d in data["train"][0].shape[1:])
    out = {}
    for name, step in config.TL_STEPS.items():
        cfg = {**step, **overrides}
        out[name] = cached_transfer.train_or_load_step(
            name, backbone=config.BACKBONE, image_size=shape[0], head_units=config.TL_HEAD["head_units"], dropout=config.TL_HEAD["dropout"],
            unfrozen=cfg["unfrozen"], init_head_from=cfg["init_head_from"], backbone_weights=backbone_weights,
            task=config.NAME, retrain=retrain, progress=False, data=data, input_shape=shape, epochs=cfg["epochs"],
            patience=cfg["patience"], learning_rate=cfg["learning_rate"], batch_size=32, monitor="val_loss",
            refit_on_train_and_val=False)
    return out
