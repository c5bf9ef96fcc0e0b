"""Helpers for the Fashion-MNIST image-classifier notebooks.

One sub-package per layer, in the order data flows; a module imports only its own layer and those before it::

    core -> inputs -> models -> evaluation -> training -> serving -> studies -> reports -> commands

- ``core``        paths, errors, checksums, seeds, results files, command-line and notebook plumbing
- ``inputs``      data sets, opening any photo, splits, augmentation, tasks
- ``models``      architectures by name, ImageNet backbones, saved weights and their records
- ``evaluation``  metrics, inference speed, out-of-domain scores
- ``training``    fit or load, cached-feature transfer learning, tuning, calibration, ensembles
- ``serving``     classifying new photos with the deployed model
- ``studies``     one module or sub-package per notebook study
- ``reports``     PDF reports, tables and plots

The top-level modules are the command lines: ``python -m helpers.predict``, ``helpers.evaluate``,
``helpers.run_notebooks``, ``helpers.report``, ``helpers.best_model``, ``helpers.flowers``, ``helpers.gear``.
See ``helpers/README.md`` for every module and where a new function belongs.

Import the submodules you need; importing the package itself does not load TensorFlow.
"""

__version__ = "0.2.0"
