"""Tables for the notebooks and reports: models compared, per-class scores, the most confused pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.models.weights_store import training_seconds


def comparison_table(records, extra: dict | None = None) -> pd.DataFrame:
    """One row per saved model: parameters, epochs, training time, validation and test accuracy.

    The training time is :func:`helpers.models.weights_store.training_seconds`.
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


def html(styler):
    """A pandas ``Styler`` as an HTML display object. Displayed directly, a Styler's plain-text form carries its
    memory address (``<...Styler at 0x7f...>``), which changes on every run and so rewrites the notebook."""
    from IPython.display import HTML

    return HTML(styler.to_html())
