import numpy as np

from helpers.inputs.splits import split_arrays, validation_split


def test_validation_split_is_stratified_disjoint_and_seeded():
    y = np.repeat(np.arange(10), 60)
    tr, va = validation_split(y)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(y)
    assert np.all(np.bincount(y[va]) == 10)  # 1/6 of each class
    tr2, va2 = validation_split(y)
    assert np.array_equal(va, va2)
    _, va3 = validation_split(y, seed=7)
    assert not np.array_equal(va, va3)


def test_split_arrays_keeps_pairs_together():
    y = np.repeat(np.arange(3), 30)
    x = y * 100
    (xt, yt), (xv, yv) = split_arrays(x, y, val_fraction=0.2)
    assert np.array_equal(xt, yt * 100) and np.array_equal(xv, yv * 100) and len(yv) == 18
