"""The flower brief's tasks as one script: uncomment the calls you want, one by one, and run

    .venv/bin/python scripts/flowers_tasks.py

Each call repeats one task of the brief (its runs are retrained and saved to results/flowers/; the saved weights
under weights/ are replaced only by the calls that train a final model). The same tasks run from the command line
with ``python -m helpers.flowers task_N``; notebook 08 reads what they saved.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.core.repro import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from helpers.studies.flowers import (  # noqa: E402, F401
    FIRST_ROUND_TAILS, SEEDS, TAILS, deep_choice, depth_probe, depth_study, edge_checks, epoch_probe, fine_tune, fine_tune_deeper, recommend,
    second_round, size_check, task_1, task_2, task_3, task_4, task_5, task_6, task_7, task_8, task_9, task_10,
    test_predictions, train_recommended,
)

# task_1()                        # load the flower dataset
# task_2()                        # MobileNetV2 with ImageNet weights
# task_3()                        # last layer replaced by Dense(5)
# task_4()                        # train / validation / test split for standard training
# task_5(retrain=True)            # standard training, SGD lr 0.01, momentum 0, nesterov False
# task_6()                        # loss against epochs and seconds, accuracy, precision and recall
# task_7(retrain=True)            # three learning rates of different orders of magnitude
# task_8(retrain=True)            # the best learning rate with three momenta
# task_9()                        # the accelerated datasets {(F(x_i), t_i)}
# task_10(retrain=True)           # task 8 (and 7) repeated on the accelerated datasets, 3 seeds each
# recommend()                     # learning rate, momentum and epochs from task 10's validation results
# size_check(retrain=True)        # the recommended settings at 160 and 224 px, on validation
# train_recommended(retrain=True) # the recommended settings, trained, saved and scored once on test
# fine_tune(retrain=True)         # beyond the brief: the last two backbone layers fine-tuned
# depth_study(tails=FIRST_ROUND_TAILS, retrain=True)  # beyond the brief: deeper tails of the backbone, 3 seeds each
# fine_tune_deeper(retrain=True, choice=deep_choice(depth_study(tails=FIRST_ROUND_TAILS)))  # the first round's depth, trained, saved, scored once on test
# depth_study(tails=TAILS[len(FIRST_ROUND_TAILS):], retrain=True, mirror_check=False)  # the second round: one start deeper
# second_round(retrain_model=True)  # every depth chosen again on validation; the new choice trained, saved, scored once
# epoch_probe(retrain=True)         # the chosen depth for twice the epochs, one seed: where its optimum lies
# edge_checks(retrain=True)         # the head-only ranges that stopped at their edge, run longer with every seed
# depth_probe(seeds=SEEDS, retrain=True)  # one starting point deeper than the depth study's (block_6_expand)
# test_predictions(recompute=True)  # the saved models' test predictions, for the intervals and McNemar tests
