"""The transfer-learning architecture: an ImageNet backbone, frozen or partly trained, and a small head.

The full model (what is saved, evaluated and used for prediction) takes raw 28x28 grey images:

    pixels -> resize to S x S -> grey to RGB -> backbone's preprocess_input -> backbone (BatchNorm in
    inference mode) -> global average pooling -> head (optional dense layers) -> softmax

:func:`feature_extractor` and :func:`tail_model` cut the model where the backbone stops changing, so that
:mod:`helpers.training.cached_transfer` trains the head (and a tail) on cached activations.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.models import backbones
from helpers.models.architectures import register


@dataclass(frozen=True)
class TailSpec:
    unfrozen: tuple   # the last two layers with weights, retrained in step 3
    cut: tuple        # layers whose outputs feed them (their activations are cached)


#: "The last two layers" = the last two layers that have weights. MobileNetV2 ends with
#: block_16_project_BN -> Conv_1 (1x1 conv, 320 -> 1280 channels) -> Conv_1_bn -> out_relu (ReLU6).
#: ResNet50 ends with ... conv5_block3_3_conv -> conv5_block3_3_bn -> add (shortcut) -> relu.
TAILS = {
    "mobilenet_v2": TailSpec(("Conv_1", "Conv_1_bn"), ("block_16_project_BN",)),
    "resnet50": TailSpec(("conv5_block3_3_conv", "conv5_block3_3_bn"), ("conv5_block3_2_relu", "conv5_block2_out")),
}

#: Deeper fine-tuning on cached activations: for a layer ``unfrozen_from`` (that layer and every later one
#: train), the layers whose outputs feed it. MobileNetV2's inverted-residual blocks start with
#: ``block_N_expand`` and take the previous block's output (``block_{N-1}_add`` where that block has a skip).
DEEPER_CUTS = {
    "mobilenet_v2": {"block_16_expand": ("block_15_add",), "block_13_expand": ("block_12_add",),
                     "block_10_expand": ("block_9_add",), "block_6_expand": ("block_5_add",)},
}


def tail_cut(backbone: str, unfrozen_from: str | None = None) -> tuple:
    """The layers whose (cached) outputs feed the trained tail: :data:`TAILS`' cut for the last two layers,
    :data:`DEEPER_CUTS`' for a tail that starts at ``unfrozen_from``."""
    if unfrozen_from is None:
        return TAILS[backbone].cut
    cuts = DEEPER_CUTS.get(backbone, {})
    if unfrozen_from not in cuts:
        raise ValueError(f"no cached-tail cut for {backbone} from {unfrozen_from!r}; known: {', '.join(cuts) or 'none'}")
    return cuts[unfrozen_from]


def _head(feature_dim: int, n_outputs: int, activation: str, units=(), dropout=0.0):
    import keras
    from keras import layers

    inputs = keras.Input((feature_dim,), name="features")
    x = inputs
    for i, u in enumerate(units):
        x = layers.Dense(int(u), activation="relu", name=f"head_dense_{i + 1}")(x)
        if dropout:
            x = layers.Dropout(float(dropout), name=f"head_dropout_{i + 1}")(x)
    outputs = layers.Dense(n_outputs, activation=activation, dtype="float32", name="head_output")(x)
    return keras.Model(inputs, outputs, name="head")


def _front(input_shape, backbone: str, image_size: int):
    """Raw pixels -> the backbone's input (resized, RGB, preprocessed)."""
    import keras
    from keras import layers

    pre = backbones.preprocess_function(backbone)
    inputs = keras.Input(input_shape, name="pixels")
    x = layers.Resizing(image_size, image_size, interpolation="bilinear", name="upscale")(inputs)
    if input_shape[-1] == 1:
        x = layers.Concatenate(axis=-1, name="grey_to_rgb")([x, x, x])
    x = layers.Lambda(lambda t: pre(t), name="preprocess")(x)
    return inputs, x


@register("transfer")
def transfer(input_shape, n_outputs, output_activation, backbone="mobilenet_v2", image_size=96,
             head_units=(), dropout=0.0, unfrozen=False, backbone_weights=None, unfrozen_from=None,
             name="transfer"):
    """The full transfer model. ``unfrozen``: the tail layers of :data:`TAILS` are trainable;
    ``unfrozen_from`` (a backbone layer name, deeper transfer learning): that layer and every later one
    are trainable, trained end to end on images (no cached features). BatchNorm layers always run in
    inference mode, so the ImageNet statistics are kept even where their scales and shifts train."""
    import keras
    from keras import layers

    inputs, x = _front(input_shape, backbone, image_size)
    base = backbones.get_backbone(backbone, (image_size, image_size, 3), weights=backbone_weights)
    base.trainable = False
    if unfrozen and unfrozen_from:
        raise ValueError("give either unfrozen (the last two layers) or unfrozen_from (a layer name), not both")
    if unfrozen:
        base.trainable = True
        keep = set(TAILS[backbone].unfrozen)
        for layer in base.layers:
            layer.trainable = layer.name in keep
    if unfrozen_from:
        names = [layer.name for layer in base.layers]
        if unfrozen_from not in names:
            raise ValueError(f"{backbone} has no layer {unfrozen_from!r}")
        start = names.index(unfrozen_from)
        base.trainable = True
        for i, layer in enumerate(base.layers):
            layer.trainable = i >= start
    x = base(x, training=False)  # BatchNorm always in inference mode: ImageNet statistics are kept
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    head = _head(int(x.shape[-1]), n_outputs, output_activation, head_units, dropout)
    return keras.Model(inputs, head(x), name=name)


def parts(model):
    """``(backbone, head)`` sub-models of a full transfer model."""
    base = next(l for l in model.layers if hasattr(l, "layers") and l.name != "head")
    return base, model.get_layer("head")


def feature_extractor(model, backbone: str, with_tail_inputs: bool = False, cut=None):
    """Raw pixels -> pooled features (and the activations at the tail's input, if asked: those of the
    layers ``cut``, by default :data:`TAILS`' cut)."""
    import keras
    from keras import layers

    base, _ = parts(model)
    outputs = [base.output]
    if with_tail_inputs:
        outputs += [base.get_layer(c).output for c in (cut or TAILS[backbone].cut)]
    inner = keras.Model(base.inputs, outputs)
    front_in = model.inputs[0]
    front_out = model.get_layer("preprocess").output
    front = keras.Model(front_in, front_out)
    inputs = keras.Input(model.inputs[0].shape[1:])
    outs = inner(front(inputs), training=False)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    pooled = layers.GlobalAveragePooling2D()(outs[0])
    return keras.Model(inputs, [pooled, *outs[1:]])


def tail_model(model, backbone: str, cut=None):
    """Cached tail-input activations (of the layers ``cut``, by default :data:`TAILS`' cut) -> class
    probabilities, sharing the full model's tail and head layers."""
    import keras
    from keras import layers

    base, head = parts(model)
    cut = tuple(cut or TAILS[backbone].cut)
    cut_tensors = [base.get_layer(c).output for c in cut]
    tail = keras.Model(cut_tensors, base.output, name="tail")
    inputs = [keras.Input(tuple(t.shape[1:]), name=f"cached_{c}") for t, c in zip(cut_tensors, cut)]
    x = tail(inputs if len(inputs) > 1 else inputs[0], training=False)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, head(x), name="tail_and_head")
