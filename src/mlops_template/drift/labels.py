"""Delayed labels: the truth about predictions, arriving days after them (did the customer churn?).

Labels come as rows of the contract's id column, its target and a time
(`drift.labels.time_column`), in a CSV/Parquet file, an http(s) URL, or a folder/prefix of
such files (`drift.labels.url`, e.g. s3://bucket/labels/ where the CRM drops a file a day).
A label belongs to the id's latest logged prediction at or before the label's time: the
features the model saw last before the truth was known. That one join serves both uses:

- the drift check: the logged batch carries the target, so performance drift has data;
- the labelled batch (`mlops labelled-batch`): the labelled predictions as contract-shaped
  rows, one per label, the next training data (a new DVC-tracked file in data/labelled/).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd

from mlops_template.checks import parse_boolean
from mlops_template.cleaning import clean_column
from mlops_template.data.read import CSV_SUFFIXES, PARQUET_SUFFIXES
from mlops_template.errors import UserError
from mlops_template.features import contract
from mlops_template.logstore import LogStore
from mlops_template.params import Params

LABEL_TIME = "_label_time"


class LabelsError(UserError):
    """The labels cannot be read or joined; the message names the file, the column and what to do."""


def id_column_name() -> str:
    column = contract().id_column
    if column is None:
        raise LabelsError(
            "the contract (schema.py) has no id column: labels are joined to predictions by it; "
            'declare one with metadata=role("id")'
        )
    return column.name


def _label_files(url: str) -> tuple[fsspec.AbstractFileSystem, list[str]]:
    fs, path = fsspec.core.url_to_fs(url)
    try:
        if fs.isdir(path):
            found = [p for p in sorted(fs.find(path)) if p.lower().endswith((*CSV_SUFFIXES, *PARQUET_SUFFIXES))]
            return fs, [p for p in found if not p.rsplit("/", 1)[-1].startswith((".", "_"))]
        if fs.exists(path):
            return fs, [path]
    except FileNotFoundError:
        pass
    except Exception as exc:  # each storage back end raises its own types
        raise LabelsError(f"the labels at {url} cannot be reached ({type(exc).__name__}: {exc})") from exc
    raise LabelsError(f"the labels at {url}: no such file or folder; check drift.labels.url in params.yaml")


def _read_file(fs: fsspec.AbstractFileSystem, path: str, names: list[str]) -> pd.DataFrame:
    try:
        with fs.open(path, "rb") as handle:
            if path.lower().endswith(PARQUET_SUFFIXES):
                frame = pd.read_parquet(handle)
            else:
                frame = pd.read_csv(handle, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pandas and pyarrow raise several types for a broken file
        raise LabelsError(f"labels file {path}: not a readable CSV/Parquet file ({exc})") from exc
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise LabelsError(
            f"labels file {path}: no column {', '.join(missing)} (it has {', '.join(map(str, frame.columns))}); "
            f"labels need the contract's id and target and drift.labels.time_column"
        )
    return frame[names]


def _as_targets(values: pd.Series, path: str, name: str) -> np.ndarray:
    """The labels as the task's values (read by the contract's own cleaning rule): True/False
    for the positive label of a binary target, class names, or numbers."""
    target = contract().target
    cleaned = pd.Series(clean_column(target, values.astype(object)), index=values.index)
    bad = cleaned.isna()
    if bad.any():
        value = values[bad].iloc[0]
        if target.task == "regression":
            expected = "not a number in the target's range"
        elif target.task == "binary" and all(parse_boolean(label) is not None for label in target.labels):
            expected = "not a yes/no value"
        else:
            expected = f"not one of the target's labels ({', '.join(target.labels)})"
        raise LabelsError(f"labels at {path}: column {name!r} holds {value!r}, {expected}")
    if target.task == "binary":
        return cleaned.to_numpy(dtype=bool)
    if target.task == "regression":
        return cleaned.to_numpy(dtype=float)
    return cleaned.astype(str).to_numpy(dtype=object)


def _target_dtype() -> str:
    return {"binary": "boolean", "regression": "Float64"}.get(contract().task, "object")


def read_labels(params: Params) -> pd.DataFrame | None:
    """All labels as (id as text, target as the task's values, LABEL_TIME in UTC); None when none are configured."""
    url = params.drift.labels.location()
    if not url:
        return None
    id_name, target, when = id_column_name(), contract().target.name, params.drift.labels.time_column
    fs, files = _label_files(url)
    frames = [_read_file(fs, path, [id_name, target, when]) for path in files]
    if not frames:
        return pd.DataFrame({id_name: pd.Series(dtype=str), target: pd.Series(dtype=bool), LABEL_TIME: []})
    labels = pd.concat(frames, ignore_index=True)
    try:
        times = pd.to_datetime(labels[when], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise LabelsError(f"labels at {url}: column {when!r} holds a value that is not a time ({exc})") from exc
    return pd.DataFrame(
        {
            id_name: labels[id_name].astype(str).to_numpy(dtype=object),
            target: _as_targets(labels[target], url, target),
            LABEL_TIME: times.astype("datetime64[us, UTC]"),
        }
    ).dropna(subset=[LABEL_TIME])


def attach_labels(log: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The log with the target column filled where a label belongs (NA elsewhere), and how many
    labels found their prediction. Two labels for one prediction: the later one counts."""
    id_name, target = id_column_name(), contract().target.name
    result = log.copy()
    result[target] = pd.array([pd.NA] * len(log), dtype=_target_dtype())
    if log.empty or labels.empty or id_name not in log:
        return result, 0
    predictions = pd.DataFrame(
        {
            id_name: log[id_name].astype(object).where(log[id_name].notna(), None).to_numpy(dtype=object),
            "timestamp": log["timestamp"].astype("datetime64[us, UTC]").to_numpy(),
            "_row": np.arange(len(log)),
        }
    ).dropna(subset=[id_name])
    predictions[id_name] = predictions[id_name].astype(str)
    matched = pd.merge_asof(
        labels.sort_values(LABEL_TIME, kind="stable"),
        predictions.sort_values("timestamp", kind="stable"),
        left_on=LABEL_TIME,
        right_on="timestamp",
        by=id_name,
        direction="backward",
    ).dropna(subset=["_row"])
    matched = matched.drop_duplicates(subset="_row", keep="last")  # sorted by label time: the latest label
    rows = matched["_row"].astype(int).to_numpy()
    values = result[target].to_numpy(dtype=object)
    values[rows] = matched[target].to_numpy()
    result[target] = pd.array(values, dtype=_target_dtype())
    return result, len(rows)


def labelled_batch(params: Params, since: datetime) -> pd.DataFrame:
    """The labelled predictions logged since `since` as rows of the raw contract (RawRecords'
    columns, in order; what the service does not log, such as free text, is missing): one
    row per label that found its prediction, the next training data."""
    labels = read_labels(params)
    if labels is None:
        raise LabelsError("no labels configured: set drift.labels.url in params.yaml (or MLOPS_LABELS_URL)")
    log = LogStore(params.serve.inference_log.location()).read(since=since)
    joined, count = attach_labels(log, labels)
    target = contract().target.name
    if count == 0:
        raise LabelsError(
            f"none of the {len(labels):,} labels at {params.drift.labels.location()} belongs to a prediction logged "
            f"since {since:%Y-%m-%d} at {params.serve.inference_log.location()} (matched by "
            f"{id_column_name()!r}, label time at or after the prediction)"
        )
    rows = joined[joined[target].notna()].reset_index(drop=True)
    batch = pd.DataFrame(index=rows.index)
    for column in contract().columns:
        batch[column.name] = rows[column.name] if column.name in rows else pd.Series(None, index=rows.index, dtype=str)
    if contract().task == "binary":
        batch[target] = rows[target].astype(bool)
    return batch


def write_batch(batch: pd.DataFrame, path: Path) -> Path:
    from mlops_template.files import write_parquet

    write_parquet(path, batch)
    return path
