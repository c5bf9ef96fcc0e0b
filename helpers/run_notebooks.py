"""Execute every notebook in reading order, in place (the main job: ``make run``).

    python -m helpers.run_notebooks [NOTEBOOK ...] [--timeout SECONDS]

Each notebook loads its saved weights (``RETRAIN = False``), so nothing is retrained; outputs are
refreshed and saved. ``make run`` then rebuilds the PDF reports from the refreshed results.

A rerun that reproduces the outputs leaves the file byte-identical (git stays clean): the per-cell execution
timestamps nbclient records (``metadata.execution``) are dropped, and the file is written in the committed
format (nbformat's JSON: sorted keys, one-space indent, UTF-8, final newline). The kernel talks to this
process over CurveZMQ-encrypted TCP where the kernelspec supports it (ipykernel 7 otherwise warns on
stderr that it "is running over TCP without encryption").
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


#: cell metadata that changes on every run although the outputs do not (nbclient's timestamps)
VOLATILE_CELL_METADATA = ("execution",)


def strip_volatile(nb) -> None:
    """Drop, in place, the cell metadata that changes from run to run (see :data:`VOLATILE_CELL_METADATA`), and
    keep only the major and minor Python version that nbclient records (``3.11``, not ``3.11.7``): any 3.11.x
    reproduces the outputs, and another patch release must not rewrite every notebook."""
    for cell in nb["cells"]:
        for key in VOLATILE_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
    info = nb.get("metadata", {}).get("language_info", {})
    if isinstance(info.get("version"), str):
        info["version"] = ".".join(info["version"].split(".")[:2])


def notebook_json(nb) -> str:
    """The notebook's file text in the committed format: nbformat's JSON (sources and outputs split into
    lines, sorted keys, one-space indent, UTF-8 unescaped) with a final newline, as ``nbformat.write`` does."""
    import nbformat

    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _kernel_config():
    """Encrypt the kernel's TCP sockets (CurveZMQ keys provisioned by jupyter_client) where the kernelspec
    declares support and pyzmq has it; ipykernel 7 warns on stderr on every start otherwise."""
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return config


def execute(path, timeout: int | None = None) -> float:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    t = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", config=_kernel_config(),
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as e:
        raise HelpersError(f"{path.name} failed; nothing was overwritten.\n{str(e)[-2000:]}") from None
    strip_volatile(nb)
    text = notebook_json(nb)
    if text != path.read_text(encoding="utf-8"):
        path.write_text(text, encoding="utf-8")
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
