"""Where the two tables come from.

Reference: the train split (`paths.train`), the data the deployed model was fitted on,
already clean. Current: the first source of `drift.sources` that has data —

- `inference_log`: what the service was asked during the last `drift.window_days` days,
  raw as received, with the probabilities it answered, read from the log store
  (`serve.inference_log.url`, only the days of the window); with the delayed labels of
  `drift.labels` joined in (drift/labels.py), so that performance drift has the truth;
- `file`: `drift.file`, a CSV/Parquet path, an http(s) URL, or a DVC-tracked file that
  is pulled from the DVC remote when it is not in the work tree;
- `sample`: the seeded generator's drifted batch (the demo on a fresh clone, `drift/demo.py`).

Raw current values are cleaned with `cleaning.clean_features`, the code the service runs
on every request, so the check sees what the model sees.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from mlops_template.data.read import DataFileError, read_raw_table
from mlops_template.drift.labels import LabelsError, attach_labels, read_labels
from mlops_template.errors import UserError
from mlops_template.features import contract
from mlops_template.logstore import META_COLUMNS, LogStore, LogStoreError
from mlops_template.params import DriftSource, Params

SourceKind = DriftSource


class CannotCheckError(UserError):
    """The check cannot run; the message says what is missing and what to do."""


@dataclass(frozen=True)
class CurrentBatch:
    raw: pd.DataFrame  # values as received (raw spellings), one row per prediction or record
    kind: SourceKind
    description: str
    probabilities: np.ndarray | None = None  # what the service answered, when logged
    model_versions: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def load_reference(params: Params) -> pd.DataFrame:
    path = params.paths.train
    if not path.exists():
        raise CannotCheckError(
            f"the reference data {path} (the train split the deployed model was fitted on) is missing: "
            "run `make run` (or `dvc pull`) first"
        )
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise CannotCheckError(f"the reference data {path} cannot be read ({exc}); run `make run` again") from exc


def _from_log(params: Params, now: datetime) -> CurrentBatch | None:
    since = now - timedelta(days=params.drift.window_days)
    url = params.serve.inference_log.location()
    try:
        log = LogStore(url).read(since=since)
        labels = read_labels(params) if not log.empty else None
    except (LogStoreError, LabelsError) as exc:
        raise CannotCheckError(str(exc)) from exc
    if log.empty:
        return None
    for (
        column
    ) in contract().columns:  # free text is not logged (no model reads it): missing, as in an export without it
        if column.role == "text" and column.name not in log:
            log[column.name] = pd.Series(pd.NA, index=log.index, dtype="string")
    notes: list[str] = []
    if labels is not None:
        log, matched = attach_labels(log, labels)
        id_column = contract().id_column
        unidentified = int(log[id_column.name].isna().sum()) if id_column and id_column.name in log else len(log)
        notes.append(
            f"labels: {matched:,} of the {len(labels):,} labels at {params.drift.labels.location()} "
            "belong to a prediction in the window"
            + (f"; {unidentified:,} predictions were sent without an id and cannot get one" if unidentified else "")
        )
    probabilities = None
    if "probability" in log and log["probability"].notna().all():
        probabilities = log["probability"].to_numpy(dtype=float)
    versions = tuple(sorted(log["model_version"].dropna().astype(str).unique())) if "model_version" in log else ()
    return CurrentBatch(
        raw=log.drop(columns=[c for c in META_COLUMNS if c in log]),
        kind="inference_log",
        description=f"inference log {url} since {since:%Y-%m-%d %H:%M} UTC ({params.drift.window_days} days)",
        probabilities=probabilities,
        model_versions=versions,
        notes=tuple(notes),
    )


def _pull_with_dvc(path: Path) -> None:
    """Fetch a DVC-tracked file from the configured DVC remote into the work tree."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with Repo() as repo:
            repo.pull(targets=[str(path)])
    except DvcException as exc:
        raise CannotCheckError(
            f"drift.file {path} is not in the work tree and `dvc pull {path}` failed ({exc}); "
            "check that the file is DVC-tracked and that the DVC remote is reachable"
        ) from exc


def read_table(source: str) -> pd.DataFrame:
    """A CSV/Parquet path or URL as a table of raw values; a DVC-tracked path is pulled first."""
    from mlops_template.data.ingest import fetch, is_url

    try:
        if is_url(source):
            suffix = Path(source.split("?", maxsplit=1)[0]).suffix or ".csv"
            with tempfile.TemporaryDirectory() as tmp:
                local = fetch(source, Path(tmp) / f"current{suffix}")
                return read_raw_table(local)
        path = Path(source)
        if not path.exists() and Path(".dvc").is_dir():
            _pull_with_dvc(path)
        return read_raw_table(path)
    except DataFileError as exc:
        raise CannotCheckError(f"the current data cannot be read: {exc}") from exc


def _from_file(params: Params, file: str | None) -> CurrentBatch | None:
    source = file or params.drift.file
    if not source:
        return None
    return CurrentBatch(raw=read_table(source), kind="file", description=f"file {source}")


def load_current(
    params: Params,
    now: datetime,
    *,
    source: SourceKind | None = None,
    file: str | None = None,
) -> CurrentBatch:
    """The first configured source with data (or only `source`, when given)."""
    order: tuple[SourceKind, ...] = (source,) if source else params.drift.sources
    if file and not source:
        order = ("file",)
    tried = []
    for kind in order:
        batch: CurrentBatch | None
        if kind == "inference_log":
            batch = _from_log(params, now)
            tried.append(f"inference log {params.serve.inference_log.location()}: no predictions in the window")
        elif kind == "file":
            batch = _from_file(params, file)
            tried.append("file: drift.file is empty (a CSV/Parquet path, URL or DVC-tracked file of recent records)")
        else:  # "sample": the demo, the only way the drift check reaches the data generator
            from mlops_template.drift.demo import demo_batch

            batch = demo_batch(params)
        if batch is not None:
            return batch
    raise CannotCheckError("no current data: " + "; ".join(tried) + " (set drift.sources/drift.file in params.yaml)")
