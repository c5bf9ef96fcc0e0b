"""The offers pipeline's run: a table of uploads in, ``predictions.parquet``, ``offers.csv`` and ``run.json`` out.

The uploads table (CSV or Parquet, columns ``user_id`` and ``image``, extra columns carried through) is read in
chunks of ``chunk_rows``; each chunk is scored by an *engine* and written as one part under ``DIR/_parts/``
(a temporary file, then an atomic rename). A rerun skips the parts already written -- an interrupted run resumes
without rescoring, losing or doubling a row -- and refuses to mix parts of another input, model or rule set. When
every part is there, the parts are streamed into ``predictions.parquet`` (one part in memory at a time), the
offers are made from it (:mod:`helpers.serving.offer_decisions`) and ``run.json`` records the run. Outputs are written
atomically, and the same input gives byte-identical ``predictions.parquet`` and ``offers.csv``.

Engines (:mod:`helpers.serving.engines`): ``local`` scores each chunk in this process (images decoded in a thread
pool, predicted in batches of 512); ``ray`` scores each chunk with Ray Data on a local Ray or a cluster. Both use
the same :class:`~helpers.serving.scoring.Scorer`, so they give the same rows.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core.errors import DataNotFoundError, HelpersError
from helpers.serving import scoring

PARTS = "_parts"
DEFAULT_CHUNK_ROWS = 4096
#: Fault injection for the resume test: the process kills itself (SIGKILL, no clean-up) after writing this many parts.
KILL_AFTER_PARTS_ENV = "HELPERS_OFFERS_KILL_AFTER_PARTS"


class UploadsError(HelpersError):
    """An uploads table that cannot be read or lacks a required column."""


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise UploadsError(f"{path}: the uploads table must be a .csv or .parquet file.")


def check_uploads(path) -> tuple[Path, list[str], int | None]:
    """``(path, columns, rows or None)`` of a readable uploads table with the required columns."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such uploads table (a CSV or Parquet file with columns "
                                f"{', '.join(scoring.REQUIRED_COLUMNS)}).")
    kind = _format(path)
    try:
        if kind == "csv":
            columns, rows = list(pd.read_csv(path, nrows=0).columns), None
        else:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path)
            columns, rows = list(meta.schema_arrow.names), meta.metadata.num_rows
    except (ValueError, OSError) as e:
        raise UploadsError(f"{path}: not a readable {kind} table ({type(e).__name__}: {e}).") from None
    missing = [c for c in scoring.REQUIRED_COLUMNS if c not in columns]
    clash = [c for c in scoring.PREDICTION_COLUMNS if c in columns]
    if missing or clash:
        raise UploadsError(f"{path}: " + (f"missing column(s) {', '.join(missing)}; " if missing else "")
                           + (f"column(s) {', '.join(clash)} would be overwritten by the predictions; "
                              if clash else "") + f"columns found: {', '.join(columns)}.")
    return path, columns, rows


def iter_chunks(path: Path, chunk_rows: int):
    """The uploads table in frames of ``chunk_rows`` rows (CSV columns read as text, so that every chunk has the
    same types); ``user_id`` is always text."""
    if _format(path) == "csv":
        chunks = pd.read_csv(path, chunksize=chunk_rows, dtype=str, keep_default_na=False)
    else:
        import pyarrow.parquet as pq

        chunks = (b.to_pandas() for b in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows))
    for chunk in chunks:
        chunk = chunk.reset_index(drop=True)
        chunk["user_id"] = chunk["user_id"].astype(str)
        yield chunk


def _fingerprint(path: Path, scorer_info: dict, chunk_rows: int) -> dict:
    from helpers.core.checksums import file_digest

    return {"input": str(path.resolve()), "input_sha256": file_digest(path), "chunk_rows": chunk_rows, **scorer_info}


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def _write_text(text: str, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _merge_parts(parts: list[Path], path: Path) -> int:
    """Stream the parts into one Parquet file (atomic); returns the row count."""
    import pyarrow.parquet as pq

    tmp, rows, writer = path.with_name(path.name + ".tmp"), 0, None
    try:
        for part in parts:
            table = pq.read_table(part)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
            rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, path)
    return rows


def run(uploads, out_dir, engine: str = "local", address: str | None = None, model_name: str | None = None,
        chunk_rows: int = DEFAULT_CHUNK_ROWS, workers: int | None = None, restart: bool = False,
        progress: bool = True, task: str | None = None) -> dict:
    """Score ``uploads`` into ``out_dir`` (see the module docstring); returns what ``run.json`` records. ``task``:
    ``clothing`` (photos, the default) or ``fashion`` (thumbnails); with ``model_name`` alone, the model's task."""
    from helpers.serving import engines
    from helpers.serving.offer_decisions import make_offers

    started = time.perf_counter()
    path, columns, total = check_uploads(uploads)
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    out = Path(out_dir)
    parts_dir = out / PARTS
    scorer = engines.make(engine, model_name=model_name, address=address, workers=workers, task=task)
    fingerprint = _fingerprint(path, scorer.info, chunk_rows)
    manifest = parts_dir / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text()) != fingerprint:
        if not restart:
            raise HelpersError(f"{out} holds an unfinished run of another input, model, rule set or chunk size "
                               f"({manifest}): score into another --out folder, or pass --restart to discard it.")
        shutil.rmtree(parts_dir)
    parts_dir.mkdir(parents=True, exist_ok=True)
    _write_text(json.dumps(fingerprint, indent=1) + "\n", manifest)
    kill_after = int(os.environ.get(KILL_AFTER_PARTS_ENV, "0"))

    from tqdm.auto import tqdm

    parts, scored, resumed, scoring_seconds = [], 0, 0, 0.0
    bar = tqdm(total=total, unit="img", desc=f"scoring ({engine})", disable=not progress, smoothing=0.1)
    base_dir = path.parent
    for i, chunk in enumerate(iter_chunks(path, chunk_rows)):
        part = parts_dir / f"part-{i:06d}.parquet"
        parts.append(part)
        if part.is_file():
            resumed += 1
        else:
            t = time.perf_counter()
            frame = scorer.score(chunk, base_dir)
            scoring_seconds += time.perf_counter() - t
            frame.insert(0, "row", np.arange(i * chunk_rows, i * chunk_rows + len(chunk), dtype=np.int64))
            _write_parquet(scoring.normalise(frame), part)
            scored += len(chunk)
            if kill_after and scored and len(parts) - resumed >= kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
        bar.update(len(chunk))
    bar.close()
    out.mkdir(parents=True, exist_ok=True)
    rows = _merge_parts(parts, out / "predictions.parquet") if parts else 0
    predictions = pd.read_parquet(out / "predictions.parquet", columns=["user_id", "label", "counts", "error",
                                                                          "in_domain"]) if rows else None
    if predictions is None:
        raise UploadsError(f"{path}: the uploads table has no rows.")
    offers = make_offers(predictions, scorer.rules)
    _write_text(offers.to_csv(index=False, lineterminator="\n"), out / "offers.csv")
    wall = time.perf_counter() - started
    record = {
        "input": str(path), "input_sha256": fingerprint["input_sha256"], "rows": rows, "users": len(offers),
        "unreadable": int(predictions["error"].notna().sum()),
        "rejected": int((predictions["in_domain"] == False).sum()),  # noqa: E712
        "counted": int(predictions["counts"].sum()), "offers_made": int(offers["offer"].notna().sum()),
        "offers": {k: int(v) for k, v in offers["offer"].value_counts().sort_index().items()},
        **scorer.info, "engine": engine, "workers": scorer.workers, "chunk_rows": chunk_rows,
        "parts": len(parts), "parts_resumed": resumed, "rows_scored_now": scored,
        "scoring_seconds": round(scoring_seconds, 3), "wall_seconds": round(wall, 3),
        "images_per_second": round(scored / scoring_seconds, 1) if scoring_seconds else None,
    }
    _write_text(json.dumps(record, indent=1) + "\n", out / "run.json")
    shutil.rmtree(parts_dir)
    return record
