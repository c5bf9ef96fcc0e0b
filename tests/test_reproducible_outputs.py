"""Reruns that agree on any CPU: a model's outputs move in their 7th digit from one CPU family to another, and no
threshold, results file, rule file or rule version may move with them; reruns leave tracked files as they were."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.core import results
from helpers.studies import error_analysis as ea


def _noisy(p, seed, size=7e-7):
    """``p`` with the kind of noise two CPUs give a float32 model's outputs."""
    return p + np.random.default_rng(seed).uniform(-size, size, p.shape)


@pytest.fixture
def record():
    """A saved model's record (all the rule files read of it is its weights' sha256)."""
    import os
    from pathlib import Path

    (Path(os.environ["HELPERS_WEIGHTS_DIR"]) / "tiny_fashion.json").write_text(
        json.dumps({"name": "tiny_fashion", "task": "fashion", "sha256": "0" * 64}))
    return "tiny_fashion"


def _toy(n=3000, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += 2.0
    return y, np.exp(logits) / np.exp(logits).sum(1, keepdims=True)


def test_round_significant():
    assert results.round_significant(0.3067964895592897) == 0.3068
    assert results.round_significant(89.51283173076989) == 89.51
    assert results.round_significant(-1234.5678, 3) == -1230.0
    assert results.round_significant(0.0) == 0.0
    assert list(results.round_significant(np.array([0.000123456, 12.3456]))) == [0.0001235, 12.35]


def test_same_at_precision_tells_cpu_noise_from_a_real_change():
    a = {"t": 0.806555, "n": 1000, "names": ["a", "b"], "ok": True, "none": None, "arr": [0.1, 0.2]}
    assert results.same_at_precision(a, {**a, "t": 0.806556})                 # the 6th digit: noise
    assert not results.same_at_precision(a, {**a, "t": 0.8067})               # one image in 10,000: a change
    assert not results.same_at_precision(a, {**a, "n": 1001})
    assert not results.same_at_precision(a, {**a, "names": ["a", "c"]})
    assert not results.same_at_precision(a, {**a, "ok": False})
    assert not results.same_at_precision(a, {k: v for k, v in a.items() if k != "none"})
    assert not results.same_at_precision(a, {**a, "arr": [0.1]})
    big = np.linspace(-500, 500, 50)
    assert results.same_at_precision(big, big * (1 + 1e-7))
    assert not results.same_at_precision(big, big + np.r_[1.0, np.zeros(49)])
    assert results.same_at_precision(float("nan"), float("nan"))


def test_a_results_file_is_rewritten_only_when_its_content_changed(tmp_path):
    path = tmp_path / "s.json"
    assert results.write_json_if_changed(path, {"t": 0.806555}, indent=1)
    before = path.read_bytes()
    assert not results.write_json_if_changed(path, {"t": 0.806556}, indent=1)
    assert path.read_bytes() == before
    assert results.write_json_if_changed(path, {"t": 0.81}, indent=1)
    assert json.loads(path.read_text()) == {"t": 0.81}
    path.write_text("{broken")
    assert results.write_json_if_changed(path, {"t": 0.81})                   # a broken file is replaced
    summary = results.write_summary(tmp_path / "summary.json", share=0.123456, table={"a": 1})
    text = summary.read_text()
    results.write_summary(summary, share=0.1234562, table={"a": 1})
    assert summary.read_text() == text


def test_saved_arrays_are_kept_when_equal_at_their_precision(tmp_path):
    path = tmp_path / "fit.npz"
    arrays = {"means": np.arange(6.0).reshape(2, 3) * 1.1, "coef": np.array([1e-3, -2.5, 40.0])}
    results.write_arrays_if_changed(path, arrays)
    before = path.read_bytes()
    kept = results.write_arrays_if_changed(path, {k: v * (1 + 3e-7) for k, v in arrays.items()})
    assert path.read_bytes() == before and all(np.array_equal(kept[k], arrays[k]) for k in arrays)
    changed = results.write_arrays_if_changed(path, {**arrays, "coef": arrays["coef"] + 0.5})
    assert path.read_bytes() != before and np.array_equal(changed["coef"], arrays["coef"] + 0.5)


def test_confidence_thresholds_sit_on_a_grid_that_cpu_noise_cannot_move():
    y, p = _toy()
    for target in (0.9, 0.95):
        for cls in range(3):
            t, prec, cov = ea.threshold_for_precision(y, p, cls, target)
            assert t is not None and round(t, 3) == t and prec >= target
            for seed in range(5):
                assert ea.threshold_for_precision(y, _noisy(p, seed), cls, target) == (t, prec, cov)
            # the grid step below would miss the target, or keep no other image
            sel = (p.argmax(1) == cls) & (p.max(1) >= t)
            lower = (p.argmax(1) == cls) & (p.max(1) >= t - ea.THRESHOLD_STEP)
            assert (y[lower] == cls).mean() < target or lower.sum() == sel.sum()


def test_a_category_whose_every_prediction_is_right_enough_keeps_the_lowest_confidence_seen():
    """No threshold of 0: where every prediction reaches the target, the threshold is the lowest confidence seen
    on validation, rounded down to FLOOR_STEP (the same images kept; no claim below what was seen)."""
    y = np.r_[np.zeros(50, int), np.ones(50, int)]
    p = np.zeros((100, 2))
    p[:50, 0] = np.linspace(0.6345, 0.99, 50)
    p[50:, 1] = 0.9
    p[:, 1] = np.where(p[:, 1] == 0, 1 - p[:, 0], p[:, 1])
    p[50:, 0] = 0.1
    t, prec, cov = ea.threshold_for_precision(y, p, 0, 0.95)
    assert t == 0.63 and prec == 1.0 and cov == 1.0


def test_rejection_thresholds_are_rounded_before_they_are_compared():
    from helpers.evaluation import out_of_domain as ood

    scores = np.random.default_rng(1).gamma(2.0, 0.1, 5000)
    t = ood.rejection_threshold(scores, 0.97)
    assert t == results.round_significant(t, ood.THRESHOLD_DIGITS)
    assert all(ood.rejection_threshold(_noisy(scores, s, 1e-8), 0.97) == t for s in range(5))
    rule = ood.fit_rule("energy", None, threshold=np.array([0.123456789, 2.3456789]))
    assert rule["threshold"] == [0.1235, 2.346]


def test_a_rejection_rule_refitted_on_another_cpu_leaves_its_files_as_they_were(record, tmp_path, monkeypatch):
    """Notebook 06 refits the detector on every run; refitted on outputs that moved in the 7th digit, the rule's
    json and npz keep their bytes, and the notebook goes on with the saved fit."""
    from helpers.evaluation import out_of_domain as ood

    monkeypatch.setattr(ood, "RULES_DIR", tmp_path / "rules")
    rng = np.random.default_rng(0)
    feats, y = rng.normal(0, 1, (400, 6)), rng.integers(0, 10, 400)
    logits = feats @ rng.normal(0, 1, (6, 10))

    def fit(noise_seed):
        f, lg = (feats, logits) if noise_seed is None else (_noisy(feats, noise_seed), _noisy(logits, noise_seed))
        maha = ood.mahalanobis_fit(f, y, 10)
        scores = ood.all_scores(lg, f, maha)["mahalanobis"]
        return ood.fit_rule("mahalanobis", scores, keep=0.9), maha

    saved, saved_fit = ood.save_rule("tiny_fashion", *fit(None))
    files = {p.name: p.read_bytes() for p in (tmp_path / "rules").iterdir()}
    again, again_fit = ood.save_rule("tiny_fashion", *fit(3))
    assert {p.name: p.read_bytes() for p in (tmp_path / "rules").iterdir()} == files
    assert again == saved and all(np.array_equal(again_fit[k], saved_fit[k]) for k in saved_fit)


def test_the_offer_rule_file_and_its_version_ignore_cpu_noise(record, tmp_path, monkeypatch):
    from helpers.inputs.fashion_mnist import CLASS_NAMES
    from helpers.serving import rules

    monkeypatch.setattr(rules, "RULES_DIR", tmp_path / "rules")

    def write(thresholds):
        return rules.write_rules(rules.build_rules(
            "tiny_fashion", CLASS_NAMES, thresholds=thresholds, launch=CLASS_NAMES[1:], merge={"tops": CLASS_NAMES[:1]},
            hold=[], min_images={**{c: 2 for c in CLASS_NAMES[1:]}, "tops": 1}, rejection_rule=None,
            decided_on="a test"))

    base = dict(zip(CLASS_NAMES, np.linspace(0.3, 0.9, 10).round(3)))
    path = write(base)
    text = path.read_text()
    assert rules.load_rules("tiny_fashion")["version"] == 1
    write({c: t + 4e-7 for c, t in base.items()})                         # 6th-digit noise: same bytes
    assert path.read_text() == text
    write({**base, "Bag": base["Bag"] + 0.001})                              # a decision changed: version 2
    assert rules.load_rules("tiny_fashion")["version"] == 2


def test_run_notebooks_records_the_python_minor_version_only():
    import nbformat

    from helpers.run_notebooks import notebook_json, strip_volatile

    nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python", "version": "3.11.9"}})
    nb.cells.append(nbformat.v4.new_code_cell("1", metadata={"execution": {"iopub.status.busy": "2026"}}))
    strip_volatile(nb)
    assert nb.metadata.language_info.version == "3.11" and "execution" not in nb.cells[0].metadata
    assert "3.11.9" not in notebook_json(nb)


def test_styled_tables_display_without_a_memory_address():
    import pandas as pd

    from helpers.reports import tables

    shown = tables.html(pd.DataFrame({"a": [1.5]}).style.set_uuid("t"))
    assert "0x" not in repr(shown) and "T_t" in shown.data


@pytest.mark.parametrize("name", ["05_best_model", "07_binary_clothing_vs_footwear"])
def test_committed_notebooks_carry_no_memory_address_or_patch_version(name):
    from helpers.core.paths import REPO_ROOT

    text = (REPO_ROOT / "notebooks" / f"{name}.ipynb").read_text()
    assert " at 0x" not in text
    assert '"version": "3.11"' in text
