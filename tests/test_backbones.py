import numpy as np
import pytest

from helpers.core.errors import PretrainedWeightsUnavailable, UnknownNameError
from helpers.models import backbones


def test_resnet50_path_with_random_weights_on_tiny_input():
    base = backbones.get_backbone("resnet50", (32, 32, 3), weights=None)
    assert base.trainable is False
    out = base(np.zeros((2, 32, 32, 3), np.float32))
    assert tuple(out.shape) == (2, 1, 1, 2048)
    pre = backbones.preprocess_function("resnet50")
    assert pre(np.full((1, 2, 2, 3), 255.0)).shape == (1, 2, 2, 3)


def test_resnet50_imagenet_unavailable_is_reported(monkeypatch):
    """No local file and the download fails (as on machines without internet)."""
    import urllib.error

    from keras.src.utils import file_utils

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no internet")

    monkeypatch.setattr(file_utils, "urlretrieve", refuse)
    with pytest.raises(PretrainedWeightsUnavailable, match=r"resnet50.*data/pretrained"):
        backbones.get_backbone("resnet50", (32, 32, 3))
    assert backbones.imagenet_weights_available("resnet50") is False


def test_local_weights_file_is_preferred(isolated_dirs, monkeypatch):
    ref = backbones.get_backbone("mobilenet_v2", (32, 32, 3), weights=None)
    folder = isolated_dirs / "mine"
    folder.mkdir()
    ref.save_weights(folder / backbones.spec("mobilenet_v2").local_file)
    monkeypatch.setenv("PRETRAINED_DIR", str(folder))
    got = backbones.get_backbone("mobilenet_v2", (48, 48, 3))  # same weights fit any input size
    for a, b in zip(ref.get_weights(), got.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shared_mobilenet_v2_imagenet_weights_load():
    from helpers.core.paths import REPO_ROOT

    shared = REPO_ROOT.parent / "shared" / "pretrained" / backbones.spec("mobilenet_v2").local_file
    if not shared.is_file():
        pytest.skip("shared MobileNetV2 weights not present on this machine")
    base = backbones.get_backbone("mobilenet_v2", (96, 96, 3), weights=str(shared))
    first = base.get_layer("Conv1").get_weights()[0]
    assert first.shape == (3, 3, 3, 32) and float(np.abs(first).mean()) > 0.05  # trained, not a fresh init


def test_bad_names_and_sizes():
    with pytest.raises(UnknownNameError, match="known"):
        backbones.get_backbone("vgg99", (96, 96, 3))
    with pytest.raises(ValueError, match="at least 32x32"):
        backbones.get_backbone("mobilenet_v2", (28, 28, 3), weights=None)
    with pytest.raises(PretrainedWeightsUnavailable, match="does not exist"):
        backbones.get_backbone("mobilenet_v2", (32, 32, 3), weights="/nonexistent/w.weights.h5")
