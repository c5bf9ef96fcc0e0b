"""The offers pipeline (helpers.serving + python -m helpers.offers) on tiny tables and a tiny fashion model."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from helpers.core.errors import HelpersError
from helpers.inputs.fashion_mnist import CLASS_NAMES

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
MODEL = "tiny_fashion"
LAUNCH = ["Trouser", "Sandal", "Sneaker", "Bag", "Ankle boot"]
TOPS = ["T-shirt/top", "Pullover", "Coat", "Shirt"]


def _pattern(c: int) -> np.ndarray:
    """A 28x28 image of class ``c``: a bright rectangle on black, its width telling the class (the fashion task's
    preparation crops to the item and keeps its aspect ratio)."""
    x = np.zeros((28, 28), np.uint8)
    x[4:24, 13 - c // 2:15 + (c + 1) // 2] = 220  # 2 to 11 pixels wide: never as wide as tall
    return x


def _prepared(c: int) -> np.ndarray:
    from PIL import Image

    from helpers.inputs import tasks

    return tasks.get("fashion").prepare(Image.fromarray(_pattern(c)))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny dense model of the fashion categories, trained once for the module on bright rectangles whose width
    tells the class; returns ``(folder of its weights and record, its validation inputs)``."""
    from helpers.inputs import tasks
    from helpers.training import trainer

    root = tmp_path_factory.mktemp("tiny_fashion")
    rng = np.random.default_rng(0)
    y = np.arange(200) % 10
    clean = {c: _prepared(c) for c in range(10)}
    x = np.stack([clean[c] for c in y]).astype(np.uint8) + rng.integers(0, 20, (200, 28, 28, 1)).astype(np.uint8)
    data = {"train": (x[:120], y[:120]), "val": (x[120:160], y[120:160]), "test": (x[160:], y[160:])}
    with pytest.MonkeyPatch.context() as mp:
        for var in ("HELPERS_DATA_DIR", "HELPERS_WEIGHTS_DIR"):
            (root / var).mkdir()
            mp.setenv(var, str(root / var))
        tasks.fashion_splits.cache_clear()
        trainer.fit(MODEL, task="fashion", architecture="dense", hparams={"units": [64], "dropout": 0.0},
                    data=data, epochs=30, batch_size=16, patience=None, learning_rate=0.01)
    return root / "HELPERS_WEIGHTS_DIR", data["val"][0]


@pytest.fixture
def pipeline(trained, tmp_path, monkeypatch):
    """The tiny model copied into the test's weights folder, with its energy rejection rule and its offer rules saved
    in the test's own folder; returns that folder."""
    import shutil

    from helpers.evaluation import out_of_domain
    from helpers.models import saved_models
    from helpers.serving import rules

    for f in trained[0].iterdir():
        shutil.copy(f, os.environ["HELPERS_WEIGHTS_DIR"])
    monkeypatch.setattr(out_of_domain, "RULES_DIR", tmp_path / "rules")
    monkeypatch.setattr(rules, "RULES_DIR", tmp_path / "rules")
    model, _ = saved_models.load(MODEL)
    x_val = trained[1]
    logits, feats = out_of_domain.logits_and_features(model, x_val)
    energy = out_of_domain.all_scores(logits, feats)["energy"]
    rule = out_of_domain.fit_rule("energy", energy, keep=1.0, in_domain_inputs=x_val, frame_keep=1.0)
    out_of_domain.save_rule(MODEL, rule)
    r = rules.build_rules(MODEL, CLASS_NAMES, thresholds={c: 0.2 for c in CLASS_NAMES}, launch=LAUNCH,
                          merge={"tops": TOPS}, hold=["Dress"], min_images={**{c: 2 for c in LAUNCH}, "tops": 2},
                          rejection_rule="energy", decided_on="a test")
    rules.write_rules(r)
    return tmp_path


def write_uploads(folder, users: dict, extra: bool = True):
    """``users``: ``{user: [class index, or "missing" / "corrupt" / "empty" / "noise"]}`` -> uploads.csv (relative
    paths) with the images."""
    from PIL import Image

    img = folder / "img"
    img.mkdir(parents=True, exist_ok=True)
    rows = []
    for user, items in users.items():
        for k, item in enumerate(items):
            name = f"img/{user}_{k}.png"
            if item == "corrupt":
                (folder / name).write_bytes(b"\x89PNG\r\n\x1a\n not really")
            elif item == "empty":
                (folder / name).write_bytes(b"")
            elif item == "noise":
                Image.fromarray(np.random.default_rng(k).integers(0, 256, (40, 30, 3), np.uint8)).save(folder / name)
            elif item != "missing":
                Image.fromarray(_pattern(item)).save(folder / name)
            rows.append({"user_id": user, "image": name, **({"campaign": f"c{k % 2}"} if extra else {})})
    path = folder / "uploads.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


USERS = {"alice": [1, 1, 1, 8], "bob": [5, 5, "corrupt", 7], "carol": ["missing", "empty"], "dave": [3, 3, 3],
         "erin": [0, 6, 2, 1], "frank": [8]}


def test_rules_round_trip_version_and_refusals(pipeline):
    from helpers.serving import rules

    loaded = rules.load_rules(MODEL)
    assert loaded["version"] == 1 and loaded["offers"]["Shirt"] == "tops" and loaded["offers"]["Dress"] is None
    assert rules.version_label(loaded).startswith("v1-")
    rules.write_rules({k: v for k, v in loaded.items() if k not in ("version", "sha256")})
    assert rules.load_rules(MODEL)["version"] == 1  # same content: same version
    changed = {k: v for k, v in loaded.items() if k not in ("version", "sha256")}
    changed["min_images"] = {**changed["min_images"], "Bag": 3}
    rules.write_rules(changed)
    assert rules.load_rules(MODEL)["version"] == 2
    path = rules.rules_path(MODEL)
    path.write_text(path.read_text().replace('"Bag": 3', '"Bag": 1'))
    with pytest.raises(rules.RulesError, match="edited by hand"):
        rules.load_rules(MODEL)
    with pytest.raises(rules.RulesError, match="without a status"):
        rules.build_rules(MODEL, CLASS_NAMES, {c: 0.5 for c in CLASS_NAMES}, launch=["Bag"], merge={}, hold=[],
                          min_images={"Bag": 1}, rejection_rule=None, decided_on="x")
    with pytest.raises(rules.RulesError, match="no offer rules"):
        rules.load_rules("other_model")


def test_user_offer_reasons():
    from helpers.serving.offer_decisions import user_offer

    r = {"offers": {"Shirt": "tops", "Coat": "tops", "Bag": "Bag", "Dress": None}, "min_images": {"tops": 2, "Bag": 3}}
    assert user_offer(3, 3, 0, {}, r)["reason"] == "none of 3 images could be read"
    assert "rejection rule set aside 2" in user_offer(3, 1, 2, {}, r)["reason"]
    assert user_offer(3, 0, 0, {}, r)["reason"] == "no image labelled confidently enough among 3 images"
    o = user_offer(5, 0, 0, {"tops": 4, "Bag": 1}, r)
    assert o["offer"] == "tops" and o["share"] == 0.8 and o["reason"] == "4 confident tops (Shirt, Coat) images of 5"
    assert user_offer(4, 0, 0, {"Bag": 2}, r)["reason"] == "2 confident Bag images of 4; 3 needed"
    assert "held back" in user_offer(4, 0, 0, {"Dress": 3}, r)["reason"]
    tie = user_offer(4, 0, 0, {"Bag": 2, "tops": 2}, r)
    assert tie["offer"] is None and tie["reason"].startswith("a tie")


def test_local_run_outputs_errors_and_identical_rerun(pipeline):
    from helpers.serving import batch

    uploads = write_uploads(pipeline / "day", USERS)
    out = pipeline / "out"
    record = batch.run(uploads, out, model_name=MODEL, chunk_rows=5, progress=False)
    p = pd.read_parquet(out / "predictions.parquet")
    offers = pd.read_csv(out / "offers.csv", keep_default_na=False)
    run = json.loads((out / "run.json").read_text())
    assert list(p["row"]) == list(range(len(p))) and len(p) == sum(map(len, USERS.values())) == record["rows"]
    assert {"campaign", "label", "confidence", "ood_score", "in_domain", "counts", "error", "model_sha256",
            "rules_version"} <= set(p.columns)
    errors = p.set_index("image")["error"]
    assert "not a readable image" in errors["img/bob_2.png"] and "no such file" in errors["img/carol_0.png"]
    assert errors.notna().sum() == 3 and not p.loc[p["error"].notna(), "counts"].any()
    assert list(offers["user_id"]) == list(USERS)
    by_user = offers.set_index("user_id")
    assert by_user.loc["alice", "offer"] == "Trouser"
    assert by_user.loc["alice", "reason"] == "3 confident Trouser images of 4"
    assert by_user.loc["carol", "reason"] == "none of 2 images could be read"
    assert "held back" in by_user.loc["dave", "reason"] and by_user.loc["frank", "reason"].endswith("2 needed")
    assert run["rows"] == len(p) and run["unreadable"] == 3 and run["engine"] == "local" and run["parts"] == 4
    # the task (taken from the model when only the model is named), the runtime and the rule file are recorded
    assert run["task"] == "fashion" and run["runtime"] == "keras" and run["rules_file"] == f"rules_{MODEL}.json"
    assert set(p["task"]) == {"fashion"} and set(p["rules_version"]) == {run["rules_version"]}
    assert not (out / batch.PARTS).exists()
    first = {f: (out / f).read_bytes() for f in ("predictions.parquet", "offers.csv")}
    batch.run(uploads, out, model_name=MODEL, chunk_rows=5, progress=False)
    assert all((out / f).read_bytes() == b for f, b in first.items())


def test_parquet_input_gives_the_same_rows(pipeline):
    from helpers.serving import batch

    uploads = write_uploads(pipeline / "day", USERS)
    pq_in = uploads.with_suffix(".parquet")
    pd.read_csv(uploads).to_parquet(pq_in, index=False)
    batch.run(uploads, pipeline / "a", model_name=MODEL, progress=False)
    batch.run(pq_in, pipeline / "b", model_name=MODEL, progress=False)
    a, b = (pd.read_parquet(pipeline / d / "predictions.parquet") for d in ("a", "b"))
    pd.testing.assert_frame_equal(a, b)
    assert (pipeline / "a" / "offers.csv").read_bytes() == (pipeline / "b" / "offers.csv").read_bytes()


def test_noise_photo_is_rejected_and_never_counts(pipeline):
    from helpers.serving import batch

    uploads = write_uploads(pipeline / "day", {"u": [1, "noise"]})
    batch.run(uploads, pipeline / "out", model_name=MODEL, progress=False)
    p = pd.read_parquet(pipeline / "out" / "predictions.parquet").set_index("image")
    assert not p.loc["img/u_1.png", "in_domain"] and p.loc["img/u_0.png", "in_domain"]
    assert not p.loc["img/u_1.png", "counts"]


@pytest.mark.parametrize("content, message", [
    (None, "no such uploads table"),
    ("user,image\nu,a.png\n", "missing column(s) user_id"),
    ("user_id,image,label\nu,a.png,x\n", "would be overwritten"),
])
def test_bad_tables_give_clear_errors(pipeline, content, message):
    from helpers.serving import batch

    path = pipeline / "uploads.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(HelpersError, match=message.replace("(", r"\(").replace(")", r"\)")):
        batch.run(path, pipeline / "out", model_name=MODEL, progress=False)
    (pipeline / "uploads.txt").write_text("x")
    with pytest.raises(HelpersError, match="must be a .csv or .parquet"):
        batch.run(pipeline / "uploads.txt", pipeline / "out", model_name=MODEL, progress=False)


def _cli(args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "helpers.offers", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_killed_run_resumes_without_lost_or_doubled_rows(pipeline, monkeypatch):
    """A real process killed (SIGKILL) after its second part; the rerun scores only what is left."""
    from helpers.evaluation import out_of_domain
    from helpers.serving import batch, rules

    users = {f"u{i}": [i % 10, (i + 1) % 10, i % 10] for i in range(10)}
    uploads = write_uploads(pipeline / "day", users)
    boot = (f"import sys; from helpers.evaluation import out_of_domain as o; from helpers.serving import rules as r; "
            f"import pathlib; o.RULES_DIR = r.RULES_DIR = pathlib.Path({str(pipeline / 'rules')!r}); "
            "from helpers.offers import main; sys.exit(main(sys.argv[1:]))")
    args = ["score", uploads, "--out", pipeline / "out", "--model", MODEL, "--chunk-rows", 4, "--quiet"]
    run = [sys.executable, "-c", boot, *map(str, args)]
    killed = subprocess.run(run, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, batch.KILL_AFTER_PARTS_ENV: "2"})
    assert killed.returncode == -9, killed.stderr[-500:]
    parts = sorted((pipeline / "out" / batch.PARTS).glob("part-*.parquet"))
    assert len(parts) == 2 and not (pipeline / "out" / "predictions.parquet").exists()
    stamps = [p.stat().st_mtime_ns for p in parts]
    resumed = subprocess.run(run, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-500:]
    monkeypatch.setattr(out_of_domain, "RULES_DIR", pipeline / "rules")
    monkeypatch.setattr(rules, "RULES_DIR", pipeline / "rules")
    record = json.loads((pipeline / "out" / "run.json").read_text())
    assert record["parts_resumed"] == 2 and record["rows_scored_now"] == 30 - 8
    p = pd.read_parquet(pipeline / "out" / "predictions.parquet")
    assert list(p["row"]) == list(range(30)) and list(p["image"]) == list(pd.read_csv(uploads)["image"])
    batch.run(uploads, pipeline / "fresh", model_name=MODEL, chunk_rows=4, progress=False)
    for f in ("predictions.parquet", "offers.csv"):
        assert (pipeline / "out" / f).read_bytes() == (pipeline / "fresh" / f).read_bytes()
    assert all(s > 0 for s in stamps)


def test_unfinished_run_of_other_input_is_not_mixed(pipeline):
    from helpers.serving import batch

    b = write_uploads(pipeline / "b", {"v": [5, 6, 7, 8, 9]})
    out = pipeline / "out"
    (out / batch.PARTS).mkdir(parents=True)  # what a crashed run of another input leaves behind
    (out / batch.PARTS / "manifest.json").write_text(json.dumps({"input": "another table"}))
    (out / batch.PARTS / "part-000000.parquet").write_bytes(b"a part of the other run")
    with pytest.raises(HelpersError, match="--restart"):
        batch.run(b, out, model_name=MODEL, chunk_rows=2, progress=False)
    batch.run(b, out, model_name=MODEL, chunk_rows=2, progress=False, restart=True)
    assert list(pd.read_parquet(out / "predictions.parquet")["user_id"]) == ["v"] * 5


def test_command_line_errors_are_one_line(pipeline):
    r = _cli(["score", pipeline / "nope.csv", "--out", pipeline / "out"])
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = _cli(["score", pipeline / "nope.csv", "--out", pipeline / "out", "--address", "auto"])
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_export_loads_without_helpers_and_matches_predict(pipeline):
    from helpers.serving import export
    from helpers.serving.classify import predict_files

    uploads = write_uploads(pipeline / "day", {"u": [1, 5, 8, 0]}, extra=False)
    files = [pipeline / "day" / i for i in pd.read_csv(uploads)["image"]]
    info = export.export(pipeline / "export", MODEL)
    assert info["classes"] == CLASS_NAMES and (pipeline / "export" / "export.json").is_file()
    from helpers.inputs import tasks
    from helpers.inputs.images import open_rgb

    x = np.stack([tasks.get("fashion").prepare(open_rgb(f)) for f in files]).astype(np.float32)
    np.save(pipeline / "x.npy", x)
    code = ("import sys; sys.modules['helpers'] = None\n"  # any import of the package would fail
            "import numpy as np, keras, tensorflow as tf\n"
            f"x = np.load({str(pipeline / 'x.npy')!r})\n"
            f"k = keras.saving.load_model({str(pipeline / 'export' / (MODEL + '.keras'))!r}).predict(x, verbose=0)\n"
            f"loaded = tf.saved_model.load({str(pipeline / 'export' / (MODEL + '_savedmodel'))!r})\n"
            "s = loaded.serve(tf.constant(x)).numpy()\n"
            f"np.save({str(pipeline / 'p.npy')!r}, np.stack([k, s]))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=pipeline, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-800:]
    k, s = np.load(pipeline / "p.npy")
    expected = [r["confidence"] for r in predict_files(files, "fashion", MODEL)]
    labels = [r["label"] for r in predict_files(files, "fashion", MODEL)]
    assert np.allclose(k.max(axis=1), expected, atol=1e-4) and np.allclose(s, k, atol=1e-6)
    assert [CLASS_NAMES[i] for i in k.argmax(axis=1)] == labels


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray for the whole test run (starting it costs seconds)."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


def test_ray_engine_gives_the_local_engine_s_rows(pipeline, ray_local):
    from helpers.serving import batch

    uploads = write_uploads(pipeline / "day", USERS)
    local = batch.run(uploads, pipeline / "local", model_name=MODEL, chunk_rows=64, progress=False)
    distributed = batch.run(uploads, pipeline / "ray", engine="ray", model_name=MODEL, chunk_rows=64, progress=False,
                            workers=1)
    assert distributed["engine"] == "ray" and distributed["workers"] >= 1 and local["rows"] == distributed["rows"]
    for f in ("predictions.parquet", "offers.csv"):
        assert (pipeline / "local" / f).read_bytes() == (pipeline / "ray" / f).read_bytes()


def test_photos_are_the_default_task_and_a_model_must_match_its_task(pipeline):
    from helpers.core.errors import WeightsNotFoundError
    from helpers.serving import rules, scoring

    assert scoring.DEFAULT_TASK == "clothing" and scoring.RUNTIMES["clothing"] == "tflite"
    with pytest.raises(WeightsNotFoundError, match="'clothing'"):  # the test's weights hold no photo model
        scoring.Scorer()
    with pytest.raises(HelpersError, match="classifies 'fashion', not 'clothing'"):
        scoring.Scorer(MODEL, task="clothing")
    with pytest.raises(HelpersError, match="serves the tasks"):
        scoring.Scorer(MODEL, task="flowers")
    r = rules.load_rules(MODEL)
    other = {k: v for k, v in r.items() if k not in ("version", "sha256")}
    other["classes"] = list(reversed(other["classes"]))
    path = rules.write_rules(other, pipeline / "reordered.json")
    with pytest.raises(rules.RulesError, match="other categories"):
        scoring.Scorer(MODEL, rules_file=path)
    r = _cli(["score", pipeline / "u.csv", "--out", pipeline / "out", "--task", "flowers"])
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_tflite_runtime_gives_the_keras_rows(pipeline):
    """The photo task's runtime (TensorFlow Lite, the converted model carried in the scorer's spec) gives the
    labels, verdicts and counts of the Keras runtime; a scorer rebuilt from the spec (a Ray worker) gives the same
    bytes."""
    from helpers.serving import scoring

    uploads = write_uploads(pipeline / "day", USERS)
    frame = pd.read_csv(uploads)
    keras_rows = scoring.Scorer(MODEL).score(frame, pipeline / "day")
    lite = scoring.Scorer(MODEL, runtime="tflite")
    assert lite.info["runtime"] == "tflite" and lite.spec()["tflite"][:8]
    lite_rows = lite.score(frame, pipeline / "day")
    for c in ("label", "in_domain", "counts", "error", "task"):
        pd.testing.assert_series_equal(keras_rows[c], lite_rows[c])
    assert np.nanmax(np.abs(keras_rows["confidence"] - lite_rows["confidence"])) <= 2e-4
    worker = scoring.Scorer.from_spec(lite.spec())
    pd.testing.assert_frame_equal(worker.score(frame, pipeline / "day"), lite_rows)


def test_demo_day_is_deterministic_and_complete(tmp_path):
    from helpers.core import paths

    shared = paths.REPO_ROOT.parent / "shared"
    if not (shared / "datasets" / "gear_images").is_dir():
        pytest.skip("the demo needs ../shared (Fashion-MNIST, gear and flower photos)")
    env = {"HELPERS_SHARED_DIR": str(shared)}
    for d in ("a", "b"):
        r = _cli(["demo", tmp_path / d, "--task", "fashion", "--users", 12, "--seed", 3], env=env)
        assert r.returncode == 0, r.stderr[-800:]
    a, b = (tmp_path / d / "uploads.csv" for d in ("a", "b"))
    assert a.read_bytes() == b.read_bytes()
    up = pd.read_csv(a)
    truth = pd.read_csv(tmp_path / "a" / "truth.csv")
    assert len(truth) == 12 and set(up["user_id"]) <= set(truth["user_id"])
    assert {"Fashion-MNIST test image", "non-fashion photo"} <= set(up["source"]) or len(up) < 40
    assert up["source"].str.startswith("broken file").sum() == 4
    present = [(tmp_path / "a" / i).is_file() for i in up["image"]]
    assert sum(not p for p in present) == 1  # only the deliberately missing file


def test_photo_day_is_deterministic_and_made_of_validation_photos(tmp_path):
    from helpers.core import paths

    shared = paths.REPO_ROOT.parent / "shared"
    if not (shared / "datasets" / "clothing_photos").is_dir():
        pytest.skip("the photo day needs ../shared (clothing, gear and flower photos)")
    env = {"HELPERS_SHARED_DIR": str(shared)}
    for d in ("a", "b"):
        r = _cli(["demo", tmp_path / d, "--users", 15, "--seed", 1], env=env)  # clothing: the default
        assert r.returncode == 0, r.stderr[-800:]
    a = tmp_path / "a" / "uploads.csv"
    assert a.read_bytes() == (tmp_path / "b" / "uploads.csv").read_bytes()
    up = pd.read_csv(a)
    from helpers.inputs import clothing_photos

    manifest = pd.read_csv(clothing_photos.ensure_manifest())
    val_names = set(manifest.loc[manifest["split"] == "val", "file"].map(lambda f: f.split("/")[-1]))
    photos = up[up["source"] == "clothing photo"]
    assert len(photos) > 50 and photos["image"].map(lambda f: f.split("/")[-1]).isin(val_names).all()
    assert set(photos["true_label"]) <= set(clothing_photos.CLASS_NAMES)
    assert up["source"].str.startswith("broken file").sum() == 4
    assert set(pd.read_csv(tmp_path / "a" / "truth.csv")["favourite"]) <= set(clothing_photos.CLASS_NAMES)
