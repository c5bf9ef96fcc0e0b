"""Study settings read at access time: a study package exposes its ``config`` module's UPPER-CASE names as its own,
so that notebooks write ``flowers.EPOCHS`` and a test that shrinks the study (``monkeypatch.setattr(config, ...)``)
is seen by every module of the study. Functions read them when called, never as a default copied at import
(``def f(epochs=None)``, then ``config.EPOCHS if epochs is None else epochs``; ``tests/test_settings.py`` checks)."""

from __future__ import annotations


def settings_of(config):
    """A module-level ``__getattr__`` (PEP 562) that answers UPPER-CASE names from the module ``config``."""
    def __getattr__(name: str):
        if name.isupper() and hasattr(config, name):
            return getattr(config, name)
        raise AttributeError(f"module {config.__name__.rsplit('.', 1)[0]!r} has no attribute {name!r}")

    return __getattr__
