"""One predicted batch as an Arrow table: the request's columns as received, then the answers.

Values stay as the client sent them, so that the drift check sees an unseen category's own
spelling: numbers are float64 (NaN read back as missing), and every other column is text,
as a CSV export would carry it ("Y", "true", "2024-02-29"), null when missing. Text for
every non-number keeps one type per column across files (a column of `True`/"no" values
mixes types in Python), and the cleaning code reads text as it reads a CSV.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

META_COLUMNS = ("timestamp", "model_version", "probability", "label")
TIMESTAMP = pa.timestamp("us", tz="UTC")


def _text(value: object) -> str | None:
    """One value of a non-number column as text; None for any of pandas' missing markers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _column(values: Any) -> pa.Array:
    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return pa.array(array)
    if array.dtype.kind == "M":
        return pa.array(pd.Series(array).map(_text), type=pa.string())
    try:  # the common case: strings and None, converted in C++
        return pa.array(array, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_text(value) for value in array.tolist()], type=pa.string())


def batch_table(
    features: pd.DataFrame | Mapping[str, Any],
    probability: np.ndarray,
    label: np.ndarray,
    model_version: str,
    timestamp: datetime,
) -> pa.Table:
    """The batch as logged: feature columns as received, then META_COLUMNS, row for row."""
    probability = np.asarray(probability, dtype=np.float64)
    label = np.asarray(label)  # bool (binary), class names (multi-class), values (regression)
    if label.dtype == object:
        label = label.astype(str)
    rows = len(probability)
    if isinstance(features, pd.DataFrame):
        columns = {str(name): features[name].to_numpy() for name in features.columns}
    else:
        columns = {str(name): values for name, values in features.items()}
    lengths = {len(values) for values in columns.values()}
    if probability.shape != (rows,) or label.shape != (rows,) or not lengths <= {rows}:
        raise ValueError(
            f"inference log: features of {sorted(lengths)} rows, {probability.shape} probabilities "
            f"and {label.shape} labels"
        )
    if timestamp.tzinfo is None:
        raise ValueError(f"inference log: the timestamp must be timezone-aware, got {timestamp!r}")
    arrays = {name: _column(values) for name, values in columns.items()}
    arrays |= {
        "timestamp": pa.repeat(pa.scalar(timestamp.astimezone(UTC), type=TIMESTAMP), rows),
        "model_version": pa.repeat(pa.scalar(model_version, type=pa.string()), rows),
        "probability": pa.array(probability),
        "label": pa.array(label),
    }
    return pa.table(arrays)
