"""Every registered architecture builds for its task's input and trains a step on tiny data."""

import numpy as np
import pytest

from helpers.models import architectures, saved_models


@pytest.mark.parametrize("arch,hparams", [
    ("vgg_bn", {"width": 4, "stages": 3, "convs_per_stage": 2, "flip": True}),
    ("vgg_bn", {"width": 4, "stages": 2, "erasing": 0.0, "shift": 0}),
    ("small_resnet", {"width": 4, "stages": 3, "blocks_per_stage": 1, "flip": True}),
    ("catalogue_cnn", {"filters": [4, 8]}),
])
def test_architecture_builds_and_trains_a_step(arch, hparams):
    import keras

    shape = (32, 32, 3) if arch == "catalogue_cnn" else (28, 28, 1)
    model = architectures.build(arch, shape, 10, "softmax", **hparams)
    x = np.random.default_rng(0).integers(0, 256, (16, *shape)).astype("uint8")
    y = np.arange(16) % 10
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    p1 = saved_models.predict_proba(model, x)
    assert p1.shape == (16, 10) and np.allclose(p1.sum(1), 1, atol=1e-5)
    assert np.allclose(p1, saved_models.predict_proba(model, x))  # augmentation is off at inference


def test_unknown_architecture_is_a_clear_error():
    from helpers.core.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="known"):
        architectures.build("nope", (8, 8, 1), 3, "softmax")


def test_random_shift_moves_whole_images_by_at_most_max_shift_pixels():
    from helpers.inputs.augment import RandomShift

    x = np.zeros((64, 12, 12, 1), "float32")
    x[:, 5, 6, 0] = 1.0                                  # one bright pixel per image
    layer = RandomShift(2, seed=1)
    out = np.asarray(layer(x, training=True))
    assert out.shape == x.shape and np.allclose(out.sum(axis=(1, 2, 3)), 1.0)  # moved, not blurred or lost
    rows, cols = np.nonzero(out[..., 0])[1:]
    assert set(rows) <= set(range(3, 8)) and set(cols) <= set(range(4, 9))
    assert len(set(zip(rows, cols))) > 10                # every image shifted independently
    assert np.array_equal(np.asarray(layer(x, training=False)), x)
    with pytest.raises(ValueError, match="max_shift"):
        RandomShift(-1)


def test_transfer_unfrozen_from_trains_that_layer_and_every_later_one():
    from helpers.models import transfer

    model = architectures.build("transfer", (28, 28, 1), 10, "softmax", image_size=32, unfrozen_from="block_15_expand")
    base, _ = transfer.parts(model)
    names = [layer.name for layer in base.layers]
    start = names.index("block_15_expand")
    assert all(layer.trainable for layer in base.layers[start:] if layer.weights)
    assert not any(layer.trainable for layer in base.layers[:start] if layer.weights)
    with pytest.raises(ValueError, match="no layer"):
        architectures.build("transfer", (28, 28, 1), 10, "softmax", image_size=32, unfrozen_from="nope")
    with pytest.raises(ValueError, match="not both"):
        architectures.build("transfer", (28, 28, 1), 10, "softmax", image_size=32, unfrozen=True, unfrozen_from="Conv_1")
