"""The typst report builder: data in, a reproducible PDF out, its text readable by the tests."""

import datetime as dt

import pytest

from helpers.core.errors import HelpersError
from helpers.reports import pdf

TEMPLATE = """#let d = json("data.json")
#set document(title: "Test report", date: auto)
#set page(numbering: "1 / 1")
= Results
The model reached #d.accuracy on #d.n test images.
#pagebreak()
Second page.
"""


def test_build_is_reproducible_and_its_text_holds_the_data(tmp_path):
    template = tmp_path / "t.typ"
    template.write_text(TEMPLATE)
    date = dt.datetime(2026, 11, 20, 12, 0)
    a = pdf.build(template, {"accuracy": 0.9402, "n": 10000}, tmp_path / "a.pdf", date)
    b = pdf.build(template, {"accuracy": 0.9402, "n": 10000}, tmp_path / "b.pdf", date)
    assert a.read_bytes() == b.read_bytes()
    text = pdf.pdf_text(a)
    assert "0.9402" in text and "10000" in text
    assert pdf.page_count(a) == 2
    c = pdf.build(template, {"accuracy": 0.95, "n": 10000}, tmp_path / "c.pdf", date)
    assert c.read_bytes() != a.read_bytes()


def test_word_count_and_dates_and_clear_errors(tmp_path):
    assert pdf.word_count("Test accuracy is 0.9402 on 10,000 images; it's the own-CNN.") == 10
    recs = [{"saved": "2026-11-20T10:00:00Z"}, {"saved": "2026-11-21T09:00:00Z"}, {}]
    assert pdf.newest_date(recs) == dt.datetime(2026, 11, 21, 9, 0)
    with pytest.raises(HelpersError, match="saved date"):
        pdf.newest_date([{}])
    with pytest.raises(HelpersError, match="does not exist"):
        pdf.build(tmp_path / "none.typ", {}, tmp_path / "x.pdf", dt.datetime(2026, 1, 1))
    template = tmp_path / "t.typ"
    template.write_text(TEMPLATE)
    with pytest.raises(HelpersError, match="make run"):
        pdf.build(template, {}, tmp_path / "x.pdf", dt.datetime(2026, 1, 1), assets=[tmp_path / "fig.png"])
