"""The package's architecture, checked: layers import only downwards, serving without the training layer, no cycles,
small modules, distinct module names, and a README that names every sub-package and every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "helpers"
#: The layers, in the order data flows; a module may import its own layer and the ones before it. The top-level
#: modules (``helpers/*.py``) are the command lines, above every layer.
LAYERS = ("core", "inputs", "models", "evaluation", "training", "serving", "studies", "reports")
COMMANDS = "commands"
MAX_LINES = 420


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return COMMANDS
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and (PKG / parts[1]).is_dir()) else COMMANDS


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def helpers_imports(path: Path) -> set[str]:
    """Every ``helpers`` module ``path`` imports, at the top or inside a function."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("helpers"):
            for alias in node.names:  # ``from helpers.x import y``: y may be a module of its own
                sub = f"{node.module}.{alias.name}"
                out.add(sub if (PKG.parent / (sub.replace(".", "/") + ".py")).is_file()
                        or (PKG.parent / sub.replace(".", "/")).is_dir() else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path.relative_to(ROOT)}: relative import; write helpers.<layer>.<module>")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("helpers"))
    return out


MODULES = {module_name(p): p for p in sorted(PKG.rglob("*.py"))}
RANK = {name: i for i, name in enumerate(LAYERS)} | {COMMANDS: len(LAYERS)}


def test_the_layers_are_the_sub_packages():
    subs = sorted(p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file())
    assert subs == sorted(LAYERS)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_module_imports_only_its_own_layer_and_the_layers_below(module):
    mine = RANK[layer_of(module)]
    upward = sorted(m for m in helpers_imports(MODULES[module]) if m != "helpers" and RANK[layer_of(m)] > mine)
    assert not upward, f"{module} ({layer_of(module)}) imports a higher layer: {upward}"


def test_no_import_cycles_between_modules():
    graph = {m: {d for d in helpers_imports(p) if d in MODULES and d != m} for m, p in MODULES.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of code
    graph = {m: {d for d in ds if not (m.startswith(d + ".") and MODULES[d].name == "__init__.py")} for m, ds in graph.items()}
    state, cycle = {}, []

    def visit(m, stack):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycle.append(stack[stack.index(d):] + [d] if d in stack else [m, d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycle, f"import cycles: {cycle}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) == "serving"))
def test_serving_loads_saved_models_without_the_training_layer(module):
    """Serving needs a saved model loaded and asked (``helpers.models.saved_models``), never the code that trains."""
    from_training = sorted(m for m in helpers_imports(MODULES[module]) if m == "helpers.training"
                           or m.startswith("helpers.training."))
    assert not from_training, f"{module} imports from the training layer: {from_training}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    n = len(MODULES[module].read_text().splitlines())
    assert n <= MAX_LINES, f"{module} has {n} lines: split it by concern (limit {MAX_LINES})"


def test_the_readme_draws_every_layer_and_names_every_sub_package():
    text = (PKG / "README.md").read_text()
    for path in sorted(p for p in PKG.rglob("*") if p.is_dir() and (p / "__init__.py").is_file()):
        assert f"{path.relative_to(PKG).as_posix()}/" in text, f"helpers/README.md does not mention {path.name}/"
    for command in sorted(p.stem for p in PKG.glob("*.py") if p.stem != "__init__"):
        assert f"helpers.{command}" in text, f"helpers/README.md does not mention the command helpers.{command}"


def readme_row(text: str, layer: str) -> str:
    """The line of helpers/README.md's table for ``layer`` (``| `layer/` | ... |``)."""
    rows = [line for line in text.splitlines() if line.startswith(f"| `{layer}/` |")]
    assert len(rows) == 1, f"helpers/README.md has no table row for {layer}/"
    return rows[0]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if MODULES[m].name != "__init__.py"
                                          and layer_of(m) != COMMANDS))
def test_the_readme_names_every_module_in_its_layers_row(module):
    text = (PKG / "README.md").read_text()
    stem = module.rsplit(".", 1)[1]
    assert f"`{stem}`" in readme_row(text, layer_of(module)), \
        f"helpers/README.md does not name {module} in the {layer_of(module)}/ row"


def test_modules_in_different_layers_have_different_names():
    """A name says which module it is (``inputs.flower_photos``, not a second ``flowers``); a study package's
    ``config`` and the command lines (named after their study) are the exceptions."""
    by_name = {}
    for m, path in MODULES.items():
        if path.name != "__init__.py" and layer_of(m) != COMMANDS and path.stem != "config":
            by_name.setdefault(path.stem, []).append(m)
    assert not {n: ms for n, ms in by_name.items() if len(ms) > 1}
