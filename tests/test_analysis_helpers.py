import numpy as np
import pytest

from helpers.evaluation.metrics import as_class_probabilities, classification_metrics
from helpers.inputs.fashion_mnist import CLASS_NAMES
from helpers.reports import tables
from helpers.studies import binary
from helpers.studies import data_understanding as du


def test_binarise_by_argmax_and_by_summed_probability():
    p = np.zeros((3, 10))
    p[0, CLASS_NAMES.index("Dress")] = 1.0                                     # clothing
    p[1, CLASS_NAMES.index("Bag")] = 1.0                                       # footwear & bags
    p[2, [CLASS_NAMES.index("Shirt"), CLASS_NAMES.index("Sandal"), CLASS_NAMES.index("Sneaker")]] = [0.4, 0.3, 0.3]
    assert binary.binarise_argmax(p).tolist() == [0, 1, 0]                     # arg-max: Shirt
    assert binary.binarise_summed(p).tolist() == [0, 1, 1]                     # summed: 0.6 footwear
    np.testing.assert_allclose(binary.footwear_probability(p), [0, 1, 0.6])


def test_mcnemar_counts_discordant_pairs():
    y = np.zeros(100, int)
    a = y.copy()
    b = y.copy()
    a[:20] = 1          # A wrong on 20
    b[10:15] = 1        # B wrong on 5 of those
    res = binary.mcnemar(y, a, b)
    assert (res["both right"], res["only A right"], res["only B right"], res["both wrong"]) == (80, 0, 15, 5)
    assert res["p-value"] < 0.001
    assert binary.mcnemar(y, a, a)["p-value"] == 1.0


def test_binary_scores_and_metrics():
    y = np.array([0, 0, 0, 1, 1])
    pred = np.array([0, 0, 1, 1, 1])
    s = binary.scores(y, pred, np.array([0.1, 0.2, 0.6, 0.9, 0.8]))
    assert s["errors"] == 1 and s["recall Clothing"] == pytest.approx(2 / 3) and s["recall Footwear & Bags"] == 1
    assert s["ROC AUC"] == 1.0
    m = classification_metrics(y, np.array([0.1, 0.2, 0.6, 0.9, 0.8]))
    assert m["accuracy"] == 0.8 and m["n"] == 5
    assert as_class_probabilities(np.array([[0.25]])).tolist() == [[0.75, 0.25]]


def test_most_confused_pairs_and_per_class_report():
    y = np.array([0, 0, 0, 1, 1, 2])
    p = np.array([1, 1, 0, 0, 1, 2])
    pairs = tables.most_confused_pairs(y, p, ["a", "b", "c"], top=2)
    assert pairs.iloc[0]["pair"] == "a / b" and pairs.iloc[0]["total errors"] == 3
    rep = tables.per_class_report(y, p, ["a", "b", "c"])
    assert rep.loc["c", "recall"] == 1.0 and rep.loc["a", "images"] == 3


def test_duplicate_checks_find_planted_copies():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (200, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8)
    test[3] = train[17]                                                        # exact copy
    test[5] = np.clip(train[40].astype(int) + 1, 0, 255).astype(np.uint8)      # near copy
    assert du.exact_duplicates(train, test) == [(17, 3)]
    idx, diff = du.nearest_train_neighbours(train, test, n_components=10)
    assert idx[3] == 17 and diff[3] == 0 and idx[5] == 40 and diff[5] < 1.5
    assert np.median(diff) > 50


def test_class_statistics_and_similarity():
    x = np.zeros((4, 28, 28), np.uint8)
    x[2:] = 200
    y = np.array([0, 0, 1, 1])
    stats = du.class_statistics(x, y, ["dark", "bright"])
    assert stats.loc["dark", "background pixels %"] == 100 and stats.loc["bright", "mean intensity"] == 200
    mean, _ = du.mean_and_std_images(x, y, 2)
    assert du.most_similar_classes(mean, ["dark", "bright"]).iloc[0]["RMS difference of mean images"] == 200
    bal = du.class_balance({"train": y}, ["dark", "bright"])
    assert bal.loc["total", "train"] == 4


def test_comparison_table_counts_selection_and_refit_time():
    def record(name, refit):
        training = {"seconds": 10.0, "epochs_run": 5, "best_epoch": 3, "batch_size": 32}
        if refit:
            training["refit"] = {"seconds": 6.5}
        return {"name": name, "params": 100, "training": training,
                "metrics": {s: {"accuracy": 0.9, "macro_f1": 0.8} for s in ("val", "test")}}

    replayed = dict(record("c", True), notes={"init_head_replay_seconds": 3.0})
    table = tables.comparison_table([record("a", False), record("b", True), replayed], extra={"note": ["x", "y", "z"]})
    assert table.loc["a", "training time (s)"] == 10.0 and table.loc["b", "training time (s)"] == 16.5
    assert table.loc["c", "training time (s)"] == 19.5
    assert table.loc["b", "epochs run (best)"] == "5 (3)" and list(table["note"]) == ["x", "y", "z"]


def test_binary_recommendation_follows_the_significance_test():
    import pandas as pd

    names = ["binary network", "ten classes"]
    table = pd.DataFrame({"binary network": {"errors": 30}, "ten classes": {"errors": 12}})
    key = "binary network  vs  ten classes"
    clear = binary.recommendation(table, {key: {"p-value": 0.001}}, names, 10000)
    assert clear["significant"] and clear["best"] == "ten classes"
    assert clear["recommendation"].startswith("Binarise") and "**significant**" in clear["verdict"]
    noise = binary.recommendation(table, {key: {"p-value": 0.3}}, names, 10000)
    assert not noise["significant"] and "within chance" in noise["recommendation"]
    wins = binary.recommendation(table[["ten classes", "binary network"]].rename(
        columns={"ten classes": "binary network", "binary network": "ten classes"}), {key: {"p-value": 0.001}}, names, 10000)
    assert wins["recommendation"].startswith("Train the binary network")
