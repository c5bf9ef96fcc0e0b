"""Notebook 06's decisions on tiny synthetic data: launch status, test report, rejection candidates, simulated users."""

import numpy as np
import pandas as pd
import pytest

from helpers.serving import offer_decisions
from helpers.studies import launch, rejection
from helpers.studies import user_simulation as us

NAMES = ["Top", "Shirt", "Shoe", "Bag"]


def _points(coverage: dict, threshold=0.5):
    return pd.DataFrame({"threshold": {c: (None if v is None else threshold) for c, v in coverage.items()},
                         "val precision": {c: 0.95 for c in coverage},
                         "val coverage": {c: (0.0 if v is None else v) for c, v in coverage.items()}})


def test_status_is_decided_from_validation_with_a_noise_margin():
    points = _points({"Top": 0.5, "Shirt": 0.6, "Shoe": 0.95, "Bag": 0.79})
    counts = dict.fromkeys(NAMES, 500)
    status = launch.category_status(points, counts, NAMES, {"Top": 0.9, "Shirt": 0.8}, tops=("Top", "Shirt"))
    assert list(status["status"]) == ["merge into tops", "merge into tops", "launch", "launch"]
    assert status.loc["Shoe", "light"] == "green" and status.loc["Bag", "light"] == "amber"  # 0.79 is within noise
    assert status.loc["Bag", "margin"] == pytest.approx(1.96 * np.sqrt(0.79 * 0.21 / 500))
    far = launch.category_status(_points({"Top": 0.5, "Shirt": 0.6, "Shoe": 0.5, "Bag": None}), counts, NAMES,
                                 {"Top": 0.9, "Shirt": 0.8}, tops=("Top", "Shirt"))
    assert list(far.loc[["Shoe", "Bag"], "status"]) == ["hold", "hold"] and set(far.loc[["Shoe", "Bag"], "light"]) == {"red"}
    assert "not reached" in far.loc["Bag", "reason"]


def test_test_report_measures_each_offer_and_the_merged_group_once():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 4000)
    pred = np.where(rng.random(4000) < 0.9, y, rng.integers(0, 4, 4000))
    p = np.full((4000, 4), 0.02)
    p[np.arange(4000), pred] = 0.94
    table = launch.test_report(y, p, [0.5] * 4, NAMES, {"Shoe": ["Shoe"], "tops": ["Top", "Shirt"]}, n_boot=200)
    sel = pred == 2
    assert table.loc["Shoe", "test precision"] == pytest.approx((y[sel] == 2).mean())
    assert (table["low"] <= table["test precision"]).all() and (table["test precision"] <= table["high"]).all()
    tops = np.isin(pred, [0, 1])
    assert table.loc["tops", "test precision"] == pytest.approx(np.isin(y[tops], [0, 1]).mean())
    assert launch.group_precision(y, p, [0.5] * 4, NAMES, ["Top", "Shirt"]) == pytest.approx(np.isin(y[tops], [0, 1]).mean())
    assert not launch.labelled(p, [None, 0.99, 0.5, 0.5])[pred < 2].any()   # no threshold, or one not reached
    assert launch.in_group_errors(np.array([0, 0, 1]), np.array([1, 2, 1]), NAMES, ("Top", "Shirt"))["Top"] == 0.5
    assert launch.pilot_offers(0.05, 0.02) == 457 and launch.pilot_offers(0.01, 0.02) == 457


def test_the_simulation_decides_exactly_as_the_pipeline():
    rules = {"offers": {"Top": "tops", "Shirt": "tops", "Shoe": "Shoe", "Bag": None}, "min_images": {"tops": 2, "Shoe": 3}}
    names, of, offered = us.group_index(NAMES, rules["offers"])
    assert names == ["tops", "Shoe", "Bag"] and list(of) == [0, 0, 1, 2] and list(offered) == [True, True, False]
    counted = np.random.default_rng(1).integers(0, 4, (300, 3))
    need = np.array([2, 3, np.inf])
    got = us.decide(counted, need)
    for row, g in zip(counted, got):
        expected = offer_decisions.user_offer(20, 0, 0, {n: int(c) for n, c in zip(names, row) if c}, rules)["offer"]
        assert (names[g] if g >= 0 else None) == expected


def test_a_perfect_model_makes_no_model_errors_and_more_images_help_the_favourite():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 50)
    pools = {"label": y, "counts": np.ones(200, bool), "true": y, "nf_label": np.zeros(10, int),
             "nf_counts": np.zeros(10, bool)}
    offers_map = {"Top": "tops", "Shirt": "tops", "Shoe": "Shoe", "Bag": "Bag"}
    names, _, offered = us.group_index(NAMES, offers_map)
    weights = us.look_alike_weights(rng.integers(0, 20, (4, 4)))
    assert np.allclose(weights.sum(1), 1) and np.allclose(np.diag(weights), 0)
    sims = us.simulate(pools, NAMES, offers_map, weights, shares=(0.7,), ks=(3, 10), users=200)
    table = us.summary(sims, names, offered, dict.fromkeys(names, 1))
    assert (table["model errors per 1,000 offers"] == 0).all()
    one = us.summary(sims, names, offered, dict.fromkeys(names, 1))["not favourite per 1,000 offers"].max()
    five = us.summary(sims, names, offered, dict.fromkeys(names, 5))["not favourite per 1,000 offers"].max()
    assert five < one
    need = us.choose_min_images(sims, names, offered, limit=0.05, share=0.7)
    assert set(need.index) == set(names) and need.between(1, 10).all()
    with pytest.raises(ValueError, match="unknown mix"):
        us.draw_categories(np.zeros(3, int), 2, 0.5, "nope", weights, rng)


def test_rejection_candidates_choose_on_the_fitting_part():
    rng = np.random.default_rng(0)
    n_cls, dim = 3, 6

    def outputs(centre, n):
        f = rng.normal(0, 1, (n, dim)) + centre
        return f[:, :n_cls] * 2, f

    means = np.eye(n_cls, dim) * 4
    train = tuple(np.concatenate(z) for z in zip(*(outputs(means[c], 100) for c in range(n_cls))))
    y_train = np.repeat(np.arange(n_cls), 100)
    val = tuple(np.concatenate(z) for z in zip(*(outputs(means[c], 60) for c in range(n_cls))))
    garments, junk = outputs(means[0], 60), outputs(np.full(dim, -4.0), 60)
    photos = tuple(np.r_[a, b] for a, b in zip(garments, junk))
    is_fashion = np.r_[np.ones(60, bool), np.zeros(60, bool)]
    fit_part = np.tile([True, False], 60)
    from helpers.evaluation import out_of_domain as ood

    maha = ood.mahalanobis_fit(train[1], y_train, n_cls)
    cands = rejection.candidates(val, train, photos, val[0].argmax(1), photos[0].argmax(1), fit_part, is_fashion, maha)
    table = rejection.compare(cands, fit_part, is_fashion)
    assert table["meets goals"].any()
    chosen = rejection.choose(table)
    assert table.loc[chosen, "meets goals"] and table.loc[chosen, "balanced"] == table[table["meets goals"]]["balanced"].max()
    kind, fit, threshold = cands[chosen]["make"]()
    rule = ood.fit_rule(kind, None, threshold=threshold)
    keep = ood.in_domain(rule, ood.all_scores(*photos, fit)[kind], labels=photos[0].argmax(1))
    assert keep[~fit_part & is_fashion].mean() >= 0.9 and (~keep[~fit_part & ~is_fashion]).mean() >= 0.9
    groups = rejection.kept_by_group(keep, np.where(is_fashion, "garment", "junk"))
    assert (groups["kept low"] <= groups["kept"]).all() and groups["images"].sum() == len(keep)
    junk_labels = rejection.where_junk_lands(np.array(["Bag"] * 120), np.ones(120, bool), is_fashion)
    assert junk_labels["Bag"] == 60
    # no candidate meets the goals: the best balance among all of them
    assert rejection.choose(table.assign(**{"meets goals": False})) == table["balanced"].idxmax()


def test_a_per_class_rule_needs_the_labels():
    from helpers.evaluation import out_of_domain as ood

    rule = ood.fit_rule("energy", None, threshold=[0.0, 1.0])
    assert rule["threshold"] == [0.0, 1.0]
    assert list(ood.in_domain(rule, np.array([0.5, 0.5]), labels=[0, 1])) == [False, True]
    with pytest.raises(ValueError, match="predicted labels"):
        ood.in_domain(rule, np.array([0.5]))
