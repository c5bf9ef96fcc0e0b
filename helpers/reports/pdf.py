"""PDF reports written in typst and filled from results files (``report.pdf``, ``reports/*.pdf``).

A report is a typst template that reads one JSON file of values (``data.json``, written by the report's
Python builder from weight records and results files) and the figures the notebooks export. Nothing in
a template is a typed number. The build is reproducible: the PDF's date is the newest input's date (a
record's ``saved`` time), not the build time, and typst uses its own embedded fonts, so the same inputs
give the same bytes and a test can check that a committed PDF is up to date.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
import tempfile
from pathlib import Path

from helpers.core.errors import HelpersError


def build(template: Path, data: dict, out: Path, date: _dt.datetime, assets=()) -> Path:
    """Compile ``template`` (a ``.typ`` file) with ``data`` as ``data.json`` beside it and ``assets`` (files the
    template includes, copied under their names) into the PDF ``out``, dated ``date``. Returns ``out``."""
    import typst

    template = Path(template)
    if not template.is_file():
        raise HelpersError(f"report template {template} does not exist")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(template, root / template.name)
        for a in assets:
            a = Path(a)
            if not a.is_file():
                raise HelpersError(f"the report needs {a}, which does not exist: run the notebook that exports it "
                                   "(make run) first")
            shutil.copy(a, root / a.name)
        (root / "data.json").write_text(json.dumps(data, indent=1, default=_plain))
        pdf = typst.compile(str(root / template.name), root=str(root), ignore_system_fonts=True,
                            timestamp=int(date.replace(tzinfo=_dt.timezone.utc).timestamp()))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    return out


def _plain(value):
    """JSON for numpy scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} into a report's data")


def newest_date(records) -> _dt.datetime:
    """The latest ``saved`` time of weight records (dicts): the report's date."""
    stamps = [r["saved"] for r in records if r.get("saved")]
    if not stamps:
        raise HelpersError("none of the report's records has a saved date")
    return _dt.datetime.strptime(max(stamps), "%Y-%m-%dT%H:%M:%SZ")


def pdf_text(path) -> str:
    """The text of a PDF, page after page."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def page_count(path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(str(path)).pages)


def word_count(text: str) -> int:
    """Words as a reader counts them: runs of letters or digits (with inner apostrophes, hyphens, points)."""
    return len(re.findall(r"[\w]+(?:[\-'.,][\w]+)*", text))
