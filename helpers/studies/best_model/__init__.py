"""The best-model study (notebook 05): every experiment, its record, and the experiment log.

Command line: ``python -m helpers.best_model`` (list, train, tta, log).

Modules: ``config`` (files and targets), ``experiments`` (the recipe and every experiment), ``tta`` (test-time
augmentation), ``costs`` (training and inference cost), ``selection`` (the log, ensembles and the deployment rule),
``teacher`` and ``round_two`` (round two: the teacher, the distilled students, their comparisons), ``learning_curve``
(round two's refit question, answered on validation), ``kd_settings`` (its distillation settings checked on
validation), both made of ``proxy`` runs (a recipe on a subset of the training split).

Each experiment is one entry of :data:`EXPERIMENTS`: the idea it tests, the architecture, its
hyperparameters and the training recipe. Training runs the project's protocol (``trainer.fit``): a
selection run on the training split with the validation split watching; the test split is scored once and
recorded. ``trainer.fit`` can also refit on training + validation images for the chosen number of epochs, but no
experiment here does (``refit=False`` throughout: a fixed cosine budget has no epoch count to choose, and a model
that never saw the validation split can have its temperature and ensemble partners chosen there). Round two
(``experiments.ROUND_TWO``, ``round_two``) distils the teacher (``teacher``) into students. Runs resume from ``data/checkpoints/<name>`` after an interruption. Training works
on any Keras backend (on a GPU machine without TensorFlow: ``KERAS_BACKEND=jax``); the saved
``.weights.h5`` files load everywhere.

Every saved experiment is one row of ``results/best_model/experiments.csv`` (name, idea, parameters,
epochs, where it was trained and in how many seconds, its cost on the team's 2-core CPU (measured, or
estimated by ``benchmarks/training_cost.py`` for runs on a lent GPU), validation accuracy and loss,
inference images/s from ``benchmarks/results/inference_speed.json``).
"""

from helpers.core.settings import settings_of
from helpers.studies.best_model import config, kd_settings, learning_curve, proxy, round_two  # noqa: F401
from helpers.studies.best_model.calibrated import calibrated_test  # noqa: F401
from helpers.studies.best_model.training_costs import (  # noqa: F401
    cpu_training_cost,
    cpu_training_seconds,
    inference_speeds,
    retraining_estimate,
    trained_on,
)
from helpers.studies.best_model.experiments import (  # noqa: F401
    EPOCHS,
    EXPERIMENTS,
    ROUND_TWO,
    RECIPE,
    VGG_BN,
    Experiment,
    get,
    recipe_table,
    train,
)
from helpers.studies.best_model.selection import (  # noqa: F401
    candidate_table,
    deployment_choice,
    ensemble_candidates,
    experiment_log,
    export_summary,
    write_log,
)
from helpers.studies.best_model.tta import (  # noqa: F401
    TTA_VIEWS,
    save_tta_outputs,
    selection_outputs,
    shift_images,
    tta_outputs,
    tta_summary,
    tta_table,
)

__getattr__ = settings_of(config)  # the study's settings, read from config at access time
