"""Companion study 2: the outdoor-gear catalogue classifier (notebook 09).

An outdoor-equipment retailer asks whether deep learning classifies its product photos better than
classical models. The study's task functions, in the brief's order:

1. :func:`train_own_cnn`        our own CNN (with and without class weights), best epoch kept on validation;
2. :func:`predict_new_images`   the 12 photos that are not in the dataset, through ``helpers.predict``'s path;
3. :func:`train_transfer`       MobileNetV2 (ImageNet) frozen features + a head, then its top fine-tuned;
   :func:`classical_baseline`   the classical answer (logistic regression / random forest) to compare with.

``python -m helpers.gear`` runs them all in order; the notebook loads what they saved. Data: ``$GEAR_IMAGES_DIR``, ``data/gear_images/``, ``../shared/datasets/gear_images/``,
else (machines with internet, e.g. Colab) the public source is downloaded into ``data/gear_images/``.

Preprocessing, as the retailer's earlier pipeline did it: every photo is **padded to a square on
white** (product photos sit on white; padding keeps the item's proportions, stretching would not),
then resized: 128x128 for our CNN, the backbone's 224x224 for transfer learning.
"""

from helpers.inputs.gear_photos import (  # noqa: F401
    CLASS_NAMES,
    CNN_SIZE,
    FOLDER,
    NAME,
    SOURCE_FOLDER,
    TL_SIZE,
    dataset_dir,
    download,
    ensure_manifest,
    load_splits,
    new_images,
    new_images_dir,
    prepare_image,
)
from helpers.studies.gear.baseline import (  # noqa: F401
    SCORES,
    baseline_features,
    classical_baseline,
    scores,
)
from helpers.core.settings import settings_of
from helpers.studies.gear import config
from helpers.studies.gear.data_summary import dataset_summary, duplicate_groups, split_counts  # noqa: F401
from helpers.studies.gear.new_photos import predict_new_images  # noqa: F401
from helpers.studies.gear.own_cnn import (  # noqa: F401
    class_weights,
    cnn_design_table,
    overfitting_summary,
    train_own_cnn,
)
from helpers.studies.gear.inference_speeds import load_inference_speeds, record_inference_speeds  # noqa: F401
from helpers.studies.gear.transfer_models import train_transfer  # noqa: F401

__getattr__ = settings_of(config)  # the study's settings, read from config at access time
