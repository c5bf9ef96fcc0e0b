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
- ``transfer``        ImageNet-backbone models, cached features, the three-step protocol (notebook 03)
- ``tuning``          KerasTuner search space and equal-budget random search vs Hyperband (notebook 04)
- ``data_understanding``  class balance, statistics, similar classes, duplicates (notebook 01)
- ``reporting``       comparison tables, most-confused pairs, per-class reports
- ``binary``          Clothing vs Footwear & Bags: binarising, scores, McNemar (notebook 07)
- ``best_model``      the best-model study's experiments and experiment log (notebook 05)
- ``calibration``     temperature scaling, expected calibration error, reliability (applied by ``predict``)
- ``error_analysis``  bootstrap per-class intervals, operating points, user simulation, out-of-domain scores (notebook 06)
- ``ensemble``        averaged-softmax ensembles of saved models, saved as models of their own
- ``flowers``         companion study 1: flowers by transfer learning, the SGD study's task functions (notebook 08)
- ``gear``            companion study 2: the outdoor-gear catalogue classifier (notebook 09)
- ``checksums``       md5 / sha256 of files
- ``cli``             how the command-line tools turn user errors into one clear line
- ``evaluate``        ``python -m helpers.evaluate NAME [--check]``
- ``predict``         ``python -m helpers.predict --task TASK FILE...``
- ``run_notebooks``   ``python -m helpers.run_notebooks`` (the main job, ``make run``)

Import the submodules you need; importing the package itself does not load TensorFlow.
"""

__version__ = "0.1.0"
