"""Helpers for the Fashion-MNIST image-classifier notebooks.

Small modules, each named for what it holds:

- ``paths``           where the repository, data, weights and shared files live
- ``errors``          the exceptions a user sees, each saying what to do
- ``fashion_mnist``   the Fashion-MNIST loader (md5-verified, offline-aware)
- ``splits``          the seeded, stratified validation split
- ``images``          opening any user photo safely (modes, EXIF, corrupt files)
- ``image_folder``    class-per-folder datasets and their split manifests
- ``backbones``       Keras application backbones with locally resolved ImageNet weights
- ``models``          the architectures, rebuilt by name from a weights record
- ``tasks``           what each task's data, labels and preprocessing are
- ``metrics``         the metrics every run is scored with
- ``weights_store``   saved weights + JSON records, sha256-verified
- ``training``        train-or-load with checkpoints, early stopping and records
- ``plots``           learning curves, confusion matrices, image grids
- ``repro``           seeds, op determinism, quiet TensorFlow logs
- ``notebook``        the set-up every notebook's first cell runs
- ``evaluate``        ``python -m helpers.evaluate NAME [--check]``
- ``predict``         ``python -m helpers.predict --task TASK FILE...``

Import the submodules you need; importing the package itself does not load TensorFlow.
"""

__version__ = "0.1.0"
