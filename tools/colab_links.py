#!/usr/bin/env python3
"""Write the project's web address where Colab needs it (``make colab-links``); stdlib only.

The address lives in ONE place, ``[project.urls] Repository`` in ``pyproject.toml``. From it this tool
(re)writes:

1. an "Open in Colab" badge as the first cell of every notebook (a markdown cell with id ``colab-badge``);
2. the same badges in README.md, between ``<!-- colab-links:start -->`` and ``<!-- colab-links:end -->``
   (inserted after the table of the section "## The notebooks (reading order)" if the markers are missing);
3. the ``REPO_URL = "..."`` line of every notebook's set-up cell (the address it clones in Colab).

    python tools/colab_links.py            # rewrite what is out of date
    python tools/colab_links.py --check    # exit 1 if anything is out of date (writes nothing)

Running it twice changes nothing the second time. Notebooks are written in the format the committed
notebooks use (nbformat's: sorted keys, one-space indent, UTF-8), and only the cells above change.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BRANCH = "main"
BADGE_ID = "colab-badge"
BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
START, END = "<!-- colab-links:start -->", "<!-- colab-links:end -->"
README_SECTION = "## The notebooks (reading order)"
#: the set-up cell's line that this tool owns
REPO_URL_LINE = re.compile(r'^REPO_URL = "[^"]*"(?P<rest>.*)$', re.M)
REPO_URL_COMMENT = "  # written by make colab-links"


def repository_url(root: Path = ROOT) -> str:
    with open(root / "pyproject.toml", "rb") as f:
        url = tomllib.load(f).get("project", {}).get("urls", {}).get("Repository")
    if not url:
        raise SystemExit("pyproject.toml has no [project.urls] Repository = \"https://github.com/OWNER/REPO\"")
    return url.rstrip("/").removesuffix(".git")


def github_slug(url: str) -> str:
    m = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+)", url)
    if not m:
        raise SystemExit(f"Colab opens notebooks from GitHub only; Repository = {url!r} is not "
                         "https://github.com/OWNER/REPO")
    return f"{m.group(1)}/{m.group(2)}"


def colab_url(slug: str, notebook: str) -> str:
    return f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/notebooks/{notebook}"


def badge(slug: str, notebook: str) -> str:
    return f"[![Open In Colab]({BADGE_SVG})]({colab_url(slug, notebook)})"


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _lines(text: str) -> list[str]:
    """A cell source as nbformat stores it: a list of lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True)


def dump_notebook(nb: dict) -> str:
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def updated_notebook(text: str, name: str, slug: str, clone_url: str) -> str:
    nb = json.loads(text)
    cells = [c for c in nb["cells"] if c.get("id") != BADGE_ID]
    cells.insert(0, {"cell_type": "markdown", "id": BADGE_ID, "metadata": {}, "source": [badge(slug, name)]})
    nb["cells"] = cells
    setup = next((c for c in cells if c["cell_type"] == "code"), None)
    source = "".join(setup["source"]) if setup else ""
    if not REPO_URL_LINE.search(source):
        raise SystemExit(f"{name}: the set-up cell (first code cell) has no line REPO_URL = \"...\"")
    new_source = REPO_URL_LINE.sub(lambda m: f'REPO_URL = "{clone_url}"' + (m["rest"] or REPO_URL_COMMENT),
                                   source, count=1)
    if new_source != source:
        setup["source"] = _lines(new_source)
    return dump_notebook(nb)


def readme_block(slug: str, names: list[str]) -> str:
    rows = [f"| `{Path(n).stem}` | {badge(slug, n)} |" for n in names]
    return "\n".join([START, "| notebook | open in Google Colab |", "|---|---|", *rows, END])


def updated_readme(text: str, block: str) -> str:
    if START in text and END in text:
        i, j = text.index(START), text.index(END) + len(END)
        return text[:i] + block + text[j:]
    lines = text.split("\n")
    try:
        at = lines.index(README_SECTION) + 1
    except ValueError:
        raise SystemExit(f"README.md has neither the markers {START} ... {END} nor the section "
                         f"{README_SECTION!r}") from None
    while at < len(lines) and not lines[at].startswith("|"):  # to the section's table ...
        if lines[at].startswith("## "):
            break
        at += 1
    while at < len(lines) and lines[at].startswith("|"):      # ... and past it
        at += 1
    return "\n".join(lines[:at] + ["", block] + lines[at:])


def plan(root: Path = ROOT) -> dict[Path, tuple[str, str]]:
    """``{path: (current text, wanted text)}`` for every file this tool owns."""
    url = repository_url(root)
    slug = github_slug(url)
    out = {}
    nbs = notebooks(root)
    for p in nbs:
        text = p.read_text(encoding="utf-8")
        out[p] = (text, updated_notebook(text, p.name, slug, url + ".git"))
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    out[readme] = (text, updated_readme(text, readme_block(slug, [p.name for p in nbs])))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if a file is out of date; write nothing")
    ap.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    stale = {p: wanted for p, (now, wanted) in plan(args.root).items() if now != wanted}
    for p, wanted in stale.items():
        rel = p.relative_to(args.root)
        if args.check:
            print(f"out of date: {rel} (run `make colab-links`)")
        else:
            p.write_text(wanted, encoding="utf-8")
            print(f"updated {rel}")
    if not stale:
        print("colab links up to date")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
