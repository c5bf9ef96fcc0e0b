"""The gear study's settings: the saved models' names, our CNN's design and training, transfer learning's steps."""

from __future__ import annotations

from helpers.core import paths
from helpers.inputs.gear_photos import CLASS_NAMES, CNN_SIZE, NAME, SEED, TL_SIZE  # noqa: F401

BACKBONE = "mobilenet_v2"

#: Saved models of the study.
#: our CNN with and without class weights; notebook 09 chooses one on validation (``results/gear/choice.json``)
OWN_CNN_WEIGHTED = "gear_own_cnn_weighted"
OWN_CNN_UNWEIGHTED = "gear_own_cnn_unweighted"
TL_FROZEN = "gear_tl_mobilenet_v2_frozen"
TL_FINE_TUNED = "gear_tl_mobilenet_v2_fine_tuned"
RESULTS_DIR = paths.REPO_ROOT / "results" / "gear"

#: The brief's test-accuracy target for our own CNN, and our own bar for transfer learning.
CNN_TARGET, TL_BAR = 0.90, 0.95
#: A best epoch in the last tenth of a run's budget leaves the validation optimum possibly beyond it.
EDGE_SHARE = 0.1

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

#: The classical baselines' input side (pixels, colour histograms).
BASELINE_SIZE = 32
