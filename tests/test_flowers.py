"""The flower study's task functions on a tiny synthetic flower folder, with random backbone weights."""

import hashlib
import io
import tarfile
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import evaluate
from helpers import flowers as flowers_command
from helpers.core.errors import ChecksumError, DataNotFoundError
from helpers.inputs.image_folder import SkippedFilesWarning
from helpers.serving import classify
from helpers.inputs import flower_photos as photos
from helpers.studies import flowers

SIZE = 32


def make_flowers(root, per_class=10):
    rng = np.random.default_rng(0)
    for c, name in enumerate(flowers.CLASS_NAMES):
        (root / name).mkdir(parents=True)
        colour = np.array([40 * c + 20, 255 - 40 * c, (97 * c) % 255])
        for i in range(per_class):
            w, h = int(rng.integers(30, 70)), int(rng.integers(30, 70))
            arr = np.clip(colour + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.uint8)
            mode = ["RGB", "RGBA", "L", "P"][i % 4]
            im = Image.fromarray(arr).convert(mode)
            im.save(root / name / f"{i:02d}.{'jpg' if mode in ('RGB', 'L') else 'png'}")
    (root / "roses" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (root / "LICENSE.txt").write_text("CC-BY")
    return root


@pytest.fixture
def tiny_flowers(tmp_path, monkeypatch):
    root = make_flowers(tmp_path / "flower_photos")
    monkeypatch.setenv("FLOWER_PHOTOS_DIR", str(root))
    monkeypatch.setattr(flowers.FOLDER, "manifest_path", lambda: tmp_path / "manifests" / "flower_photos.csv")
    monkeypatch.setattr(flowers.config, "RUNS_JSON", tmp_path / "runs.json")
    monkeypatch.setattr(flowers.config, "PREDICTIONS_JSON", tmp_path / "test_predictions.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFilesWarning)
        data = flowers.load_splits((SIZE, SIZE, 3))
    return root, data


def test_task_1_skips_unreadable_photos_with_a_warning(tiny_flowers):
    with pytest.warns(SkippedFilesWarning, match="corrupt.jpg"):
        out = flowers.task_1()
    assert out["counts"] == {c: 10 for c in flowers.CLASS_NAMES}
    assert [f for f, _ in out["skipped"]] == ["roses/corrupt.jpg"]


def test_splits_are_stratified_centre_cropped_squares(tiny_flowers):
    _, data = tiny_flowers
    assert sum(len(y) for _, y in data.values()) == 50
    for x, y in data.values():
        assert x.shape[1:] == (SIZE, SIZE, 3) and set(y) == set(range(5))
    im = Image.new("RGB", (90, 30), (0, 0, 0))
    im.paste((255, 255, 255), (30, 0, 60, 30))  # the centre third is white: a centre crop keeps only it
    assert (flowers.prepare_image(im, (8, 8, 3)) > 250).all()


def test_standard_and_accelerated_training_agree(tiny_flowers):
    """Same seed, same batches: caching the backbone's output changes the speed, not the training."""
    _, data = tiny_flowers
    kw = dict(data=data, backbone_weights=None, epochs=3, batch_size=8)
    std = flowers.run("standard", 0.01, 0.0, **kw)
    acc = flowers.run("accelerated", 0.01, 0.0, **kw)
    assert np.allclose(std["history"]["val_loss"], acc["history"]["val_loss"], rtol=1e-3, atol=1e-4)
    assert std["best_epoch"] == acc["best_epoch"]
    assert set(std["val_report"]["precision"]) == set(flowers.CLASS_NAMES)
    saved = flowers.load_runs()
    assert set(saved) == {"standard_lr0.01_m0_s42_e3_b8_px32", "accelerated_lr0.01_m0_s42_e3_b8_px32"}
    assert flowers.run("standard", 0.01, 0.0, **kw) == saved["standard_lr0.01_m0_s42_e3_b8_px32"]  # loaded
    assert flowers.run("standard", 0.01, 0.0, **{**kw, "epochs": 2})["epochs"] == 2  # other settings: a new run
    curves = flowers.task_6(std)
    assert curves["epochs"] == [1, 2, 3] and curves["seconds"][-1] >= curves["seconds"][0] > 0


def test_study_tasks_recommend_and_train_the_recommended_model(tiny_flowers, monkeypatch, tmp_path, capsys):
    _, data = tiny_flowers
    monkeypatch.setattr(flowers.config, "LEARNING_RATES", (0.001, 0.1))
    monkeypatch.setattr(flowers.config, "MOMENTA", (0.9,))
    monkeypatch.setattr(flowers.config, "IMAGE_SIZE", SIZE)                   # the tiny study's side
    kw = dict(data=data, backbone_weights=None, epochs=2, batch_size=8)
    seven = flowers.task_7(**kw)
    eight = flowers.task_8(**kw)
    assert [r["learning_rate"] for r in seven] == [0.001, 0.1]
    assert eight[0]["learning_rate"] == flowers.best_by_validation(seven)["learning_rate"] and eight[0]["momentum"] == 0.9
    ten = flowers.task_10(seeds=(1, 2), **kw)
    assert len(ten) == 2 * 2 + 1 * 2 and {r["mode"] for r in ten} == {"accelerated"}
    table = flowers.summary(ten)
    assert (table["seeds"] == 2).all()
    rec = flowers.recommend(ten)
    assert rec["learning_rate"] in (0.001, 0.1) and rec["seeds"] == 2 and rec["epochs"] >= 1
    model, record = flowers.train_recommended(data=data, backbone_weights=None, rec=rec)
    assert record["training"]["optimizer"] == "sgd" and record["training"]["optimizer_config"]["momentum"] == rec["momentum"]
    assert record["training"]["refit"]["epochs"] == record["training"]["best_epoch"]
    assert record["hparams"]["image_size"] == SIZE                    # the side of the data it was given
    table = flowers.size_check(rec, sizes=(SIZE, 40), seeds=(1,), backbone_weights=None, epochs=2, batch_size=8,
                               data_by_size={SIZE: data})
    assert sorted(table["image_size"]) == [SIZE, 40] and flowers.final_image_size(table) in (SIZE, 40)
    assert flowers.recommend(ten + [flowers.run("accelerated", 0.1, 0.9, seed=1, data=flowers.load_splits((40, 40, 3)),
                                                backbone_weights=None, epochs=2, batch_size=8)],
                             image_size=SIZE) == rec                   # other sides' runs do not count
    tuned_model, tuned = flowers.fine_tune(data=data, backbone_weights=None, epochs=2)
    assert tuned["hparams"]["unfrozen"] and tuned["notes"]["init_head_from"] == flowers.RECOMMENDED
    assert "identical to its recorded history" in tuned["notes"]["init_head_for_selection"]  # momentum replayed too
    assert tuned["training"]["optimizer_config"] == record["training"]["optimizer_config"]
    verdict = flowers.fine_tuning_verdict(record, tuned)
    assert verdict["verdict"] == "within noise" and not verdict["clear"] and verdict["seeds"] == 1  # one seed: no claim
    capsys.readouterr()
    assert evaluate.main([flowers.RECOMMENDED, "--check"]) == 0
    assert evaluate.main([flowers.FINE_TUNED, "--check"]) == 0
    photo = tmp_path / "rose.webp"
    Image.new("RGBA", (80, 40), (200, 20, 20, 128)).save(photo)
    out = list(classify.predict_files([photo, tmp_path / "missing.jpg"], "flowers"))
    assert out[0]["label"] in flowers.CLASS_NAMES and "no such file" in out[1]["error"]

    # the PDF report, from these runs: at most 8 pages, its numbers those of the results
    from helpers.reports import flowers_report, pdf

    flowers.task_5(**kw)
    for name, value in (("EPOCHS", 2), ("BATCH_SIZE", 8), ("FINAL_IMAGE_SIZES", (SIZE, 40))):  # the tiny study's
        monkeypatch.setattr(flowers.config, name, value)
    # the head-only ranges run longer (every seed), found again from the saved runs by the report
    for name, value in (("SEEDS", (1, 2)), ("LONG_EPOCHS", 3), ("SLOW_RATE_EPOCHS", 3)):
        monkeypatch.setattr(flowers.config, name, value)
    checks = flowers.ranges.edge_checks(rec, record, data_by_size={SIZE: data}, backbone_weights=None, batch_size=8)
    assert [len(checks[k]["runs"]) for k in ("smallest_rate", "final_side")] == [2, 2] and checks["lead"] is None
    assert checks["final_side"]["runs"][0]["epochs"] == 3 and checks["smallest_rate"]["learning_rate"] == 0.001
    assert flowers.ranges.saved_edge_checks(flowers.load_runs(), rec, record) == checks
    preds = flowers.test_predictions()                                     # the saved models' test predictions
    assert set(preds["models"]) == {flowers.RECOMMENDED, flowers.FINE_TUNED}
    assert len(preds["labels"]) == len(data["test"][1]) == len(preds["models"][flowers.RECOMMENDED]["pred"])
    built = flowers_report.build(tmp_path / "report.pdf", speed=None)
    assert 1 <= pdf.page_count(built) <= flowers_report.MAX_PAGES
    text = " ".join(pdf.pdf_text(built).split())
    acc = round(record["metrics"]["test"]["accuracy"] * 100, 1)
    assert f"{acc:.1f} %" in text and f"learning rate {rec['learning_rate']:g}" in text
    assert f"{rec['epochs']} epochs" in text and "fine-tuning" in text.lower()
    assert f"{flowers.final_image_size(table)} px" in text                  # the input side chosen on validation
    assert "95 % CI" in text and "McNemar" in text and "within noise" in text
    assert "What was decided after a test score was seen" in text and "Task 6: training and validation loss" in text
    assert "Run longer, every seed." in text and "Learning rate 0.001, run for 3 epochs instead of 2 (2 seeds)" in text
    # byte-for-byte reproducibility: test_committed_report_is_up_to_date_and_matches_the_results rebuilds the committed one


def story_tail(record):
    from helpers.studies.flowers import story

    return story.tail_of(record)


def test_depth_study_mirrors_and_fine_tunes_deeper(tiny_flowers, capsys, monkeypatch):
    """Deeper tails on cached activations of mirrored photos: chosen on validation, then trained, saved, checked."""
    _, data = tiny_flowers
    monkeypatch.setattr(flowers.config, "DEEP_EPOCHS", 2)
    twice = flowers.mirrored(data)
    assert len(twice["train"][1]) == 2 * len(data["train"][1]) and twice["val"] is data["val"]
    assert (twice["train"][0][len(data["train"][1]):] == data["train"][0][:, :, ::-1]).all()
    assert flowers.head_hparams(SIZE, "Conv_1")["unfrozen"] and flowers.tail_cut("Conv_1") == ("block_16_project_BN",)
    assert flowers.head_hparams(SIZE, "block_13_expand")["unfrozen_from"] == "block_13_expand"
    assert flowers.tail_cut("block_13_expand") == ("block_12_add",) and flowers.tail_cut("head") is None
    with pytest.raises(ValueError, match="tail must be one of"):
        flowers.head_hparams(SIZE, "block_2_expand")
    with pytest.raises(ValueError, match="accelerated"):
        flowers.run("standard", 0.01, tail="Conv_1", data=data, backbone_weights=None, epochs=1)
    rec = {"learning_rate": 0.01, "momentum": 0.0}
    tails = ("head", "block_16_expand")
    runs = flowers.depth_study(rec, tails=tails, seeds=(1, 2), data=data, batch_size=8, backbone_weights=None)
    assert len(runs) == 2 * 2 + 2 and all(r["train_size"] == len(twice["train"][1]) for r in runs[:4])
    choice = flowers.deep_choice(runs)
    assert [(r.get("tail", "head"), r.get("mirror", False)) for r in runs[4:]] == [(choice["tail"], False)] * 2
    assert flowers.depth_study(rec, tails=tails, seeds=(1, 2), data=data, batch_size=8, backbone_weights=None,
                               mirror_check=False) == runs[:4]                 # saved runs, no mirror check
    table = flowers.summary(runs)
    assert list(table["tail"][:2]) == list(tails) and (table["seeds"] == 2).all()
    from helpers.reports import plots

    fig = plots.depth_study(table)
    assert [len(ax.containers) for ax in fig.axes] == [2, 2]        # with and without mirror images, each plot
    best = table[table["mirror"]].sort_values("val_loss_mean").iloc[0]
    assert choice["tail"] == best["tail"] and choice["epochs"] == int(best["best_epoch_median"])
    # the epoch probe: the chosen depth, first seed, twice the epochs; its first epochs repeat the depth study's run
    monkeypatch.setattr(flowers.config, "PROBE_EPOCHS", 4)
    probe = flowers.epoch_probe(rec, tails=tails, seeds=(1, 2), data=data, batch_size=8, backbone_weights=None)
    assert (probe["tail"], probe["seed"], probe["run"]["epochs"], len(probe["run"]["history"]["val_loss"])) == (
        choice["tail"], 1, 4, 4) and probe["run"]["mirror"] and probe["short"] in runs
    facts = flowers.probe.facts(probe)
    assert facts["repeat_gap"] < 1e-4 and facts["short_val_loss"] == min(probe["short"]["history"]["val_loss"])
    assert facts["val_loss"] == min(probe["run"]["history"]["val_loss"]) <= facts["short_val_loss"]
    assert "run for 4 epochs instead of 2" in flowers.probe.sentence(probe, len(data["val"][1]))
    assert flowers.epoch_probe(rec, tails=tails, seeds=(1, 2), data=data, batch_size=8,
                               backbone_weights=None)["run"] == probe["run"]                # saved: loaded, not rerun
    # the second round: the first round's candidates lack the overall choice, so the choice moves and a model is made
    monkeypatch.setattr(flowers.config, "FIRST_ROUND_TAILS", tuple(t for t in tails if t != choice["tail"]))
    second = flowers.second_round(rec, tails=tails, seeds=(1, 2), data=data, batch_size=8, backbone_weights=None)
    assert second["moved"] and second["choice"]["tail"] == choice["tail"] and second["first"]["tail"] != choice["tail"]
    assert second["record"]["name"] == flowers.DEEPER_TUNED and story_tail(second["record"]) == choice["tail"]
    assert [r["val_report"] for r in second["runs"]] == [r["val_report"] for r in runs]   # loaded, not trained again
    kept = flowers.second_round(rec, first_choice=choice, tails=tails, seeds=(1, 2), data=data, batch_size=8,
                                backbone_weights=None)
    assert not kept["moved"] and kept["record"] is None
    # the same tail without the seeds' study: a deeper model, saved, and reproduced from its file
    choice = {**choice, "tail": "block_16_expand", "epochs": 2}
    model, record = flowers.fine_tune_deeper(retrain=True, data=data, backbone_weights=None, choice=choice)
    assert record["hparams"]["unfrozen_from"] == "block_16_expand" and not record["hparams"]["unfrozen"]
    assert record["training"]["train_size"] == len(twice["train"][1])
    assert record["training"]["refit"]["train_size"] == len(twice["train"][1]) + len(data["val"][1])
    assert "block_16_expand" in record["notes"]["unfrozen_layers"] and "Conv_1" in record["notes"]["unfrozen_layers"]
    capsys.readouterr()
    assert evaluate.main([flowers.DEEP_TUNED, "--check"]) == 0

    # the report's section: the study's table in order, the choice, the model and what mirror images add
    from helpers.reports import flowers_report

    monkeypatch.setattr(flowers.config, "BATCH_SIZE", 8)
    part = flowers_report.deeper_data(flowers.load_runs(), record, deep=record)
    assert "run for 4 epochs instead of 2" in part["probe"]                    # the saved probe, found without training
    assert [(r["tail"], r["mirror"]) for r in part["table"]] == [*((t, True) for t in tails),
                                                                 (flowers.deep_choice(runs)["tail"], False)]
    assert part["model"]["tail"] == "block_16_expand" and part["model"]["test_accuracy"] == record["metrics"]["test"]["accuracy"]
    rows = {(r["tail"], r["mirror"]): r for r in part["table"]}
    tail = flowers.deep_choice(runs)["tail"]
    assert part["mirror"]["accuracy_gain"] == pytest.approx(
        rows[tail, True]["val_accuracy_mean"] - rows[tail, False]["val_accuracy_mean"], abs=1e-9)
    assert part["mirror"]["verdict"] == "within noise" and part["mirror"]["seeds"] == 2   # two seeds support no claim
    assert part["runner_up"] in tails and part["runner_up"] != tail


def test_download_verifies_the_checksum_and_extracts(tmp_path, monkeypatch, loopback_server):
    src = make_flowers(tmp_path / "src" / "flower_photos", per_class=1)
    site = tmp_path / "site"
    site.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        t.add(src, arcname="flower_photos")
    (site / "flower_photos.tgz").write_bytes(buf.getvalue())
    digest = hashlib.sha256(buf.getvalue()).hexdigest()
    base = loopback_server(site)
    with pytest.raises(ChecksumError, match="sha256"):
        flowers.download(tmp_path / "bad", url=base + "flower_photos.tgz", sha256="0" * 64)
    assert not (tmp_path / "bad").exists()
    monkeypatch.setattr(flowers.download, "__defaults__", (None, base + "flower_photos.tgz", digest))
    folder = flowers.dataset_dir()
    assert folder == tmp_path / "data" / "flower_photos"
    assert all((folder / c).is_dir() for c in flowers.CLASS_NAMES)
    assert [p.name for p in tmp_path.joinpath("data").iterdir()] == ["flower_photos"]  # no temporary left


def test_offline_and_absent_is_a_clear_error(monkeypatch):
    def refuse(*a, **k):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(photos, "download", refuse)
    with pytest.raises(DataNotFoundError, match="FLOWER_PHOTOS_DIR") as e:
        flowers.dataset_dir()
    assert "no internet" in str(e.value) and "flower_photos.tgz" in str(e.value)


def test_cli_lists_tasks_and_refuses_unknown_ones(capsys):
    with pytest.raises(SystemExit):
        flowers_command.main(["task_99"])
    assert "invalid choice" in capsys.readouterr().err
    assert list(flowers.TASKS) == [f"task_{i}" for i in range(1, 11)]


def test_speed_benchmark_trains_the_same_head_both_ways(tiny_flowers, tmp_path):
    import importlib.util
    import json

    from helpers.core.paths import REPO_ROOT

    spec = importlib.util.spec_from_file_location("flowers_speed", REPO_ROOT / "benchmarks" / "flowers_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "speed.json"
    result = bench.main(["--epochs", "2", "--out", str(out)], data=tiny_flowers[1], backbone_weights=None)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result)) and saved["settings"]["image_size"] == SIZE
    assert set(saved["seconds_per_epoch"]) == {"standard", "accelerated"} and saved["feature_pass_cold"]
    assert saved["max_abs_val_loss_difference"] < 1e-3          # caching changes the speed, not the training
    assert saved["met"] == (saved["speed_up_per_epoch"] >= bench.TARGET_SPEED_UP)
    assert not flowers.RUNS_JSON.exists()                        # the study's own results are left alone


def test_report_without_runs_is_a_clear_error(tiny_flowers):
    from helpers.core.errors import HelpersError
    from helpers.reports import flowers_report

    with pytest.raises(HelpersError, match="python -m helpers.flowers"):
        flowers_report.report_data(runs={}, record={}, speed=None)


def test_committed_report_is_up_to_date_and_matches_the_results(monkeypatch):
    """reports/flowers_transfer_learning.pdf: at most 8 pages, the saved results' numbers, and exactly what
    ``make reports`` builds from them now (a stale PDF fails here)."""
    from helpers.core.paths import REPO_ROOT
    from helpers.models import weights_store
    from helpers.reports import flowers_report, pdf

    for var, folder in (("HELPERS_WEIGHTS_DIR", REPO_ROOT / "weights"), ("HELPERS_DATA_DIR", REPO_ROOT / "data"),
                        ("HELPERS_SHARED_DIR", REPO_ROOT.parent / "shared")):
        monkeypatch.setenv(var, str(folder))

    committed = flowers_report.REPORT_PDF
    assert committed.is_file(), "reports/flowers_transfer_learning.pdf is missing: make reports"
    assert 1 <= pdf.page_count(committed) <= flowers_report.MAX_PAGES
    record = weights_store.load_record(flowers.RECOMMENDED)
    rec = flowers.recommend(list(flowers.load_runs().values()))
    text = " ".join(pdf.pdf_text(committed).split())
    assert f"{record['metrics']['test']['accuracy'] * 100:.1f} %" in text and "95 % CI" in text
    assert f"learning rate {rec['learning_rate']:g}" in text and f"{rec['epochs']} epochs" in text
    rebuilt = flowers_report.build(Path(tempfile.mkdtemp()) / "report.pdf")
    assert rebuilt.read_bytes() == committed.read_bytes(), "the flower report is stale: make reports"
