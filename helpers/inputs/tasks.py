"""Tasks: what the data, the labels, the output layer and the input preprocessing of a model are.

A saved model's record names its task; ``helpers.evaluate`` and ``helpers.predict`` use the task to
find the test split and to turn a user's photo into the model's input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from helpers.core.errors import UnknownNameError

CLOTHING = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Shirt"]
FOOTWEAR_AND_BAGS = ["Sandal", "Sneaker", "Bag", "Ankle boot"]
BINARY_CLASS_NAMES = ["Clothing", "Footwear & Bags"]


@dataclass
class Task:
    name: str
    description: str
    class_names: list[str]
    input_shape: tuple
    load_splits: Callable[..., dict] = field(repr=False)         # {"train"|"val"|"test": (x, y)}
    prepare_image: Callable = field(repr=False)                  # PIL image -> one model input
    #: image-folder tasks: models may take other input sizes than ``input_shape`` (a record's
    #: ``input_shape``); then ``load_splits(input_shape)`` and ``prepare_image(im, input_shape)``.
    sized: bool = False

    def splits(self, input_shape=None) -> dict:
        """The splits as a model of ``input_shape`` takes them (default: the task's own)."""
        if self.sized and input_shape is not None:
            return self.load_splits(tuple(input_shape))
        return self.load_splits()

    def prepare(self, im, input_shape=None) -> np.ndarray:
        """A PIL image as one input of a model of ``input_shape`` (default: the task's own)."""
        if self.sized:
            return self.prepare_image(im, tuple(input_shape or self.input_shape))
        return self.prepare_image(im)

    @property
    def binary(self) -> bool:
        return len(self.class_names) == 2

    @property
    def n_outputs(self) -> int:
        return 1 if self.binary else len(self.class_names)

    @property
    def output_activation(self) -> str:
        return "sigmoid" if self.binary else "softmax"

    @property
    def loss(self) -> str:
        return "binary_crossentropy" if self.binary else "sparse_categorical_crossentropy"


TASKS: dict[str, Task] = {}

#: Modules that register further tasks when imported (the companion studies).
PLUGINS = ("helpers.inputs.gear_photos", "helpers.inputs.flower_photos", "helpers.inputs.clothing_photos")


def register(task: Task) -> Task:
    TASKS[task.name] = task
    return task


def _load_plugins() -> None:
    import importlib

    for module in PLUGINS:
        importlib.import_module(module)


def known() -> list[str]:
    """Every task's name, the companion studies' included."""
    _load_plugins()
    return sorted(TASKS)


def get(name: str) -> Task:
    if name not in TASKS:
        _load_plugins()
    if name not in TASKS:
        raise UnknownNameError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    return TASKS[name]


@lru_cache(maxsize=1)
def fashion_splits() -> dict:
    """Fashion-MNIST as ``{"train", "val", "test"}`` -> ``(x uint8 (N,28,28,1), y int64)``."""
    from helpers.inputs.fashion_mnist import load_fashion_mnist
    from helpers.inputs.splits import split_arrays

    (x, y), (x_test, y_test), _ = load_fashion_mnist()
    (x_tr, y_tr), (x_va, y_va) = split_arrays(x, y)
    return {"train": (x_tr[..., None], y_tr), "val": (x_va[..., None], y_va),
            "test": (x_test[..., None], y_test)}


def to_binary_labels(y) -> np.ndarray:
    """0 = Clothing, 1 = Footwear & Bags."""
    from helpers.inputs.fashion_mnist import CLASS_NAMES

    footwear = np.array([CLASS_NAMES.index(c) for c in FOOTWEAR_AND_BAGS])
    return np.isin(np.asarray(y), footwear).astype(np.int64)


def fashion_binary_splits() -> dict:
    return {k: (x, to_binary_labels(y)) for k, (x, y) in fashion_splits().items()}


def _fashion_input(im) -> np.ndarray:
    from helpers.inputs.images import to_fashion_mnist_style

    return to_fashion_mnist_style(im, 28, crop=True, orient=True)[..., None]


def _fashion_class_names():
    from helpers.inputs.fashion_mnist import CLASS_NAMES

    return list(CLASS_NAMES)


register(Task("fashion", "Fashion-MNIST, 10 classes", _fashion_class_names(), (28, 28, 1),
              fashion_splits, _fashion_input))
register(Task("fashion_binary", "Fashion-MNIST, Clothing vs Footwear & Bags", list(BINARY_CLASS_NAMES),
              (28, 28, 1), fashion_binary_splits, _fashion_input))
