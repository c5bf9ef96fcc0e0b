"""Tables and error analyses built from saved-model records and predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd


def training_seconds(record: dict) -> float | None:
    """What producing a saved model cost: the selection run, plus the refit on training + validation
    images where the protocol has one, plus any replayed run the training started from
    (``notes["init_head_replay_seconds"]``). ``None`` when the record has no timing."""
    t = record.get("training", {})
    if t.get("seconds") is None:
        return None
    return round(t["seconds"] + t.get("refit", {}).get("seconds", 0.0)
                 + record.get("notes", {}).get("init_head_replay_seconds", 0.0), 1)


def comparison_table(records, extra: dict | None = None) -> pd.DataFrame:
    """One row per saved model: parameters, epochs, training time, validation and test accuracy.

    The training time is :func:`training_seconds`.
    """
    rows = []
    for r in records:
        t = r.get("training", {})
        rows.append({"model": r["name"], "parameters": r.get("params"),
                     "epochs run (best)": f"{t.get('epochs_run')} ({t.get('best_epoch')})",
                     "batch size": t.get("batch_size"),
                     "training time (s)": training_seconds(r),
                     "val accuracy": r["metrics"]["val"]["accuracy"],
                     "test accuracy": r["metrics"]["test"]["accuracy"],
                     "test macro F1": r["metrics"]["test"]["macro_f1"]})
    df = pd.DataFrame(rows).set_index("model")
    for col, values in (extra or {}).items():
        df[col] = values
    return df


def most_confused_pairs(y_true, y_pred, class_names, top: int = 5) -> pd.DataFrame:
    """The largest off-diagonal cells of the confusion matrix, with both directions of each pair."""
    from sklearn.metrics import confusion_matrix

    m = confusion_matrix(y_true, y_pred, labels=np.arange(len(class_names)))
    rows = []
    for i in range(len(m)):
        for j in range(i + 1, len(m)):
            rows.append({"pair": f"{class_names[i]} / {class_names[j]}", "total errors": int(m[i, j] + m[j, i]),
                         "true A predicted B": int(m[i, j]), "true B predicted A": int(m[j, i])})
    return pd.DataFrame(rows).sort_values("total errors", ascending=False, kind="stable").head(top).reset_index(drop=True)


def per_class_report(y_true, y_pred, class_names) -> pd.DataFrame:
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, n = precision_recall_fscore_support(y_true, y_pred, labels=np.arange(len(class_names)), zero_division=0)
    return pd.DataFrame({"precision": p, "recall": r, "F1": f, "images": n},
                        index=pd.Index(class_names, name="class")).round(3)


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
    path.write_text(json.dumps(_jsonable(items), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return path
