"""Analyses behind notebook 01 (data understanding): balance, class statistics, similar classes,
and duplicates between the training and test sets."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def class_balance(labels_by_split: dict, class_names) -> pd.DataFrame:
    """Images per class and split, with each split's share."""
    df = pd.DataFrame({split: np.bincount(y, minlength=len(class_names)) for split, y in labels_by_split.items()},
                      index=pd.Index(class_names, name="class"))
    df.loc["total"] = df.sum()
    return df


def class_statistics(x, y, class_names) -> pd.DataFrame:
    """Per class: mean brightness, share of background (zero) pixels, and the item's area."""
    x = x.reshape(len(x), -1).astype(np.float32)
    rows = []
    for c, name in enumerate(class_names):
        xc = x[y == c]
        rows.append({"class": name, "mean intensity": xc.mean(), "std intensity": xc.std(),
                     "background pixels %": 100 * (xc == 0).mean(),
                     "mean item area (px > 25)": (xc > 25).sum(axis=1).mean()})
    return pd.DataFrame(rows).set_index("class").round(1)


def mean_and_std_images(x, y, n_classes):
    x = x.astype(np.float32)
    return (np.stack([x[y == c].mean(axis=0) for c in range(n_classes)]),
            np.stack([x[y == c].std(axis=0) for c in range(n_classes)]))


def most_similar_classes(mean_images, class_names, top: int = 5) -> pd.DataFrame:
    """Pairs of classes whose mean images are closest (root-mean-square pixel difference)."""
    m = mean_images.reshape(len(mean_images), -1)
    rows = []
    for i in range(len(m)):
        for j in range(i + 1, len(m)):
            rows.append({"class A": class_names[i], "class B": class_names[j],
                         "RMS difference of mean images": float(np.sqrt(np.mean((m[i] - m[j]) ** 2)))})
    return pd.DataFrame(rows).sort_values("RMS difference of mean images").head(top).round(1).reset_index(drop=True)


def exact_duplicates(x_a, x_b):
    """Index pairs ``(i, j)`` with ``x_a[i]`` byte-identical to ``x_b[j]``."""
    hashes = {}
    for i, img in enumerate(x_a):
        hashes.setdefault(hashlib.sha1(img.tobytes()).digest(), []).append(i)
    return [(i, j) for j, img in enumerate(x_b) for i in hashes.get(hashlib.sha1(img.tobytes()).digest(), [])]


def nearest_train_neighbours(x_train, x_test, n_components: int = 50, seed: int = 0):
    """For every test image, its nearest training image (found in PCA space, then measured in pixels).

    Returns ``(train_index, mean_abs_pixel_difference)`` arrays of length ``len(x_test)``.
    """
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    a = x_train.reshape(len(x_train), -1).astype(np.float32)
    b = x_test.reshape(len(x_test), -1).astype(np.float32)
    pca = PCA(n_components=n_components, random_state=seed).fit(a)
    nn = NearestNeighbors(n_neighbors=1).fit(pca.transform(a))
    _, idx = nn.kneighbors(pca.transform(b))
    idx = idx[:, 0]
    diff = np.abs(a[idx] - b).mean(axis=1)
    return idx, diff
