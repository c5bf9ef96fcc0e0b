"""Results files: what a notebook computed, written as sorted, rounded JSON so that the same results give the
same bytes (the reports read them; git shows real changes only).

A model's outputs move in their 6th or 7th digit from one CPU to another (TensorFlow's oneDNN kernels pick other
instructions on AVX2, AVX-512 or SSE4.1 machines). A rerun therefore rewrites a results file only when its content
changed at its meaningful precision (:func:`same_at_precision`, :data:`REL_TOL`, :data:`ABS_TOL`): otherwise the
file on disk stays as it is, byte for byte, and is what the caller goes on with.
"""

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


#: Two numbers agree at the precision a results file means when they differ by at most this share of the larger
#: one, or by at most :data:`ABS_TOL` (one image in 10,000 is 1e-4: a real change; CPU noise is about 1e-6).
REL_TOL = 2e-5
ABS_TOL = 2e-5


def same_at_precision(a, b, rel_tol: float = REL_TOL, abs_tol: float = ABS_TOL) -> bool:
    """Whether two JSON-like values (dicts, lists, numbers, strings, arrays) are the same at a results file's
    meaningful precision: the same structure and keys, equal strings and booleans, numbers within the tolerances."""
    import math

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
            return False
        if a.dtype.kind in "fc":
            scale = max(float(np.nanmax(np.abs(a), initial=0.0)), float(np.nanmax(np.abs(b), initial=0.0)))
            return bool(np.allclose(a, b, rtol=rel_tol, atol=max(abs_tol, rel_tol * scale), equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(same_at_precision(a[k], b[k], rel_tol, abs_tol) for k in a))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(same_at_precision(x, y, rel_tol, abs_tol) for x, y in zip(a, b)))
    if isinstance(a, (bool, np.bool_)) or isinstance(b, (bool, np.bool_)) or a is None or b is None:
        return a is b or (a is not None and b is not None and bool(a) == bool(b) and type(a) is type(b))
    if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
    return a == b


def round_significant(x, digits: int = 4):
    """``x`` (a number or an array) rounded to ``digits`` significant digits, as float64: a threshold is rounded so
    before it is compared, hashed or written, so that CPU noise in the 7th digit cannot move it."""
    a = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.where(a == 0, 0, np.floor(np.log10(np.abs(np.where(a == 0, 1, a)))))
    scale = 10.0 ** (digits - 1 - exponent)
    out = np.round(a * scale) / scale
    return float(out) if out.ndim == 0 else out


def _write_atomic(path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)  # atomic: a crash never leaves half a file


def write_json_if_changed(path, content, **json_args) -> bool:
    """Write ``content`` as JSON to ``path`` unless the file already holds the same content at its meaningful
    precision (:func:`same_at_precision`). Returns whether the file was written."""
    import json
    from pathlib import Path

    path = Path(path)
    if path.is_file():
        try:
            if same_at_precision(json.loads(path.read_text()), content):
                return False
        except json.JSONDecodeError:
            pass  # a broken file is replaced
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, json.dumps(content, ensure_ascii=False, **json_args) + "\n")
    return True


def write_arrays_if_changed(path, arrays: dict) -> dict:
    """Save ``arrays`` to the ``.npz`` file ``path`` unless it already holds the same arrays at their meaningful
    precision. Returns the arrays as they are on disk (the old ones when they were kept)."""
    from pathlib import Path

    path = Path(path)
    if path.is_file():
        with np.load(path) as z:
            old = {k: z[k] for k in z.files}
        if old.keys() == arrays.keys() and all(same_at_precision(old[k], np.asarray(arrays[k])) for k in old):
            return old
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(path)
    return {k: np.asarray(v) for k, v in arrays.items()}


def write_summary(path, **items):
    """Write a notebook's results (frames, series, numbers, lists) to the JSON file ``path`` for the reports, sorted
    and rounded so that the same results give the same bytes; a file that already holds them at their meaningful
    precision is left as it is. Returns the path."""
    from pathlib import Path

    path = Path(path)
    write_json_if_changed(path, _jsonable(items), indent=1, sort_keys=True)
    return path
