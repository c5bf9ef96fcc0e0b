"""The validation split: stratified and seeded, carved out of the *training* set.

The test set is never used for early stopping, checkpoint selection or model choice: it is
evaluated once per final model. Model choice uses the validation split only.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

SEED = 42
VAL_FRACTION = 1 / 6   # 10,000 of Fashion-MNIST's 60,000 training images: as large as the test set


def validation_split(n_or_labels, val_fraction: float = VAL_FRACTION, seed: int = SEED):
    """Indices ``(train_idx, val_idx)``, stratified by label, sorted, reproducible."""
    labels = np.asarray(n_or_labels)
    idx = np.arange(len(labels))
    tr, va = train_test_split(idx, test_size=val_fraction, stratify=labels, random_state=seed)
    return np.sort(tr), np.sort(va)


def split_arrays(x, y, val_fraction: float = VAL_FRACTION, seed: int = SEED):
    """``(x_train, y_train), (x_val, y_val)`` from a training set."""
    tr, va = validation_split(y, val_fraction, seed)
    return (x[tr], y[tr]), (x[va], y[va])
