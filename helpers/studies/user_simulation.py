"""Notebook 06's simulated users: how many confident images a user needs before an offer is safe.

A **simulated** user has a favourite category and ``k`` uploads; each upload is of the favourite with probability
``share``, otherwise drawn from a **mix** (:data:`MIXES`):

- ``uniform``: any other fashion category, equally likely;
- ``look-alikes``: the categories the model confuses with the favourite, in proportion to how often it does
  (validation confusions), so the errors that matter are the ones drawn;
- ``with non-fashion``: half the other uploads are non-fashion photos (gear: ropes, tents, ...), half uniform.

Each upload is an image from a pool (validation images to choose, test images to report; non-fashion photos from
the gear photos' fitting part to choose, from the report part to report) with the model's label, calibrated
confidence and the rejection rule's verdict. It **counts** when kept and confident (its category's threshold), as
in the offers pipeline; the user's offer follows the pipeline's rule (:mod:`helpers.serving.offer_decisions`): the offer
group with the most counted images, no offer on a tie or for a held category, and at least ``m`` counted images.

Two ways an offer can miss, kept apart: it is **not the favourite** when it names another group than the user's
favourite (this includes users whose own uploads favour something else by chance: the simulation's assumptions
weigh in), and it is a **model error** when it names a group the user did not really upload most (their true
labels; a tie counts any of the tied groups): that part is the model's and the rules' alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

MIXES = ("uniform", "look-alikes", "with non-fashion")
SHARES = (0.5, 0.7, 0.9)
#: The share the minimum images are chosen at (the middle case); the others are reported beside it.
CHOICE_SHARE = 0.7
IMAGES_PER_USER = (3, 5, 10, 20)
MIN_IMAGES = tuple(range(1, 11))
#: At most this share of an offer's users may not have it as their favourite (every mix, at :data:`CHOICE_SHARE`,
#: validation).
WRONG_LIMIT = 0.05
USERS = 500  # per favourite category, images per user, mix and share
SEED = 0
NON_FASHION = -1


def look_alike_weights(confusion) -> np.ndarray:
    """``(C, C)``: for each favourite (row), how likely each other category is drawn in the look-alikes mix: the
    confusions between the two in both directions, normalised (the diagonal is zero)."""
    c = np.asarray(confusion, dtype=np.float64)
    w = c + c.T
    np.fill_diagonal(w, 0)
    w += 1e-9 * (1 - np.eye(len(w)))  # a category confused with nothing still draws others, equally
    return w / w.sum(axis=1, keepdims=True)


def draw_categories(fav, k: int, share: float, mix: str, weights, rng) -> np.ndarray:
    """``(N, k)`` true categories of users with favourites ``fav`` (``-1``: a non-fashion photo)."""
    n_cls = len(weights)
    fav = np.asarray(fav)
    if mix == "look-alikes":
        cum = np.cumsum(weights[fav], axis=1)
        other = (rng.random((len(fav), k, 1)) < cum[:, None, :]).argmax(axis=2)
    else:
        other = (fav[:, None] + rng.integers(1, n_cls, (len(fav), k))) % n_cls  # uniform over the others
        if mix == "with non-fashion":
            other = np.where(rng.random((len(fav), k)) < 0.5, NON_FASHION, other)
        elif mix != "uniform":
            raise ValueError(f"unknown mix {mix!r}; known: {', '.join(MIXES)}")
    return np.where(rng.random((len(fav), k)) < share, fav[:, None], other)


def group_index(class_names, offers: dict) -> tuple[list, np.ndarray, np.ndarray]:
    """The offer groups (an offer name, or a held category's own name), each category's group, and which groups
    are offered."""
    names = list(dict.fromkeys(offers.get(c) or c for c in class_names))
    of = np.array([names.index(offers.get(c) or c) for c in class_names])
    offered = np.array([any(offers.get(c) == g for c in class_names) for g in names])
    return names, of, offered


def decide(counted, min_images) -> np.ndarray:
    """The pipeline's per-user rule on ``counted`` ``(N, G)`` counted images per group, ``min_images`` ``(G,)``
    (``inf`` for a held group): the offered group's index, or ``-1`` (none, a tie, too few, held)."""
    top = counted.max(axis=1)
    winner = counted.argmax(axis=1)
    tie = (counted == top[:, None]).sum(axis=1) > 1
    ok = (top > 0) & ~tie & (top >= np.asarray(min_images, dtype=np.float64)[winner])
    return np.where(ok, winner, -1)


def simulate(pools: dict, class_names, offers: dict, weights, shares=SHARES, mixes=MIXES, ks=IMAGES_PER_USER,
             users: int = USERS, seed: int = SEED):
    """Every simulated user's counted images per group and true most-uploaded groups.

    ``pools``: ``{"label", "counts", "true"}`` arrays of the fashion images (predicted class, whether it counts,
    true class) and ``{"nf_label", "nf_counts"}`` of the non-fashion photos. Returns a list of dicts (share, mix,
    k, favourite group, counted ``(N, G)``, true-top mask ``(N, G)``)."""
    names, of, _ = group_index(class_names, offers)
    rng = np.random.default_rng(seed)
    by_class = [np.where(pools["true"] == c)[0] for c in range(len(class_names))]
    out = []
    for share in shares:
        for mix in mixes:
            for k in ks:
                fav = np.repeat(np.arange(len(class_names)), users)
                cats = draw_categories(fav, k, share, mix, weights, rng)
                counted = np.zeros((len(fav), len(names)))
                truth = np.zeros((len(fav), len(names)))
                for c in range(len(class_names)):
                    m = cats == c
                    pick = by_class[c][rng.integers(0, len(by_class[c]), m.sum())]
                    rows = np.nonzero(m)[0]
                    np.add.at(counted, (rows[pools["counts"][pick]], of[pools["label"][pick][pools["counts"][pick]]]),
                              1)
                    np.add.at(truth, (rows, of[c]), 1)
                nf = cats == NON_FASHION
                if nf.any():
                    pick = rng.integers(0, len(pools["nf_label"]), nf.sum())
                    rows, keep = np.nonzero(nf)[0], pools["nf_counts"][pick]
                    np.add.at(counted, (rows[keep], of[pools["nf_label"][pick][keep]]), 1)
                true_top = (truth == truth.max(axis=1, keepdims=True)) & (truth > 0)
                out.append({"share": share, "mix": mix, "k": k, "fav": of[fav], "counted": counted,
                            "true_top": true_top})
    return out


def outcomes(sims, n_groups: int, offered, min_images) -> "pd.DataFrame":
    """Per simulated setting (share, mix, images per user) and offer group: users, offers made, offers that are
    not the user's favourite and model errors, with ``min_images`` (one number for all groups, or ``(G,)``)."""
    import pandas as pd

    need = np.where(offered, np.broadcast_to(np.asarray(min_images, dtype=np.float64), (n_groups,)), np.inf)
    rows = []
    for s in sims:
        got = decide(s["counted"], need)
        made = got >= 0
        true_top = np.zeros(len(got), bool)
        true_top[made] = s["true_top"][np.nonzero(made)[0], got[made]]
        for g in np.nonzero(offered)[0]:
            mine = got == g
            rows.append({"share": s["share"], "mix": s["mix"], "k": s["k"], "group": int(g), "users": len(got),
                         "offers": int(mine.sum()), "not favourite": int((mine & (s["fav"] != g)).sum()),
                         "model errors": int((mine & ~true_top).sum())})
    return pd.DataFrame(rows)


def choose_min_images(sims, names, offered, limit: float = WRONG_LIMIT, share: float = CHOICE_SHARE,
                      candidates=MIN_IMAGES) -> "pd.Series":
    """Per offered group: the fewest counted images with which, in every mix at ``share`` (all images-per-user
    counts pooled), at most ``limit`` of the group's offers are not the user's favourite (the largest candidate
    when none is)."""
    import pandas as pd

    chosen = {}
    at_share = [s for s in sims if s["share"] == share]
    for m in candidates:
        o = outcomes(at_share, len(names), offered, m)
        worst = o.groupby(["group", "mix"])[["offers", "not favourite"]].sum()
        rate = (worst["not favourite"] / worst["offers"].where(worst["offers"] > 0)).groupby("group").max()
        for g, r in rate.items():
            if names[g] not in chosen and r <= limit:
                chosen[names[g]] = m
    return pd.Series({names[g]: chosen.get(names[g], candidates[-1]) for g in np.nonzero(offered)[0]},
                     name="confident images needed")


def _rates(t):
    for col in ("not favourite", "model errors"):
        t[f"{col} per 1,000 offers"] = 1000 * t[col] / t["offers"].where(t["offers"] > 0)
    return t


def summary(sims, names, offered, min_images: dict) -> "pd.DataFrame":
    """Per share and mix, with the chosen minimum images: offers per 1,000 users, offers that are not the
    favourite and model errors per 1,000 offers (all images-per-user counts pooled)."""
    need = np.array([min_images.get(n, np.inf) for n in names], dtype=np.float64)
    o = outcomes(sims, len(names), offered, need)
    users = o.groupby(["share", "mix", "k"])["users"].first().groupby(["share", "mix"]).sum()
    t = _rates(o.groupby(["share", "mix"])[["offers", "not favourite", "model errors"]].sum())
    t["offers per 1,000 users"] = 1000 * t["offers"] / users
    return t[["offers per 1,000 users", "not favourite per 1,000 offers", "model errors per 1,000 offers"]]


def per_group(sims, names, offered, min_images: dict, share: float = CHOICE_SHARE) -> "pd.DataFrame":
    """Per offer group at ``share``, every mix and images-per-user count pooled: offers, offers that are not the
    favourite and model errors, and both per 1,000 offers."""
    need = np.array([min_images.get(n, np.inf) for n in names], dtype=np.float64)
    o = outcomes([s for s in sims if s["share"] == share], len(names), offered, need)
    t = _rates(o.groupby("group")[["offers", "not favourite", "model errors"]].sum())
    t.index = [names[g] for g in t.index]
    return t
