"""Did a command change tracked files? ``make test`` saves the work tree's state before the suite and checks it after.

    python tools/tree_state.py save FILE     # the state of every tracked file, to FILE
    python tools/tree_state.py check FILE    # exit 1, naming the files, if any tracked file changed since

The state is the content hash (``git hash-object``) of every tracked file as it is in the work tree. Uncommitted
edits made before the suite are part of the saved state, so a developer's work in progress does not fail the check;
only what the suite itself rewrote does. Outside a git checkout (a downloaded archive) there is nothing to check.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def state() -> dict | None:
    """``{path: content hash}`` of every tracked file in the work tree (``None`` outside a git checkout)."""
    try:
        files = [f for f in _git("ls-files", "-z").split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        return None
    present = [f for f in files if (ROOT / f).is_file()]
    out = subprocess.run(["git", "-C", str(ROOT), "hash-object", "--stdin-paths"], input="\n".join(present),
                         check=True, capture_output=True, text=True).stdout.split()
    result = dict.fromkeys(files, None)
    result.update(zip(present, out))
    return result


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("save", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    action, path = args[0], Path(args[1])
    now = state()
    if now is None:
        print("tree_state: not a git checkout, nothing to check")
        return 0
    if action == "save":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(now))
        return 0
    if not path.is_file():
        print(f"tree_state: {path} is missing (run `save` before the suite)", file=sys.stderr)
        return 2
    before = json.loads(path.read_text())
    changed = sorted(f for f in set(before) | set(now) if before.get(f) != now.get(f))
    if changed:
        print("The test suite changed tracked files (a rerun must leave git clean):", file=sys.stderr)
        for f in changed:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"tree_state: the suite left all {len(now):,} tracked files unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
