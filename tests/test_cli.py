import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers import evaluate, predict
from helpers.core.paths import REPO_ROOT


@pytest.fixture
def saved(tiny_dense):
    return tiny_dense


def test_evaluate_prints_json_and_check_passes(saved, capsys):
    assert evaluate.main(["tiny_dense", "--check"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["check"] == "ok" and out["metrics"]["accuracy"] == saved[1]["metrics"]["test"]["accuracy"]


def test_evaluate_check_fails_when_record_differs(saved, isolated_dirs, capsys):
    path = isolated_dirs / "weights" / "tiny_dense.json"
    rec = json.loads(path.read_text())
    rec["metrics"]["test"]["accuracy"] -= 0.05
    path.write_text(json.dumps(rec))
    assert evaluate.main(["--all", "--check"]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out and "check failed" in captured.err


def test_evaluate_unknown_name_is_one_line_not_a_traceback(saved, capsys):
    assert evaluate.main(["does_not_exist"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no saved model 'does_not_exist'") and "Traceback" not in err


def write_inputs(tmp_path):
    good = tmp_path / "good.png"
    arr = np.zeros((40, 40), np.uint8)
    arr[:, 30:38] = 255  # bright stripe on the right third
    Image.fromarray(arr).save(good)
    rgba = tmp_path / "rgba.png"
    Image.fromarray(arr).convert("RGBA").save(rgba)
    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image")
    return [good, rgba, fake, tmp_path / "missing.png"]


def test_predict_lines_and_errors(saved, tmp_path, capsys):
    files = write_inputs(tmp_path)
    assert predict.main(["--task", "tiny", *map(str, files)]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == [str(f) for f in files]
    ok, ok2, bad, missing = lines
    assert set(ok) >= {"file", "label", "confidence", "top3"} and len(ok["top3"]) == 3
    assert ok["label"] == "right" and ok["top3"][0]["label"] == "right"
    assert abs(sum(t["confidence"] for t in ok["top3"]) - 1) < 1e-3
    assert "label" in ok2
    assert "not a readable image" in bad["error"] and "no such file" in missing["error"]


def test_predict_all_good_exits_zero(saved, tmp_path, capsys):
    good = write_inputs(tmp_path)[0]
    assert predict.main(["--task", "tiny", str(good)]) == 0


def test_predict_without_model_or_with_unknown_task(tiny_task, capsys):
    assert predict.main(["--task", "tiny", "x.png"]) == 2
    assert "no saved model for task 'tiny'" in capsys.readouterr().err
    assert predict.main(["--task", "nonsense", "x.png"]) == 2
    assert "unknown task 'nonsense'" in capsys.readouterr().err


def test_predict_command_line_never_shows_a_traceback(tmp_path):
    """The real ``python -m helpers.predict`` process, with a bad file and no model."""
    bad = tmp_path / "fake.jpg"
    bad.write_text("text")
    r = subprocess.run([sys.executable, "-m", "helpers.predict", "--task", "fashion", str(bad)],
                       cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.startswith("error:")


def test_evaluate_rebuilds_every_architecture_in_a_fresh_process(tmp_path):
    """A fresh interpreter knows every architecture (a transfer model, not only those imported by other tests)."""
    code = ("from helpers.models import architectures\n"
            "m = architectures.build('transfer', (8, 8, 1), 3, 'softmax', image_size=32)\n"
            "print(sorted(architectures.ARCHITECTURES))")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-500:]
    assert "transfer" in r.stdout and "own_cnn" in r.stdout


def test_gear_help_prints_usage_and_trains_nothing(monkeypatch, capsys):
    from helpers import gear as gear_command
    from helpers.studies import gear

    for fn in ("train_own_cnn", "train_transfer", "classical_baseline", "record_inference_speeds"):
        monkeypatch.setattr(gear, fn, lambda *a, **k: pytest.fail("--help must not run the study"))
    with pytest.raises(SystemExit) as exit_:
        gear_command.main(["--help"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("usage: python -m helpers.gear")
    with pytest.raises(SystemExit) as exit_:
        gear_command.main(["--retrain-everything"])                   # an unknown option is an error, not a run
    assert exit_.value.code == 2
