"""report.pdf's builder on synthetic records and a synthetic error-analysis summary (made by the real helpers)."""

import json

import numpy as np
import pandas as pd
import pytest

from helpers.core.errors import HelpersError
from helpers.inputs.fashion_mnist import CLASS_NAMES
from helpers.reports import management_report as mr
from helpers.reports import pdf, tables
from helpers.studies import error_analysis as ea


def record(name, task, val, test, seconds, params=1000):
    return {"name": name, "task": task, "params": params, "hparams": {}, "saved": "2026-11-20T10:00:00Z",
            "sha256": f"sha-of-{name}",
            "training": {"seconds": seconds, "train_size": 50000, "val_size": 10000},
            "metrics": {"val": {"accuracy": val}, "test": {"accuracy": test, "n": 10000}}}


RECORDS = {r["name"]: r for r in [
    record("fashion_dense", "fashion", 0.90, 0.8958, 120), record("fashion_simple_cnn", "fashion", 0.91, 0.8998, 130),
    record("fashion_tl_mobilenet_v2_frozen", "fashion", 0.88, 0.8749, 5),
    record("fashion_tl_mobilenet_v2_dense_head", "fashion", 0.897, 0.8833, 27),
    record("fashion_tl_mobilenet_v2_fine_tuned", "fashion", 0.8975, 0.8962, 51),
    record("fashion_own_cnn", "fashion", 0.9455, 0.9402, 728, params=1678378),
    record("fashion_binary_cnn", "fashion_binary", 0.997, 0.9964, 140)]}


def summary(model="fashion_own_cnn", path=None):
    """Notebook 06's summary as it writes it, made by the real helpers on synthetic predictions."""
    from sklearn.metrics import confusion_matrix

    from helpers.studies import launch
    from helpers.studies import user_simulation as us

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 3000)
    logits = rng.normal(0, 1, (3000, 10))
    logits[np.arange(3000), y] += 3.0
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    pred = p.argmax(1)
    points = ea.operating_points(y, p, y, p, CLASS_NAMES)
    p95 = points[points["target precision"] == launch.TARGET].set_index("class")
    in_group = launch.in_group_errors(y, pred, CLASS_NAMES)
    status = launch.category_status(p95, dict.fromkeys(CLASS_NAMES, 300), CLASS_NAMES, in_group)
    thresholds = [status.loc[c, "threshold"] for c in CLASS_NAMES]
    groups = {**{c: [c] for c in CLASS_NAMES if c not in launch.TOPS}, "tops": list(launch.TOPS)}
    test_offers = launch.test_report(y, p, thresholds, CLASS_NAMES, groups, n_boot=50)
    offers_map = {c: ("tops" if st == "merge into tops" else c if st == "launch" else None)
                  for c, st in status["status"].items()}
    names, _, offered = us.group_index(CLASS_NAMES, offers_map)
    pools = {"label": pred, "counts": launch.labelled(p, thresholds), "true": y, "nf_label": pred[:20],
             "nf_counts": np.zeros(20, bool)}
    sims = us.simulate(pools, CLASS_NAMES, offers_map, us.look_alike_weights(confusion_matrix(y, pred)), users=30)
    need = us.choose_min_images(sims, names, offered)
    table = us.summary(sims, names, offered, need.to_dict())
    base = table.xs(us.CHOICE_SHARE, level="share")
    rejection = pd.Series({label: v for label, v in zip(mr.REAL_PHOTO_FIGURES.values(),
                                                        (0.97, 0.98, 0.96, 0.88, 0.97, 0.94))})
    photos = pd.DataFrame({"images": {"boots": 31, "rope": 52}, "kept": {"boots": 1.0, "rope": 0.0},
                           "kept low": {"boots": 0.89, "rope": 0.0}, "kept high": {"boots": 1.0, "rope": 0.07}})
    out = ea.export_summary(
        model, path, test_accuracy=(pred == y).mean(), classes=CLASS_NAMES,
        per_class=ea.bootstrap_per_class(y, pred, CLASS_NAMES, n_boot=50),
        confusion=confusion_matrix(y, pred, labels=range(10)), pairs=tables.most_confused_pairs(y, pred, CLASS_NAMES, 4),
        status=status, test_offers=test_offers, tops=list(launch.TOPS), min_images=need,
        simulation=table.reset_index(), choice_share=us.CHOICE_SHARE, worst_mix=base["not favourite per 1,000 offers"].idxmax(),
        worst_wrong_per_1000=base["not favourite per 1,000 offers"].max(), pilot_offers=launch.pilot_offers(0.02),
        pilot_margin=launch.PILOT_MARGIN, rejection=rejection, rejection_photos=photos, rejection_choice="detector (C = 1)",
        junk={"Shirt": 2}, photo_paths=pd.Series({"boots (report)": 1.0}), target_precision=launch.TARGET,
        min_coverage=launch.MIN_COVERAGE, flower_photos=3303)
    return json.loads(out.read_text())


#: The pipeline's benchmark: the repository's own (the photo model's entry is what the report's costs read; the photo
#: figures come from the repository's results, the thumbnail ones from the synthetic records and summary).
THROUGHPUT = json.loads((__import__("helpers.core.paths", fromlist=["x"]).REPO_ROOT / "benchmarks" / "results"
                         / "offers_throughput.json").read_text())
SPEEDS = {"target_images_per_s_batch_512": 1000, "results": {"fashion_own_cnn": {"images_per_s_batch_512": 1570.5},
                                                             "fashion_dense": {"images_per_s_batch_512": 24000.0}}}


def _repository_photo_results(monkeypatch):
    """The photo model's record, rules and results are the repository's own (the report's page 1 reads them)."""
    from helpers.core.paths import REPO_ROOT

    for var, folder in (("HELPERS_WEIGHTS_DIR", REPO_ROOT / "weights"), ("HELPERS_DATA_DIR", REPO_ROOT / "data"),
                        ("HELPERS_SHARED_DIR", REPO_ROOT.parent / "shared")):
        monkeypatch.setenv(var, str(folder))


@pytest.fixture
def no_study(tmp_path, monkeypatch):
    """The repository's own notebook-05 summary stays out of the synthetic reports."""
    from helpers.studies import best_model

    monkeypatch.setattr(best_model, "SUMMARY_JSON", tmp_path / "no_study.json")
    _repository_photo_results(monkeypatch)
    # and the pipeline's benchmark is the synthetic one, of the synthetic deployed model
    (tmp_path / "throughput.json").write_text(json.dumps(THROUGHPUT))
    monkeypatch.setattr(mr, "THROUGHPUT_JSON", tmp_path / "throughput.json")


def test_report_is_built_from_the_results_within_the_word_limit(tmp_path, no_study):
    s = summary(path=tmp_path / "summary.json")
    built = mr.build(tmp_path / "report.pdf", records=RECORDS, summary=s, throughput=THROUGHPUT, speeds=SPEEDS)
    text = " ".join(pdf.pdf_text(built).split())
    assert "Decision requested: approve a" in text and "pilot of targeted offers on users’ photos" in text
    for phase in ("Business understanding", "Data understanding", "Data preparation", "Modelling", "Evaluation",
                  "Deployment"):                                         # one section per CRISP-DM phase
        assert phase in text
    assert "fashion_own_cnn" in text and "94.0 %" in text                 # the thumbnail benchmark: best validation
    data = mr.report_data(RECORDS, s, throughput=THROUGHPUT, speeds=SPEEDS)
    photo = data["photo"]
    assert photo["model"] in text and f"{photo['accuracy']['share'] * 100:.1f} %" in text
    assert all(r["offer"] in text for r in photo["rows"]) and f"staff check {photo['pilot']['offers']:,} " in text
    assert data["deployed"]["speed"] == 1570.5 and photo["serving"]["days"][0]["h24"] == 1
    assert "after a test score" in text and "36 are called Bag" in text  # disclosed, and the flowers' Bag finding
    assert "99.64 %" in text                                             # the binary network's test accuracy
    assert "Flowers" not in text                                         # no flower records: no paragraph
    assert "ResNet50" in text                                            # the substitution is stated
    words = mr.body_words(data, mr.draw_figures(data, tmp_path), pdf.newest_date(RECORDS.values()))
    assert 300 < words <= mr.MAX_WORDS
    assert words < pdf.word_count(pdf.pdf_text(built))      # tables, captions and headings not counted
    again = mr.build(tmp_path / "again.pdf", records=RECORDS, summary=s, throughput=THROUGHPUT, speeds=SPEEDS)
    assert again.read_bytes() == built.read_bytes()                      # reproducible
    without = mr.build(tmp_path / "bare.pdf", records=RECORDS, summary=s, throughput={}, speeds={})
    assert "not measured yet" in " ".join(pdf.pdf_text(without).split())
    assert mr._light({"of": 20, "share": 1.0, "low": 0.83}, {"share": 0.95, "low": 0.76}, 0.95, 0.8) == "amber"
    assert mr._light({"of": 20, "share": 1.0, "low": 0.96}, {"share": 0.95, "low": 0.85}, 0.95, 0.8) == "green"
    assert mr._light({"of": 20, "share": 1.0, "low": 0.96}, {"share": 0.55, "low": 0.3}, 0.95, 0.8) == "red"


def test_report_refuses_a_benchmark_of_another_model(tmp_path, no_study):
    """The serving cost must be measured on the deployed model: a benchmark of another model, or of the same name
    with other weights, is refused with what to run."""
    s = summary(path=tmp_path / "summary.json")
    entry = THROUGHPUT["tasks"]["clothing"]
    for stale in ({**entry, "model": "fashion_dense", "weights_sha256": "sha-of-fashion_dense"},
                  {**entry, "weights_sha256": "sha-of-older-weights"}):
        stale = {**THROUGHPUT, "tasks": {**THROUGHPUT["tasks"], "clothing": stale}}
        with pytest.raises(HelpersError, match="offers_throughput.py"):
            mr.report_data(RECORDS, s, throughput=stale, speeds=SPEEDS)


def test_report_refuses_an_old_summary(tmp_path, no_study):
    s = summary(path=tmp_path / "summary.json")
    del s["status"]
    with pytest.raises(HelpersError, match="re-execute notebook 06"):
        mr.report_data(RECORDS, s)


def test_report_refuses_a_summary_of_another_model(tmp_path, no_study):
    s = summary("fashion_dense", tmp_path / "summary.json")
    with pytest.raises(HelpersError, match="re-execute notebook 06"):
        mr.report_data(RECORDS, s)
    with pytest.raises(HelpersError, match="no saved Fashion-MNIST model"):
        mr.report_data({}, s)


def test_missing_summary_says_which_notebook_to_run(monkeypatch, tmp_path):
    monkeypatch.setattr(ea, "summary_path", lambda model: tmp_path / f"summary_{model}.json")
    with pytest.raises(HelpersError, match="06_error_analysis"):
        mr.report_data(RECORDS)


def test_committed_report_is_up_to_date_and_quotes_the_records(monkeypatch, tmp_path):
    """report.pdf is exactly what ``make report`` builds from today's results, within 1,500 words of body text,
    and its key numbers are those of the records (a stale or hand-edited report fails here)."""
    from helpers.core.paths import REPO_ROOT
    from helpers.models import weights_store

    for var, folder in (("HELPERS_WEIGHTS_DIR", REPO_ROOT / "weights"), ("HELPERS_DATA_DIR", REPO_ROOT / "data"),
                        ("HELPERS_SHARED_DIR", REPO_ROOT.parent / "shared")):
        monkeypatch.setenv(var, str(folder))
    assert mr.REPORT_PDF.is_file(), "report.pdf is missing: make report"
    rebuilt = mr.build(tmp_path / "report.pdf")                          # raises if over the word limit
    assert rebuilt.read_bytes() == mr.REPORT_PDF.read_bytes(), "report.pdf is stale: make report"
    text = " ".join(pdf.pdf_text(mr.REPORT_PDF).split())
    data = mr.report_data()
    deployed = weights_store.load_record(data["deployed"]["name"])
    assert f"{deployed['metrics']['test']['accuracy'] * 100:.1f} %" in text and deployed["name"] in text
    photo = weights_store.load_record(data["photo"]["model"])          # page 1 decides on the photo model
    assert f"{photo['metrics']['test']['accuracy'] * 100:.1f} %" in text and photo["name"] in text
    assert f"staff check {data['photo']['pilot']['offers']:,} " in text
    rules = json.loads((REPO_ROOT / "results" / "offers" / f"rules_{photo['name']}.json").read_text())
    assert {r["offer"]: r["images"] for r in data["photo"]["rows"]} == rules["min_images"]


def study(final="fashion_own_cnn"):
    """A notebook-05 summary as best_model.export_summary writes it."""
    return {"final": final, "baseline": {"name": "fashion_own_cnn", "accuracy": 0.9455},
            "choice": {"most_accurate": "ensemble of the 3 best", "most_accurate_val_accuracy": 0.9566,
                       "most_accurate_images_per_s": 310.0, "most_accurate_cpu_training_seconds": 60000.0,
                       "speed_target": 1000.0, "budget_seconds": 10800.0},
            "experiments": {"fashion_vgg_bn": {"direction": "own network", "val_accuracy": 0.9462},
                            "fashion_tl_mobilenet_v2_deep": {"direction": "deeper transfer", "val_accuracy": 0.9304},
                            "fashion_own_cnn": {"direction": "earlier model", "val_accuracy": 0.9455}},
            "effects": {"twice the epochs (two seeds each)": 0.49, "lighter regularisation": 0.0,
                        "left-right flips": -0.25, "twice the filters": 0.77},
            "noise_points": 0.37, "wide_slowdown": 3.14,
            "tta": {"fashion_vgg_bn": {"views": 5, "gain (points)": 0.27}, "fashion_vgg_bn_seed43": {"views": 5, "gain (points)": 0.11},
                    "fashion_vgg_bn_long": {"views": 5, "gain (points)": 0.05}},
            "ensembles": {"a + b": {"size": 2, "val_accuracy": 0.9561}, "a + b + c": {"size": 3, "val_accuracy": 0.9566}},
            "most_accurate_test_accuracy": 0.9512,
            "temperature": 0.71, "ece_test": {"before": 0.0512, "after": 0.0081}}


def test_report_keeps_notebook_05s_figures_without_its_jargon(tmp_path, no_study):
    """The thumbnail study is the benchmark: its figures are read (and checked against the deployed model), but the
    report tells no distillation or learning-curve story (the board review's jargon finding)."""
    s = summary(path=tmp_path / "summary.json")
    assert mr.report_data(RECORDS, s)["best_model"] is None      # before notebook 05: nothing
    data = mr.report_data(RECORDS, s, study())
    bm = data["best_model"]
    assert bm["tta_views"] == 5 and bm["tta_median"] == 0.11 and bm["ensemble_size"] == 3 and bm["deep_val"] == 0.9304
    text = " ".join(pdf.pdf_text(mr.build(tmp_path / "r.pdf", records=RECORDS, summary=s, study=study())).split())
    for jargon in ("distillation", "learning curve", "points", "workers", "batch 512", "notebook 02"):
        assert jargon not in text, jargon
    two = {"students": {"fashion_vgg_bn": {"teacher": "no", "val accuracy": 0.96},      # not a student: ignored
                        "s_small": {"teacher": "yes", "val accuracy": 0.9457},
                        "s_wide": {"teacher": "yes", "val accuracy": 0.9460}}}
    kept = {**study(), "choice": {**study()["choice"], "deployed_val_accuracy": 0.9455}, "round_two": two}
    bm = mr._best_model_study(kept, "fashion_own_cnn")
    assert bm["student"] == "s_wide" and bm["student_gain"] == 0.05 and not bm["student_deployed"]
    curve = {"25000": {"val_accuracy": 0.9410}, "50000": {"val_accuracy": 0.9460}}
    refit = {"predicted_gain_points": 0.12, "refit_size": 60_000, "full_size": 50_000, "refit": False}
    bm = mr._best_model_study({**kept, "round_two": {**two, "refit": refit, "learning_curve": curve}}, "fashion_own_cnn")
    assert bm["refit_gain"] == 0.12 and bm["refit_more"] == 20 and bm["half_cost"] == 0.5
    moved = {**kept, "final": "s_wide", "round_two": {"students": {**two["students"],
                                                                    "s_wide": {"teacher": "yes", "val accuracy": 0.9505}}}}
    bm = mr._best_model_study(moved, "s_wide")
    assert bm["student"] == "s_wide" and bm["student_gain"] == 0.5 and bm["student_deployed"]
    other = mr.report_data(RECORDS, s, {**study(), "calibrated": "fashion_vgg_bn"})["best_model"]
    assert other["ece_before"] is None  # the deployed model is not the calibrated one: no calibration claim
    with pytest.raises(HelpersError, match="re-execute notebook 05"):
        mr.report_data(RECORDS, s, study(final="fashion_dense"))
