"""Cheap checks that keep the notebooks honest (nbval itself reruns them: see ``make test``)."""

import json
import re

import pytest

from helpers.core.paths import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(nb_path):
    nb = json.loads(nb_path.read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_notebooks_are_numbered_in_reading_order():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers and numbers == sorted(set(numbers)) and numbers[0] == 1


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_in_order_without_errors_or_machine_paths(nb):
    cells = code_cells(nb)
    assert "notebook.setup()" in "".join(cells[0]["source"]), "the first cell must be the set-up cell"
    counts = [c["execution_count"] for c in cells]
    assert None not in counts and counts == sorted(counts), "run the notebook top to bottom"
    for c in cells:
        for o in c["outputs"]:
            assert o["output_type"] != "error"
            text = "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
            assert not re.search(r"(/work/|/root/|/home/|/tmp/|/content/)", text), text[:200]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_retrain_is_off_and_output_markers_are_justified(nb):
    for c in code_cells(nb):
        src = "".join(c["source"])
        if re.search(r"^RETRAIN\s*=", src, re.M):
            assert re.search(r"^RETRAIN\s*=\s*False\b", src, re.M), "RETRAIN must default to False"
        lines = [line.strip() for line in src.splitlines()]
        for i, line in enumerate(lines):
            if "NBVAL_IGNORE_OUTPUT" in line:
                # nbval only recognises the marker as a comment of its own; the reason goes on the next line
                assert line == "# NBVAL_IGNORE_OUTPUT", f"nbval would not see this marker: {line!r}"
                assert i + 1 < len(lines) and re.match(r"#\s*\S.{10,}", lines[i + 1]), \
                    "say on the next comment line why the output may differ"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_compiles_with_this_python(nb):
    """Catches syntax that only newer Pythons accept (e.g. nested f-strings reusing quotes) in seconds."""
    for i, c in enumerate(code_cells(nb)):
        compile("".join(c["source"]), f"{nb.name}[cell {i}]", "exec")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_carries_execution_timestamps(nb):
    """Timestamps change on every run although the outputs do not; ``python -m helpers.run_notebooks``
    drops them so that an unchanged rerun leaves git clean (JupyterLab adds none unless asked to)."""
    cells = json.loads(nb.read_text())["cells"]
    stamped = [c.get("id") for c in cells if "execution" in c.get("metadata", {})]
    assert not stamped, f"cells with metadata.execution timestamps (rerun with helpers.run_notebooks): {stamped}"
