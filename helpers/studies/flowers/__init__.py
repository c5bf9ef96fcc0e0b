"""Companion study 1: a flower classifier by transfer learning from MobileNetV2 (notebook 08).

The brief's tasks, one function each (``python -m helpers.flowers task_7`` repeats task 7):

1. :func:`task_1`  load the flower photos (``../shared/datasets/flower_photos``, else TensorFlow's archive);
2. :func:`task_2`  MobileNetV2 with ImageNet weights;
3. :func:`task_3`  its last layer replaced by a Dense layer for the 5 classes;
4. :func:`task_4`  stratified, seeded train/validation/test split (a versioned manifest) for standard training;
5. :func:`task_5`  SGD, learning rate 0.01, no momentum, trained the *standard* way (every image through the
                   frozen backbone every epoch);
6. :func:`task_6`  loss against epochs and seconds, accuracy, precision and recall of task 5's run;
7. :func:`task_7`  three learning rates of different orders of magnitude;
8. :func:`task_8`  the best of them with three non-zero momenta;
9. :func:`task_9`  the accelerated datasets {(F(x_i), t_i)}: frozen-backbone outputs, computed once;
10. :func:`task_10` task 8 repeated on the accelerated datasets (several seeds: cheap there);

then, from validation results, :func:`recommend` (learning rate, momentum, epochs), :func:`size_check` (the input
side), :func:`train_recommended` (saved, scored once on test: the brief's answer) and, beyond the brief,
:func:`fine_tune`, :func:`depth_study` and :func:`fine_tune_deeper` (added after the first two models' test scores fell
short of the brief's target: see :data:`SCORED_BEFORE_DEPTH_STUDY`), :func:`second_round` (one depth deeper, added
after the deeper model's test score fell short of the review's goal: :data:`SCORED_BEFORE_SECOND_ROUND`),
:func:`epoch_probe` (the chosen depth for twice the epochs, one seed: where its validation optimum lies),
:func:`ranges.edge_checks <helpers.studies.flowers.ranges.edge_checks>` (the head-only ranges that stopped at their
edge, run longer with every seed), :func:`whole.probe <helpers.studies.flowers.whole.probe>` (every backbone layer
trained with random augmentation, one seed: does the depth range open at the whole backbone?), and
:func:`test_predictions` (every saved model's test predictions, for :func:`test_evidence`).

Modules: :mod:`~helpers.studies.flowers.config` (settings), :mod:`~helpers.studies.flowers.runs` (one SGD run and
the run store), :mod:`~helpers.studies.flowers.brief_tasks` (the brief's tasks), :mod:`~helpers.studies.flowers.final_models`
(the saved models), :mod:`~helpers.studies.flowers.probe` (the epoch and depth probes), :mod:`~helpers.studies.flowers.whole` (the
whole-backbone probe), :mod:`~helpers.studies.flowers.ranges` (the edge checks), :mod:`~helpers.studies.flowers.wording` (the number format), :mod:`~helpers.studies.flowers.evidence` (test intervals, McNemar's test on the saved models'
test predictions, verdicts that need several seeds) and :mod:`~helpers.studies.flowers.story` (what the notebook and
the report say: speed-ups, ties, ranges left open, and what was decided after a test score was seen). The photos
themselves: :mod:`helpers.inputs.flower_photos`. This package exposes the study's public names in one place, as the notebook
reads them (``flowers.task_7()``, ``flowers.RECOMMENDED``).
"""

from helpers.inputs.flower_photos import (  # noqa: F401
    FOLDER,
    dataset_dir,
    download,
    ensure_manifest,
    load_splits,
    prepare_image,
)
from helpers.core.settings import settings_of
from helpers.studies.flowers import config, evidence, probe, ranges, story, whole  # noqa: F401
from helpers.studies.flowers.evidence import (  # noqa: F401
    accuracy_interval,
    compare_seeds,
    load_predictions,
    test_evidence,
    test_predictions,
)
from helpers.studies.flowers.final_models import (  # noqa: F401
    deep_choice,
    deployed_choice,
    depth_study,
    final_image_size,
    fine_tune,
    fine_tune_deeper,
    fine_tuning_verdict,
    recommend,
    second_round,
    second_round_summary,
    size_check,
    train_recommended,
)
from helpers.studies.flowers.probe import depth_probe, epoch_probe  # noqa: F401
from helpers.studies.flowers.ranges import edge_checks  # noqa: F401
from helpers.studies.flowers.runs import (  # noqa: F401
    build_model,
    features,
    head_hparams,
    load_runs,
    mirrored,
    run,
    run_key,
    summary,
    tail_cut,
    val_report,
)
from helpers.studies.flowers.brief_tasks import (  # noqa: F401
    TASKS,
    best_by_validation,
    task_1,
    task_2,
    task_3,
    task_4,
    task_5,
    task_6,
    task_7,
    task_8,
    task_9,
    task_10,
)

__getattr__ = settings_of(config)  # the study's settings, read from config at access time
