"""The deployed model for engineers, loadable without ``helpers``: a ``.keras`` file and a TensorFlow SavedModel.

The exported model takes a batch of prepared images -- for the photo model (task ``clothing``, the default),
``(N, 224, 224, 3)`` RGB photos framed as a centred square (:func:`helpers.inputs.clothing_photos.frame`); for the
thumbnail model (``fashion``), Fashion-MNIST-style images ``(N, 28, 28, 1)``, grey levels 0-255, a light item on a dark
background (``helpers.inputs.images.to_fashion_mnist_style`` turns a photo into one; it needs only numpy and
Pillow) -- and returns *calibrated* class probabilities: the input scaling and the temperature are built
into the graph, and the training-only augmentation layers are left out, so only standard Keras layers remain.
``export.json`` beside the files lists the class names, the temperature, the source weights' sha256 and how to
load each file.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers.core.errors import HelpersError

#: Layers that only act in training (identity at inference): left out of the export.
TRAINING_ONLY = ("RandomShift", "RandomErasing", "RandomFlip", "RandomTranslation", "RandomZoom", "RandomRotation",
                 "Dropout", "GaussianNoise")


#: Backbones whose ``preprocess_input`` is ``pixels / 127.5 - 1``: exported as a standard ``Rescaling`` layer, not
#: the model's Python ``Lambda`` (which a ``.keras`` file can only load with ``safe_mode=False``).
SCALED_TO_PLUS_MINUS_ONE = ("mobilenet_v2",)


def _calibrated(model, inputs, features, out, temperature: float):
    """The serving model's end: ``out``'s weights as logits, divided by ``temperature``, then the softmax."""
    import keras

    logits = keras.layers.Dense(out.units, name="logits")
    z = logits(features)
    logits.set_weights(out.get_weights())
    z = keras.layers.Rescaling(1.0 / float(temperature), name="temperature")(z)
    return keras.Model(inputs, keras.layers.Softmax(name="probabilities")(z), name=f"{model.name}_serving")


def transfer_inference_model(model, temperature: float):
    """The serving copy of a transfer model (pixels -> resizing -> backbone -> pooling -> head): its ``preprocess``
    Lambda replaced by the equivalent ``Rescaling``, the head's training-only layers left out, and
    ``softmax(logits / temperature)`` as its output; weights are shared."""
    import keras

    from helpers.evaluation import out_of_domain

    backbone = next((layer for layer in model.layers if type(layer).__name__ == "Functional"
                     and layer.name != "head"), None)
    if backbone is None or not backbone.name.startswith("mobilenetv2"):
        raise HelpersError(f"model {model.name!r}: only MobileNetV2 transfer models can be exported without their "
                           f"Python preprocessing ({', '.join(SCALED_TO_PLUS_MINUS_ONE)}).")
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    x = model.get_layer("upscale")(inputs)
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocess")(x)
    x = model.get_layer("pool")(backbone(x))
    for layer in model.get_layer("head").layers[1:-1]:
        if type(layer).__name__ not in TRAINING_ONLY:
            x = layer(x)
    return _calibrated(model, inputs, x, out_of_domain.output_layer(model), temperature)


def inference_model(model, temperature: float):
    """A copy of ``model`` (a chain of layers ending in a softmax ``Dense`` named ``output``) with the
    training-only layers removed and ``softmax(logits / temperature)`` as its output; weights are shared."""
    import keras

    if any(layer.name == "head" for layer in model.layers):
        return transfer_inference_model(model, temperature)
    layers = model.layers[1:]
    if any(len(getattr(layer, "_inbound_nodes", [])) > 1 for layer in layers) or not layers or \
            layers[-1].name != "output":
        raise HelpersError(f"model {model.name!r} is not a single chain of layers ending in 'output' (an ensemble?): "
                           "export its members one by one.")
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    x = inputs
    for layer in layers[:-1]:
        if type(layer).__name__ not in TRAINING_ONLY:
            x = layer(x)
    return _calibrated(model, inputs, x, layers[-1], temperature)


#: What each task's exported model takes.
INPUTS = {"clothing": "RGB levels 0-255, the photo framed as a centred square (helpers.inputs.clothing_photos.frame)",
          "fashion": "grey levels 0-255, light item on a dark background"}


def export(out_dir, model_name: str | None = None, task: str = "clothing") -> dict:
    """Write ``<name>.keras``, the SavedModel folder ``<name>_savedmodel/`` and ``export.json`` to ``out_dir``
    (``model_name``: default, ``task``'s deployed model)."""
    from helpers.inputs import tasks
    from helpers.models.saved_models import load, temperature_of
    from helpers.serving.classify import best_model_name

    name = model_name or best_model_name(task)
    model, record = load(name)
    serving = inference_model(model, temperature_of(record))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras_file, saved = out / f"{name}.keras", out / f"{name}_savedmodel"
    serving.save(keras_file)
    import keras
    import tensorflow as tf

    level = tf.get_logger().level
    tf.get_logger().setLevel("ERROR")  # not "INFO: Assets written to <the machine's path>"
    try:
        # an explicit endpoint in inference mode: the default one let a nested backbone's batch normalisation
        # use the batch's statistics
        archive = keras.export.ExportArchive()
        archive.track(serving)
        archive.add_endpoint(name="serve", fn=lambda x: serving(x, training=False),
                             input_signature=[tf.TensorSpec((None, *serving.input_shape[1:]), tf.float32)])
        archive.write_out(str(saved), verbose=False)
    finally:
        tf.get_logger().setLevel(level)
    info = {"model": name, "weights_sha256": record["sha256"], "task": record["task"],
            "classes": tasks.get(record["task"]).class_names, "temperature": temperature_of(record),
            "input": f"float32 (N, {', '.join(str(d) for d in model.input_shape[1:])}), "
                     + INPUTS.get(record["task"], "prepared as the task prepares its images"),
            "output": "calibrated class probabilities (N, classes)",
            "keras": {"file": keras_file.name, "load": f"keras.saving.load_model('{keras_file.name}')"},
            "saved_model": {"folder": saved.name,
                            "load": f"loaded = tf.saved_model.load('{saved.name}'); loaded.serve(images)"}}
    (out / "export.json").write_text(json.dumps(info, indent=1) + "\n")
    return info
