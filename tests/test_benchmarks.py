"""The benchmark scripts run end to end (tiny data, random backbone weights): their figures are
recorded by running them for real, this only guards the code path and the results file's shape."""

import importlib.util
import json

import pytest

from helpers.core.paths import REPO_ROOT


@pytest.fixture
def transfer_speed():  # the script is not a package module: load it from its file
    spec = importlib.util.spec_from_file_location("transfer_speed", REPO_ROOT / "benchmarks" / "transfer_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# MobileNetV2 only: the benchmark's code does not depend on the backbone, and ResNet50's cached-feature path is
# tested in test_transfer.py (building ResNet50 here again took 96 s of the suite's 30-minute budget)
@pytest.mark.parametrize("backbone", ["mobilenet_v2"])
def test_transfer_speed_trains_the_same_head_both_ways(transfer_speed, tiny_fashion, isolated_dirs, monkeypatch,
                                                       tmp_path, backbone):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion[0]))
    out = tmp_path / "speed.json"
    transfer_speed.main(["--backbone", backbone, "--image-size", "32", "--n-train", "20", "--n-val", "8", "--epochs", "2",
                         "--batch-size", "4", "--steps-per-execution", "2", "--backbone-weights", "none",
                         "--out", str(out)])
    saved = json.loads(out.read_text())
    assert saved["config"]["steps_per_execution"] == 2 and saved["versions"]["keras"]
    assert list(saved["results"]) == ["frozen", "dense_head", "fine_tuned"]
    for step, r in saved["results"].items():
        assert r["target speed-up"] == transfer_speed.TARGETS[step]
        assert r["target met"] == (r["speed-up per epoch"] >= r["target speed-up"])
        assert len(r["naive epoch seconds"]) == len(r["accelerated epoch CPU seconds"]) == 2
        assert r["naive_seconds_per_epoch"] == pytest.approx(r["naive epoch seconds"][1], abs=1e-3)
        # same seed, same batches: caching changes the speed, not the training
        assert r["accelerated val accuracy per epoch"] == pytest.approx(r["naive val accuracy per epoch"], abs=1e-6)
        assert r["accelerated val loss per epoch"] == pytest.approx(r["naive val loss per epoch"], rel=1e-4)


def test_inference_speed_measures_every_model_in_a_child(tiny_fashion, isolated_dirs, monkeypatch, tmp_path):
    from helpers.training import trainer

    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion[0]))
    trainer.train_or_load("fashion_tiny_dense", task="fashion", architecture="dense",
                           hparams={"units": [8], "dropout": 0.0}, epochs=1, batch_size=16, patience=None)
    spec = importlib.util.spec_from_file_location("inference_speed", REPO_ROOT / "benchmarks" / "inference_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "inference.json"
    # the child process would not see this test's patched md5 table: measure in process, and check that a
    # child's failure is reported with its reason
    with pytest.raises(RuntimeError, match="measuring fashion_tiny_dense failed.*md5"):
        module.measure_in_child("fashion_tiny_dense", 40, 5)
    saved = module.main(["--in-process", "--n-large", "40", "--n-single", "5", "--out", str(out)])
    assert json.loads(out.read_text()) == saved
    r = saved["results"]["fashion_tiny_dense"]
    assert r["n_large"] == 40 and r["images_per_s_batch_512"] > 0 and r["images_per_s_batch_1"] > 0
    assert r["peak_rss_mb"] >= r["rss_mb_before_model"] > 0
    assert r["meets_target"] == (r["images_per_s_batch_512"] >= saved["target_images_per_s_batch_512"])


def test_training_cost_pools_identical_networks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("training_cost", REPO_ROOT / "benchmarks" / "training_cost.py")
    tc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tc)
    base = {"architecture": "vgg_bn", "epochs": 10}
    results = {"a": {**base, "hparams": {"width": 32, "stages": 3, "flip": False}, "seconds_per_epoch": 100.0},
               "b": {**base, "hparams": {"width": 32, "stages": 3, "flip": True}, "seconds_per_epoch": 120.0, "epochs": 20},
               "c": {**base, "hparams": {"width": 32, "stages": 3, "flip": False}, "seconds_per_epoch": 110.0},
               "wide": {**base, "hparams": {"width": 64, "stages": 3}, "seconds_per_epoch": 400.0}}
    pooled = tc.pool(results)
    assert pooled["a"]["network"] == pooled["b"]["network"] != pooled["wide"]["network"]
    assert pooled["a"]["estimated_seconds"] == 1100.0 and pooled["b"]["estimated_seconds"] == 2200.0  # median 110 s
    assert pooled["wide"]["estimated_seconds"] == 4000.0 and pooled["a"]["seconds_per_epoch"] == 100.0


def test_student_cost_needs_two_epochs_and_reports_a_failed_child(tmp_path, capsys):
    """benchmarks/student_cost.py: one epoch would time the tracing; a child that fails says why in one line."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("student_cost", REPO_ROOT / "benchmarks" / "student_cost.py")
    sc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sc)
    with pytest.raises(SystemExit):
        sc.main(["--epochs", "1", "--out", str(tmp_path / "cost.json")])
    assert "at least 2" in capsys.readouterr().err
    with pytest.raises(RuntimeError, match="measuring no_such_student failed: .*unknown experiment"):
        sc.measure_in_child("no_such_student", 2)
    assert not (tmp_path / "cost.json").exists()
