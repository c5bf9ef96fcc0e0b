"""The architectures, registered by name so that a saved model can be rebuilt from its record.

Every builder takes ``(input_shape, n_outputs, output_activation, **hparams)`` and returns an
*uncompiled* Keras model whose input is raw pixel values (0..255): scaling happens inside the
model, so training, ``helpers.evaluate`` and ``helpers.predict`` feed it the same arrays.
"""

from __future__ import annotations

from typing import Callable

from helpers.core.errors import UnknownNameError

ARCHITECTURES: dict[str, Callable] = {}


def register(name: str):
    def deco(fn):
        ARCHITECTURES[name] = fn
        return fn
    return deco


#: Modules that register further architectures when imported (kept out of this module's imports).
PLUGINS = ("helpers.models.transfer",)


def _load_plugins() -> None:
    import importlib

    for module in PLUGINS:
        importlib.import_module(module)


def build(architecture: str, input_shape, n_outputs: int, output_activation: str, **hparams):
    """Build a registered architecture."""
    if architecture not in ARCHITECTURES:
        _load_plugins()
    if architecture not in ARCHITECTURES:
        raise UnknownNameError(f"unknown architecture {architecture!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[architecture](tuple(input_shape), n_outputs, output_activation, **hparams)


def _output(x, n_outputs, activation, layers):
    # keep the output layer in float32 even under a mixed-precision policy
    return layers.Dense(n_outputs, activation=activation, dtype="float32", name="output")(x)


@register("dense")
def dense(input_shape, n_outputs, output_activation, units=(256, 128), dropout=0.2, name="dense"):
    """A classical feed-forward network: pixels flattened, then fully connected ReLU layers."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="pixels")
    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    x = layers.Flatten(name="flatten")(x)
    for i, u in enumerate(units):
        x = layers.Dense(int(u), activation="relu", name=f"dense_{i + 1}")(x)
        if dropout:
            x = layers.Dropout(float(dropout), name=f"dropout_{i + 1}")(x)
    return keras.Model(inputs, _output(x, n_outputs, output_activation, layers), name=name)


@register("simple_cnn")
def simple_cnn(input_shape, n_outputs, output_activation, filters=32, dense_units=100, name="simple_cnn"):
    """The small CNN often quoted for Fashion-MNIST: Conv(32, 3x3) - MaxPool - Dense(100) - output."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="pixels")
    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    x = layers.Conv2D(int(filters), 3, activation="relu", kernel_initializer="he_uniform", name="conv")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(dense_units), activation="relu", kernel_initializer="he_uniform", name="dense")(x)
    return keras.Model(inputs, _output(x, n_outputs, output_activation, layers), name=name)


@register("own_cnn")
def own_cnn(input_shape, n_outputs, output_activation, filters=32, blocks=2, dense_units=256,
            conv_dropout=0.25, dense_dropout=0.4, augment=True, translate=0.08, flip=False, name="own_cnn"):
    """Our CNN: ``blocks`` x [Conv-BN-ReLU, Conv-BN-ReLU, MaxPool, Dropout] with filters doubling per block,
    then Dense-BN-ReLU-Dropout and the output. Optional augmentation (random shifts of up to ``translate``
    of the size, optional left-right flips) is active only during training."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="pixels")
    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    if augment:
        x = layers.RandomTranslation(translate, translate, fill_mode="constant", name="aug_shift")(x)
        if flip:
            x = layers.RandomFlip("horizontal", name="aug_flip")(x)
    f = int(filters)
    for b in range(int(blocks)):
        for c in range(2):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                              name=f"block{b + 1}_conv{c + 1}")(x)
            x = layers.BatchNormalization(name=f"block{b + 1}_bn{c + 1}")(x)
            x = layers.Activation("relu", name=f"block{b + 1}_relu{c + 1}")(x)
        x = layers.MaxPooling2D(2, name=f"block{b + 1}_pool")(x)
        if conv_dropout:
            x = layers.Dropout(float(conv_dropout), name=f"block{b + 1}_dropout")(x)
        f *= 2
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(dense_units), use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    if dense_dropout:
        x = layers.Dropout(float(dense_dropout), name="dense_dropout")(x)
    return keras.Model(inputs, _output(x, n_outputs, output_activation, layers), name=name)


def _scaled_and_augmented(inputs, shift, flip, erasing, erasing_scale):
    """Pixels scaled to [0, 1], then the training-only augmentation of notebook 05's networks: whole-pixel
    shifts (:class:`~helpers.inputs.augment.RandomShift`), optional left-right flips, random erasing."""
    from keras import layers

    from helpers.inputs.augment import RandomShift

    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    if shift:
        x = RandomShift(int(shift), name="aug_shift")(x)
    if flip:
        x = layers.RandomFlip("horizontal", name="aug_flip")(x)
    if erasing:
        x = layers.RandomErasing(factor=(float(erasing), float(erasing)), scale=tuple(erasing_scale),
                                 value_range=(0, 1), name="aug_erase")(x)
    return x


@register("vgg_bn")
def vgg_bn(input_shape, n_outputs, output_activation, width=32, stages=3, convs_per_stage=2, dropout=0.3,
           shift=3, flip=False, erasing=0.5, erasing_scale=(0.02, 0.25), name="vgg_bn"):
    """A deeper VGG-style BatchNorm network (notebook 05): ``stages`` x [``convs_per_stage`` x Conv-BN-ReLU]
    with ``width`` filters doubling per stage and 2x2 max-pooling between stages, then global average
    pooling, dropout and the output. Training-only augmentation: random shifts of up to ``shift`` pixels
    (pad-and-crop, :class:`~helpers.inputs.augment.RandomShift`), optional left-right flips, and random erasing of a rectangle (probability
    ``erasing``, area a fraction ``erasing_scale`` of the image), which forces the network to use the
    whole item instead of one telltale detail."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="pixels")
    x = _scaled_and_augmented(inputs, shift, flip, erasing, erasing_scale)
    f = int(width)
    for s in range(int(stages)):
        if s:
            x = layers.MaxPooling2D(2, name=f"stage{s + 1}_pool")(x)
        for c in range(int(convs_per_stage)):
            x = layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                              name=f"stage{s + 1}_conv{c + 1}")(x)
            x = layers.BatchNormalization(name=f"stage{s + 1}_bn{c + 1}")(x)
            x = layers.Activation("relu", name=f"stage{s + 1}_relu{c + 1}")(x)
        f *= 2
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="dropout")(x)
    return keras.Model(inputs, _output(x, n_outputs, output_activation, layers), name=name)


@register("small_resnet")
def small_resnet(input_shape, n_outputs, output_activation, width=32, stages=3, blocks_per_stage=2, dropout=0.2,
                 shift=3, flip=False, erasing=0.5, erasing_scale=(0.02, 0.25), name="small_resnet"):
    """A small pre-activation ResNet (notebook 05): a 3x3 stem, then ``stages`` x ``blocks_per_stage`` residual
    blocks [BN-ReLU-Conv3x3-BN-ReLU-Conv3x3 + shortcut] with ``width`` filters doubling per stage (stride 2 and
    a 1x1 projection where the size changes), global average pooling, dropout and the output. The same
    training-only augmentation as :func:`vgg_bn`. Skip connections let gradients reach the early layers and
    give the ensemble a member that errs differently from the VGG-style networks."""
    import keras
    from keras import layers

    def conv(f, stride, label, k=3):
        return layers.Conv2D(f, k, strides=stride, padding="same", use_bias=False, kernel_initializer="he_normal",
                             name=label)

    inputs = keras.Input(input_shape, name="pixels")
    x = _scaled_and_augmented(inputs, shift, flip, erasing, erasing_scale)
    f = int(width)
    x = conv(f, 1, "stem_conv")(x)
    for s in range(int(stages)):
        for b in range(int(blocks_per_stage)):
            stride = 2 if (s and not b) else 1
            tag = f"stage{s + 1}_block{b + 1}"
            pre = layers.Activation("relu", name=f"{tag}_relu1")(layers.BatchNormalization(name=f"{tag}_bn1")(x))
            shortcut = x if stride == 1 and int(x.shape[-1]) == f else conv(f, stride, f"{tag}_proj", k=1)(pre)
            y = conv(f, stride, f"{tag}_conv1")(pre)
            y = layers.Activation("relu", name=f"{tag}_relu2")(layers.BatchNormalization(name=f"{tag}_bn2")(y))
            y = conv(f, 1, f"{tag}_conv2")(y)
            x = layers.Add(name=f"{tag}_add")([shortcut, y])
        f *= 2
    x = layers.Activation("relu", name="final_relu")(layers.BatchNormalization(name="final_bn")(x))
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="dropout")(x)
    return keras.Model(inputs, _output(x, n_outputs, output_activation, layers), name=name)


@register("catalogue_cnn")
def catalogue_cnn(input_shape, n_outputs, output_activation, filters=(16, 32, 64, 128), dropout=0.3, flip=True,
                  rotate=0.05, zoom=0.1, translate=0.1, name="catalogue_cnn"):
    """Our CNN for colour product photos (notebook 09): training-only augmentation (left-right flips,
    small rotations, zooms and shifts, filling with white like the photos' background), then one
    [Conv 3x3 - BatchNorm - ReLU - MaxPool 2x2] block per entry of ``filters``, global average pooling,
    dropout and the output."""
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="pixels")
    x = layers.Rescaling(1 / 255.0, name="scale")(inputs)
    if flip:
        x = layers.RandomFlip("horizontal", name="aug_flip")(x)
    if rotate:
        x = layers.RandomRotation(float(rotate), fill_mode="constant", fill_value=1.0, name="aug_rotate")(x)
    if zoom:
        x = layers.RandomZoom(float(zoom), fill_mode="constant", fill_value=1.0, name="aug_zoom")(x)
    if translate:
        x = layers.RandomTranslation(float(translate), float(translate), fill_mode="constant", fill_value=1.0,
                                     name="aug_shift")(x)
    for b, f in enumerate(filters):
        x = layers.Conv2D(int(f), 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                          name=f"block{b + 1}_conv")(x)
        x = layers.BatchNormalization(name=f"block{b + 1}_bn")(x)
        x = layers.Activation("relu", name=f"block{b + 1}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"block{b + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout:
        x = layers.Dropout(float(dropout), name="dropout")(x)
    return keras.Model(inputs, _output(x, n_outputs, output_activation, layers), name=name)


@register("ensemble")
def ensemble(input_shape, n_outputs, output_activation, members=(), views=None, name="ensemble"):
    """The average of the softmax outputs of several saved models (``members``: each a dict with the
    member's ``name``, ``architecture`` and ``hparams``, as in its record), each on every view of ``views``
    (test-time augmentation: whole-pixel shifts ``(down, right)``; ``None``: the image as it is). One Keras model
    holding every member, so that it saves, loads, evaluates and predicts like any other
    (``helpers.training.ensemble``)."""
    import keras
    from keras import layers

    from helpers.inputs.augment import Shift

    if len(members) < 2 and not views:
        raise ValueError("an ensemble needs at least two members (or one member and several views)")
    inputs = keras.Input(input_shape, name="pixels")
    shifted = [inputs] if not views else [Shift(dy, dx, name=f"view_{dy}_{dx}".replace("-", "m"))(inputs)
                                          for dy, dx in views]
    outputs = []
    for i, m in enumerate(members):
        sub = build(m["architecture"], input_shape, n_outputs, output_activation,
                    **{**m.get("hparams", {}), "name": f"member_{i + 1}"})
        outputs.extend(sub(x) for x in shifted)
    if len(outputs) == 1:
        return keras.Model(inputs, outputs[0], name=name)
    return keras.Model(inputs, layers.Average(name="average", dtype="float32")(outputs), name=name)
