"""The best-model study's files and targets (the modules read these at call time, so a test can move them)."""

from __future__ import annotations

from helpers.core import paths

RESULTS_DIR = paths.REPO_ROOT / "results" / "best_model"
EXPERIMENTS_CSV = RESULTS_DIR / "experiments.csv"
#: Notebook 05's results for the management report (its final choice, test-time augmentation, calibration).
SUMMARY_JSON = RESULTS_DIR / "summary.json"
INFERENCE_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "inference_speed.json"
TRAINING_COST_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "training_cost.json"
#: Round two's students retrained for a few epochs on an idle CPU (``benchmarks/student_cost.py``).
STUDENT_COST_JSON = paths.REPO_ROOT / "benchmarks" / "results" / "student_cost.json"
SELECTION_DIR = RESULTS_DIR / "selection_outputs"
TTA_DIR = RESULTS_DIR / "tta_outputs"
TTA_DEPLOYABLE = 5

TEST_TARGET = 0.950
BUDGET_SECONDS = 3 * 3600
#: The deployment bar of the brief, and how much accuracy a faster model may give up.
SPEED_TARGET = 1000.0
ACCURACY_TOLERANCE = 0.003

#: Round two's teacher: its saved name and where its outputs on every split are kept (log-probabilities, float16).
TEACHER = "fashion_teacher"
TEACHER_OUTPUTS = RESULTS_DIR / "teacher_outputs.npz"
#: Round two's target for the deployed model's test accuracy (scored once), and its stretch.
ROUND_TWO_TARGET = 0.955
ROUND_TWO_STRETCH = 0.960
#: Round two's refit question (``learning_curve``): the student's recipe on these subsets of the 50,000 training
#: images, and the rule fixed before the runs.
LEARNING_CURVE_SIZES = (12_500, 25_000)
LEARNING_CURVE_JSON = RESULTS_DIR / "learning_curve.json"
REFIT_RULE = ("refit on all 60,000 images only when the learning curve predicts a validation gain at least as large "
              "as round one's seed spread at the same budget (the smallest effect one run can show), by the fit "
              "through every size and by the local slope of the two largest")
#: Round two's distillation settings checked on validation (``kd_settings``): the width-32 student on a stratified
#: half of the training split for half the epochs (about 9 CPU minutes a run), one setting changed at a time around
#: the one in use (temperature 2, alpha 0.7).
KD_PROXY = {"train_size": 25_000, "epochs": 14}
KD_GRID = ({"temperature": 2.0, "alpha": 0.7}, {"temperature": 1.0, "alpha": 0.7}, {"temperature": 4.0, "alpha": 0.7},
           {"temperature": 2.0, "alpha": 0.3}, {"temperature": 2.0, "alpha": 0.9})
KD_SETTINGS_JSON = RESULTS_DIR / "kd_settings.json"
