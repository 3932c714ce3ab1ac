"""Batch scoring from a file: a CSV or Parquet export posted as the request body.

The file is read by the data gate's reader (`data.read.read_raw_table`, so a broken file
gets the same plain message as in the pipeline) and its rows are checked as a JSON batch
sent as columns is (serving/batch.py); errors name the row, its CSV line and the field.
The target column, which labelled exports carry, is ignored.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from mlops_template.data.read import CSV_SUFFIXES, PARQUET_SUFFIXES, DataFileError, read_raw_table
from mlops_template.features import contract
from mlops_template.serving.batch import columns_from_lists
from mlops_template.serving.request import Columns

MAX_LISTED_ERRORS = 50
CONTENT_TYPES = {
    "text/csv": CSV_SUFFIXES[0],
    "application/csv": CSV_SUFFIXES[0],
    "application/vnd.apache.parquet": PARQUET_SUFFIXES[0],
    "application/x-parquet": PARQUET_SUFFIXES[0],
}


class BatchFileError(ValueError):
    """The upload is not a table of records; the message says why (for a 4xx)."""

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


def read_upload(body: bytes, content_type: str) -> pd.DataFrame:
    """The uploaded table, every CSV value as text (as the gate reads a raw export)."""
    if not body:
        raise BatchFileError("the request body is empty: send the CSV or Parquet file as the body")
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media in CONTENT_TYPES:
        suffix = CONTENT_TYPES[media]
    elif body.startswith(b"PAR1"):  # Parquet's magic bytes
        suffix = PARQUET_SUFFIXES[0]
    elif media in ("", "application/octet-stream", "text/plain"):
        suffix = CSV_SUFFIXES[0]
    else:
        raise BatchFileError(f"unsupported content type {media!r}: send a CSV (text/csv) or Parquet file")
    with tempfile.TemporaryDirectory(prefix="upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(body)
        try:
            return read_raw_table(path)
        except DataFileError as exc:
            raise BatchFileError(str(exc).replace(str(path), "the uploaded file")) from exc


def columns_from_upload(frame: pd.DataFrame, max_rows: int) -> Columns:
    """The file's rows, checked; the errors listed with their row, CSV line and field."""
    if frame.empty:
        raise BatchFileError("the file has a header but no rows")
    frame = frame.drop(columns=[contract().target.name], errors="ignore")
    objects = frame.astype(object).where(frame.notna(), None)  # NaN is not a missing number to pydantic
    try:
        return columns_from_lists({str(name): objects[name].tolist() for name in objects.columns}, max_rows)
    except ValidationError as exc:
        details = []
        for error in exc.errors(include_url=False, include_context=False)[:MAX_LISTED_ERRORS]:
            _, field, row = (*error["loc"], None, None)[:3]  # ("columns", field, row) or ("columns", field)
            details.append(
                {
                    "row": row,
                    "line": row + 2 if isinstance(row, int) else None,  # CSV: the header is line 1
                    "field": field,
                    "message": error["msg"],
                    "value": None if row is None else str(error.get("input"))[:100],
                }
            )
        message = f"{exc.error_count()} error(s) in the uploaded file (the first {len(details)} listed)"
        raise BatchFileError(message, details) from exc
