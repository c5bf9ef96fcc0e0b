"""The flower study's one number format: shares, points, intervals, p-values, speed-ups and seconds, as notebook 08
and the flower report write them (:mod:`~helpers.studies.flowers.story` builds its sentences from these)."""

from __future__ import annotations

from helpers.studies.flowers.evidence import accuracy_interval

MINUS = "\u2212"
#: Between a number and its unit (``87.1 %``, ``128 s``): a no-break space, so that a line never ends between them.
NBSP = "\u00a0"


#: A verdict of ``evidence.compare_seeds`` in words.
VERDICT = {"better": "clearly better", "worse": "clearly worse", "within noise": "within noise"}


def num(x: float, digits: int = 3) -> str:
    """A number with ``digits`` decimals and thousands separators (``1,234.500``; a true minus sign)."""
    return f"{x:,.{digits}f}".replace("-", MINUS)


def signed(x: float, digits: int = 3) -> str:
    """:func:`num` with its sign (``+0.016``, ``−0.051``)."""
    return ("+" if round(x, digits) > 0 else "") + num(x, digits)


def count(n: int) -> str:
    """A count with thousands separators (``2,311``)."""
    return f"{int(n):,}"


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage with one decimal (``87.1 %``)."""
    return f"{num(100 * x, digits)}{NBSP}%"


def points(x: float, digits: int = 1) -> str:
    """A difference of shares in percentage points, with its sign (``+1.6 points``)."""
    return f"{signed(100 * x, digits)}{NBSP}points"


def interval(low: float, high: float) -> str:
    """A 95 % interval of a share (``83.9–89.8 %``)."""
    return f"{num(100 * low, 1)}–{num(100 * high, 1)}{NBSP}%"


def listing(values) -> str:
    """Settings in words: ``0.9``, ``0.9 and 0.99``, ``0.001, 0.01 and 0.1``."""
    words = [f"{v:g}" for v in values]
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def p_value(p: float) -> str:
    """``p = 0.078``, or ``p < 0.001``."""
    return "p < 0.001" if p < 0.001 else f"p = {num(p, 3)}"


def times(x: float) -> str:
    """A speed-up (``178×``)."""
    return f"{num(x, 0)}×"


def seconds(x: float) -> str:
    """Seconds, whole (``1,280 s``)."""
    return f"{num(x, 0)}{NBSP}s"


def with_interval(metrics: dict) -> str:
    """A recorded accuracy and its 95 % Wilson interval: ``87.1 % (95 % CI 83.9–89.8 %)``."""
    ci = accuracy_interval(metrics)
    return f"{pct(ci['accuracy'])} (95{NBSP}% CI {interval(ci['low'], ci['high'])})"
