"""The flower brief's script form: every commented call in scripts/flowers_tasks.py runs when uncommented."""

import ast
import inspect
import re

from helpers.core.paths import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "flowers_tasks.py"


def test_every_commented_call_is_valid_python_calling_an_imported_task():
    from helpers.studies import flowers

    text = SCRIPT.read_text()
    tree = ast.parse(text)
    imported = {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom)
                and node.module == "helpers.studies.flowers" for a in node.names}
    calls = [line[2:] for line in text.splitlines() if re.match(r"# \w+\(.*\)", line)]
    assert len(calls) >= 10, "the brief's ten tasks at least"
    for call in calls:
        expr = ast.parse(call).body[0].value  # uncommented, the line is valid Python
        name = expr.func.id
        assert name in imported, f"{name} is not imported by the script"
        inspect.signature(getattr(flowers, name)).bind(*[None] * len(expr.args), **{k.arg: None for k in expr.keywords})
    assert [c.split("(")[0] for c in calls[:10]] == [f"task_{i}" for i in range(1, 11)]
