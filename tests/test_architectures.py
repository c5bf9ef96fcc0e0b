"""Every registered architecture builds for its task's input and trains a step on tiny data."""

import numpy as np
import pytest

from helpers import models, training


@pytest.mark.parametrize("arch,hparams", [
    ("vgg_bn", {"width": 4, "stages": 3, "convs_per_stage": 2, "flip": True}),
    ("vgg_bn", {"width": 4, "stages": 2, "erasing": 0.0, "translate": 0.0}),
    ("catalogue_cnn", {"filters": [4, 8]}),
])
def test_architecture_builds_and_trains_a_step(arch, hparams):
    import keras

    shape = (28, 28, 1) if arch == "vgg_bn" else (32, 32, 3)
    model = models.build(arch, shape, 10, "softmax", **hparams)
    x = np.random.default_rng(0).integers(0, 256, (16, *shape)).astype("uint8")
    y = np.arange(16) % 10
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    p1 = training.predict_proba(model, x)
    assert p1.shape == (16, 10) and np.allclose(p1.sum(1), 1, atol=1e-5)
    assert np.allclose(p1, training.predict_proba(model, x))  # augmentation is off at inference


def test_unknown_architecture_is_a_clear_error():
    from helpers.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="known"):
        models.build("nope", (8, 8, 1), 3, "softmax")
