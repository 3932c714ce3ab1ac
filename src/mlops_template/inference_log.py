"""The inference log: what the service was asked and what it answered.

The service appends one JSON line per predicted batch; the drift check reads the lines
back as a table, one row per prediction. Each process writes its own file per UTC day
(`predictions-YYYY-MM-DD-<pid>.jsonl`), so several workers never interleave lines, and a
file is only ever appended to, so a crash loses at most the batch being written.

A line, column-wise so that writing a batch is one orjson call rather than one object and
one `json.dumps` per prediction:

    {"timestamp": ISO-8601 UTC, "model_version": str, "rows": n,
     "probability": [n floats], "label": [n booleans],
     "features": {column: [n values as received]}}

Values are as the client sent them (a category's spelling, "Y" for a yes: the drift check
needs unseen categories as received), null when missing, dates as ISO strings. A line in
the earlier format (one prediction, `probability` a number and each feature a value) is
read as a batch of one, so logs written before the change still count.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

META_COLUMNS = ("timestamp", "model_version", "probability", "label")
_FILE_PREFIX = "predictions-"
_WRITE_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE


class InferenceLogError(ValueError):
    """A complete line of the log that is not a batch; the message names the file and line."""


def _as_json(value: object) -> object:
    """What orjson cannot write itself: pandas' missing markers, timestamps, anything else as text."""
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _column_values(values: np.ndarray) -> np.ndarray | list[Any]:
    """A numpy column as orjson writes it fastest: numbers and booleans as the array itself
    (NaN as null), anything else as a list of Python values (None as null)."""
    if values.dtype.kind in "biuf":
        return np.ascontiguousarray(values)
    if values.dtype.kind in "Mm":  # numpy's tolist() would give integers: pandas' scalars instead
        return pd.Series(values).to_numpy(dtype=object).tolist()
    return values.tolist()


def _feature_columns(features: pd.DataFrame | Mapping[str, np.ndarray]) -> dict[str, np.ndarray | list[Any]]:
    """The features as {column: values}, without building a DataFrame from columns.

    The service has numpy columns: a DataFrame of them would cost more than writing them
    (pandas 3 turns object arrays of strings into Arrow strings, about 2 ms for one row).
    A DataFrame goes through one object array: in pandas 3, taking its columns one by one
    costs tens of microseconds each. Missing values (None, NaN, pd.NA, NaT) become null.
    """
    if isinstance(features, pd.DataFrame):
        names = [str(name) for name in features.columns.tolist()]  # one call: a str Index iterates slowly
        return dict(zip(names, features.to_numpy(dtype=object).T.tolist(), strict=True))
    return {str(name): _column_values(np.asarray(values)) for name, values in features.items()}


class InferenceLog:
    """Appends predicted batches to the day's file of this process; safe across threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._line_ends_checked: set[Path] = set()

    def _path(self, when: datetime) -> Path:
        return self.directory / f"{_FILE_PREFIX}{when.astimezone(UTC):%Y-%m-%d}-{os.getpid()}.jsonl"

    def append_frame(
        self,
        features: pd.DataFrame | Mapping[str, np.ndarray],
        probability: np.ndarray,
        label: np.ndarray,
        model_version: str,
        timestamp: datetime,
    ) -> None:
        """One line for the whole batch: the raw features as received and the answers, row for row.

        `features` is a table or its columns (the service's numpy columns, written as they are).
        """
        probability = np.ascontiguousarray(probability, dtype=np.float64)
        label = np.ascontiguousarray(label, dtype=np.bool_)
        rows = len(probability)
        if rows == 0:
            return
        columns = _feature_columns(features)
        lengths = {len(values) for values in columns.values()}
        if probability.shape != (rows,) or label.shape != (rows,) or not lengths <= {rows}:
            raise ValueError(
                f"inference log: features of {sorted(lengths)} rows, {probability.shape} probabilities "
                f"and {label.shape} labels"
            )
        line = orjson.dumps(
            {
                "timestamp": timestamp.astimezone(UTC).isoformat(),
                "model_version": model_version,
                "rows": rows,
                "probability": probability,
                "label": label,
                "features": columns,
            },
            option=_WRITE_OPTIONS,
            default=_as_json,
        )
        path = self._path(timestamp)
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with path.open("a+b") as handle:
                if path not in self._line_ends_checked and handle.seek(0, os.SEEK_END) > 0:
                    # A line torn by a crash (this pid's file from an earlier run, or a failed
                    # write) must not swallow the next batch: start it on a line of its own.
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        handle.write(b"\n")
                self._line_ends_checked.add(path)
                try:
                    handle.write(line)
                    handle.flush()
                except OSError:
                    self._line_ends_checked.discard(path)
                    raise


@dataclass(frozen=True)
class _Batch:
    timestamp: str
    model_version: str
    rows: int
    probability: list[Any]
    label: list[Any]
    features: dict[str, list[Any]]


def _batch(record: dict[str, Any]) -> _Batch:
    """A decoded line as a batch; a line of the earlier one-prediction format is a batch of one."""
    if "rows" not in record:
        return _Batch(
            record["timestamp"],
            record["model_version"],
            1,
            [record["probability"]],
            [record["label"]],
            {name: [value] for name, value in record["features"].items()},
        )
    batch = _Batch(
        record["timestamp"],
        record["model_version"],
        record["rows"],
        record["probability"],
        record["label"],
        record["features"],
    )
    lengths = {len(batch.probability), len(batch.label), *map(len, batch.features.values())}
    if lengths != {batch.rows}:
        raise ValueError(f"a batch of {batch.rows} rows holds columns of {sorted(lengths)} values")
    return batch


def _file_day(path: Path) -> date | None:
    try:
        return date.fromisoformat(path.name.removeprefix(_FILE_PREFIX)[:10])
    except ValueError:
        return None


def _batches(directory: Path, since: datetime | None) -> Iterator[_Batch]:
    """Every complete line's batch in file order, those before `since` left out.

    A file of a day before `since` is not opened: all its lines are older. A line that does
    not decode (torn by a crash mid-write) is skipped rather than failing the whole read; a
    complete line that is not a batch is an InferenceLogError.
    """
    for path in sorted(directory.glob(f"{_FILE_PREFIX}*.jsonl")):
        day = _file_day(path)
        if since is not None and day is not None and day < since.date():
            continue
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                try:
                    batch = _batch(record)
                    when = datetime.fromisoformat(batch.timestamp)
                    in_window = since is None or when >= since
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    raise InferenceLogError(f"{path}, line {number}: not an inference log batch ({exc!r})") from exc
                if in_window:
                    yield batch


def read_log(directory: Path, since: datetime | None = None) -> pd.DataFrame:
    """All logged predictions since `since` as one table: the feature columns plus META_COLUMNS.

    One row per prediction, in the order logged; `timestamp` is a UTC datetime. Each batch's
    lists are appended to one list per column, which pandas converts once at the end (not
    a dict per row); a column absent from some batches is missing (NaN) in their rows. An
    empty log (or none in the window) is an empty table without columns.
    """
    if since is not None:
        if since.tzinfo is None:
            raise ValueError(f"read_log: `since` must be timezone-aware, got {since!r}")
        since = since.astimezone(UTC)
    features: dict[str, list[Any]] = {}
    probability: list[Any] = []
    label: list[Any] = []
    timestamps: list[str] = []
    versions: list[str] = []
    counts: list[int] = []
    for batch in _batches(directory, since):
        for name in batch.features:
            if name not in features:  # first seen now: missing in the rows before
                features[name] = [np.nan] * len(probability)
        for name, values in features.items():
            received = batch.features.get(name)
            values.extend([np.nan] * batch.rows if received is None else received)
        probability.extend(batch.probability)
        label.extend(batch.label)
        timestamps.append(batch.timestamp)
        versions.append(batch.model_version)
        counts.append(batch.rows)
    if not probability:
        return pd.DataFrame()
    meta = {
        "timestamp": pd.to_datetime(timestamps, utc=True, format="ISO8601").repeat(counts),
        "model_version": np.repeat(np.array(versions, dtype=object), counts).tolist(),
        "probability": probability,
        "label": label,
    }
    return pd.DataFrame(features | meta)


def now() -> datetime:
    return datetime.now(UTC)
