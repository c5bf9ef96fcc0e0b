"""Where things live. Every location can be overridden by an environment variable.

Look-up order for external files (datasets, pretrained weights): the environment variable,
then ``data/`` inside the repository, then ``../shared/`` beside the repository (the team's
machines have no internet; the files are there).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # helpers/core/paths.py -> the repository

#: Environment variables a user can set.
ENV_DATA_DIR = "HELPERS_DATA_DIR"          # replaces <repo>/data
ENV_SHARED_DIR = "HELPERS_SHARED_DIR"      # replaces <repo>/../shared
ENV_WEIGHTS_DIR = "HELPERS_WEIGHTS_DIR"    # replaces <repo>/weights


def data_dir() -> Path:
    """The project's local data folder (git ignores its contents)."""
    return Path(os.environ.get(ENV_DATA_DIR) or REPO_ROOT / "data")


def shared_dir() -> Path:
    """The team's shared folder with datasets and pretrained weights."""
    return Path(os.environ.get(ENV_SHARED_DIR) or REPO_ROOT.parent / "shared")


def weights_dir() -> Path:
    """Where saved models (``NAME.weights.h5`` + ``NAME.json``) live."""
    return Path(os.environ.get(ENV_WEIGHTS_DIR) or REPO_ROOT / "weights")


def manifests_dir() -> Path:
    """Split manifests (small CSV files kept under version control)."""
    return REPO_ROOT / "data" / "manifests"


def candidate_dirs(env_var: str, *relative: str) -> list[Path]:
    """Folders to search, in order: ``$env_var``, ``data/<relative>``, ``../shared/<relative>``.

    ``relative`` is given once per root, e.g. ``("fashion-mnist", "datasets/fashion-mnist")``:
    the first is used under ``data/``, the second under ``../shared/``.
    """
    local_rel, shared_rel = relative if len(relative) == 2 else (relative[0], relative[0])
    out = []
    if os.environ.get(env_var):
        out.append(Path(os.environ[env_var]))
    out.append(data_dir() / local_rel)
    out.append(shared_dir() / shared_rel)
    return out


def display_path(path: Path | str) -> str:
    """A path as shown to users and in notebook outputs: relative to the repository when
    possible, so that outputs do not depend on where the repository was checked out."""
    # normalise without resolving symlinks: ../shared is often a link, and must still show as ../shared
    p = Path(os.path.abspath(path))
    for base, label in ((REPO_ROOT, ""), (REPO_ROOT.parent, "../")):
        try:
            return label + str(p.relative_to(os.path.abspath(base)))
        except ValueError:
            continue
    return str(path)
