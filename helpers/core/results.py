"""Results files: what a notebook computed, written as sorted, rounded JSON so that the same results give the
same bytes (the reports read them; git shows real changes only)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _jsonable(value):
    """Plain JSON for what the notebook computes: frames become ``{row: {column: value}}``, series
    ``{index: value}``, numpy scalars Python numbers, NaN ``None``; floats are rounded to 6 digits."""
    import math

    if isinstance(value, pd.DataFrame):
        return {str(i): {str(c): _jsonable(v) for c, v in row.items()} for i, row in value.iterrows()}
    if isinstance(value, pd.Series):
        return {str(i): _jsonable(v) for i, v in value.items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(float(value)) else round(float(value), 6)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot export a {type(value).__name__} to a results summary")


def write_summary(path, **items):
    """Write a notebook's results (frames, series, numbers, lists) to the JSON file ``path`` for the reports, sorted
    and rounded so that the same results give the same bytes. Returns the path."""
    import json
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_jsonable(items), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    tmp.replace(path)  # atomic: a crash never leaves half a file
    return path
