"""Execute every notebook in reading order, in place (the main job: ``make run``).

    python -m helpers.run_notebooks [NOTEBOOK ...] [--timeout SECONDS]

Each notebook loads its saved weights (``RETRAIN = False``), so nothing is retrained; outputs are
refreshed and saved. ``make run`` then rebuilds the PDF reports from the refreshed results.
"""

from __future__ import annotations

import argparse
import sys
import time

from helpers.core import cli
from helpers.core.errors import HelpersError
from helpers.core.paths import REPO_ROOT


def notebooks(selected=()):
    nbs = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if selected:
        wanted = {s.rsplit("/", 1)[-1] for s in selected}
        nbs = [n for n in nbs if n.name in wanted or n.stem in wanted]
        if not nbs:
            raise HelpersError(f"no notebook matches {sorted(wanted)}")
    return nbs


def execute(path, timeout: int | None = None) -> float:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    t = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as e:
        raise HelpersError(f"{path.name} failed; nothing was overwritten.\n{str(e)[-2000:]}") from None
    nbformat.write(nb, path)
    return time.perf_counter() - t


def _main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.run_notebooks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="*", help="file names or stems (default: all, in order)")
    ap.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)
    from helpers.inputs.fashion_mnist import find_fashion_mnist
    from helpers.core.paths import display_path

    print(f"Fashion-MNIST: {display_path(find_fashion_mnist())}", flush=True)
    for nb in notebooks(args.notebooks):
        print(f"executing {nb.name} ...", end=" ", flush=True)
        print(f"{execute(nb, args.timeout):.0f} s", flush=True)
    return 0


def main(argv=None) -> int:
    return cli.run(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
