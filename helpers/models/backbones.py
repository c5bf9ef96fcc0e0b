"""Keras application backbones with ImageNet weights resolved from a local file first.

>>> base = get_backbone("mobilenet_v2", (96, 96, 3))          # ImageNet weights, frozen
>>> base = get_backbone("resnet50", (32, 32, 3), weights=None)  # random weights (tests)

Weights look-up for ``weights="imagenet"``: ``$PRETRAINED_DIR``, ``data/pretrained/``,
``../shared/pretrained/`` (file names in :data:`BACKBONES`), then Keras' own download (cached in
``~/.keras/models``). Where none works (no file and no internet, as for ResNet50 on the team's
machines) :class:`~helpers.core.errors.PretrainedWeightsUnavailable` says so and what to do.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from helpers.core import paths
from helpers.core.errors import PretrainedWeightsUnavailable, UnknownNameError

ENV_DIR = "PRETRAINED_DIR"


@dataclass(frozen=True)
class BackboneSpec:
    constructor: str            # attribute of keras.applications
    preprocess_module: str      # keras.applications.<module>.preprocess_input
    local_file: str             # a no-top .weights.h5 file name for this backbone
    min_size: int               # smallest input side the application accepts


BACKBONES = {
    "mobilenet_v2": BackboneSpec("MobileNetV2", "mobilenet_v2", "mobilenet_v2_1.0_224_no_top.weights.h5", 32),
    "resnet50": BackboneSpec("ResNet50", "resnet50", "resnet50_imagenet_no_top.weights.h5", 32),
    "efficientnet_b0": BackboneSpec("EfficientNetB0", "efficientnet", "efficientnet_b0_imagenet_no_top.weights.h5", 32),
}


def spec(name: str) -> BackboneSpec:
    if name not in BACKBONES:
        raise UnknownNameError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}")
    return BACKBONES[name]


def preprocess_function(name: str) -> Callable:
    """The backbone's own ``preprocess_input`` (e.g. MobileNetV2: pixels to [-1, 1])."""
    import importlib

    return importlib.import_module(f"keras.applications.{spec(name).preprocess_module}").preprocess_input


def local_weights_file(name: str) -> Path | None:
    for folder in paths.candidate_dirs(ENV_DIR, "pretrained", "pretrained"):
        f = folder / spec(name).local_file
        if f.is_file():
            return f
    return None


def get_backbone(name: str, input_shape, weights: str | None = "imagenet", trainable: bool = False):
    """A no-top backbone. ``weights``: ``"imagenet"``, ``None`` (random) or a ``.weights.h5`` path."""
    import keras

    s = spec(name)
    if min(input_shape[:2]) < s.min_size:
        raise ValueError(f"{name} needs inputs of at least {s.min_size}x{s.min_size}, got {tuple(input_shape)}; "
                         "resize the images first.")
    ctor = getattr(keras.applications, s.constructor)
    shape = tuple(input_shape)
    if weights == "imagenet":
        local = local_weights_file(name)
        if local is None:
            base = _download(ctor, name, shape)
        else:
            base = ctor(include_top=False, weights=None, input_shape=shape)
            base.load_weights(str(local))
    elif weights is None:
        base = ctor(include_top=False, weights=None, input_shape=shape)
    else:
        if not Path(weights).is_file():
            raise PretrainedWeightsUnavailable(f"weights file {weights} for {name} does not exist.")
        base = ctor(include_top=False, weights=None, input_shape=shape)
        base.load_weights(str(weights))
    base.trainable = trainable
    return base


def _download(ctor, name: str, input_shape):
    """Keras' own download of the ImageNet weights (needs internet), with a clear error otherwise."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(20)
    try:
        return ctor(include_top=False, weights="imagenet", input_shape=tuple(input_shape))
    except Exception as e:  # URLError, HTTPError, socket errors, "Exception: URL fetch failure ..."
        searched = ", ".join(paths.display_path(p) for p in paths.candidate_dirs(ENV_DIR, "pretrained", "pretrained"))
        raise PretrainedWeightsUnavailable(
            f"ImageNet weights for {name} are not available: no local file {spec(name).local_file} "
            f"(looked in {searched}) and Keras could not download them ({type(e).__name__}: {str(e)[:200]}). "
            f"On a machine with internet they download automatically; otherwise put the no-top weights file "
            f"in data/pretrained/ or set ${ENV_DIR}.") from None
    finally:
        socket.setdefaulttimeout(old)


def imagenet_weights_available(name: str) -> bool:
    """True if ImageNet weights for ``name`` can be had (local file, Keras cache, or download)."""
    try:
        get_backbone(name, (32, 32, 3))
        return True
    except PretrainedWeightsUnavailable:
        return False
