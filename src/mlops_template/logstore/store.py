"""Where the inference log lives: Parquet files under one URL, a folder per day and hour.

A file is written whole or not at all, so a reader never sees half of one: on an object
store a file is one PUT, which the store makes visible only once complete; in a local
folder it is written under a hidden name (pyarrow and `files()` skip those) and renamed.
A write that fails leaves nothing behind, and the writer keeps its rows to try again.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, date, datetime

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem
from pyarrow import fs as arrow_fs

from mlops_template.errors import UserError
from mlops_template.logstore.table import META_COLUMNS, TIMESTAMP

_DATE = "date="
_SUFFIX = ".parquet"
_EXTRAS = {"gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure"}


class LogStoreError(UserError):
    """The log's storage cannot be reached or read; the message names the URL and what to check."""


def _protocol(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "file"


class LogStore:
    """The inference log at `url`; `worker` names this process's files (host and pid by default)."""

    def __init__(self, url: str, *, worker: str | None = None) -> None:
        self.url = url.rstrip("/") or url
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url)
        except ImportError as exc:
            extra = _EXTRAS.get(_protocol(url))
            hint = f"install the `{extra}` extra (uv sync --extra {extra})" if extra else "install its fsspec back end"
            raise LogStoreError(f"the inference log at {url}: no storage back end for it ({exc}); {hint}") from exc
        self.local = isinstance(self.fs, LocalFileSystem)
        self.worker = worker or f"{socket.gethostname()}-{os.getpid()}"

    def __repr__(self) -> str:
        return f"LogStore({self.url!r})"

    def write(self, table: pa.Table, hour: datetime) -> str:
        """Write `table` (rows of one hour, `hour`) as one new file; its path. Raises whatever the
        storage raises when it cannot be written: the caller keeps the rows and retries."""
        hour = hour.astimezone(UTC)
        name = f"{self.worker}-{uuid.uuid4().hex}{_SUFFIX}"
        folder = f"{self.root}/{_DATE}{hour:%Y-%m-%d}/hour={hour:%H}"
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        data = sink.getvalue().to_pybytes()
        path = f"{folder}/{name}"
        if self.local:
            self.fs.makedirs(folder, exist_ok=True)
            hidden = f"{folder}/.{name}.tmp"
            self.fs.pipe_file(hidden, data)
            self.fs.mv(hidden, path)
        else:
            self.fs.pipe_file(path, data)
        return path

    def files(self, since: datetime | None = None) -> list[str]:
        """The log's files, of the days from `since` (UTC) on; only those days' folders are listed."""
        self.fs.invalidate_cache()  # s3fs caches listings: a reader must see files written since
        try:
            days = [
                entry
                for entry in self.fs.ls(self.root, detail=False)
                if entry.rstrip("/").rsplit("/", 1)[-1].startswith(_DATE)
            ]
        except FileNotFoundError:
            self._check_container()
            return []
        if since is not None:
            first = since.astimezone(UTC).date()
            days = [day for day in days if _day(day) is not None and _day(day) >= first]  # type: ignore[operator]
        found: list[str] = []
        for day in sorted(days):
            found += [
                path
                for path in self.fs.find(day)
                if path.endswith(_SUFFIX) and not path.rsplit("/", 1)[-1].startswith((".", "_"))
            ]
        return sorted(found)

    def _check_container(self) -> None:
        """An empty or new prefix is an empty log; a bucket that does not exist is a mistake."""
        if self.local:
            return
        bucket = self.root.split("/", 1)[0]
        if not self.fs.exists(bucket):
            raise LogStoreError(
                f"the inference log at {self.url}: bucket {bucket!r} does not exist; "
                "create it, or correct serve.inference_log.url in params.yaml"
            )

    def read(self, since: datetime | None = None) -> pd.DataFrame:
        """Every prediction logged from `since` on, oldest first: the features as received, then
        META_COLUMNS (`timestamp` a UTC datetime). No predictions: an empty table without columns.
        A column absent from some files is missing in their rows; a storage that cannot be
        reached or a file that is not Parquet is a LogStoreError naming the URL."""
        if since is not None and since.tzinfo is None:
            raise ValueError(f"read: `since` must be timezone-aware, got {since!r}")
        try:
            files = self.files(since)
            if not files:
                return pd.DataFrame()
            filesystem = (
                arrow_fs.LocalFileSystem() if self.local else arrow_fs.PyFileSystem(arrow_fs.FSSpecHandler(self.fs))
            )
            dataset = _dataset(filesystem, files)
            where = None if since is None else ds.field("timestamp") >= pa.scalar(since.astimezone(UTC), TIMESTAMP)
            table = dataset.to_table(filter=where)
        except LogStoreError:
            raise
        except Exception as exc:  # each back end raises its own types (botocore, aiohttp, OSError, Arrow)
            raise LogStoreError(
                f"the inference log at {self.url} cannot be read: {type(exc).__name__}: {exc}; "
                "check the URL, the network and the credentials in the environment"
            ) from exc
        if table.num_rows == 0:
            return pd.DataFrame()
        features = [name for name in table.column_names if name not in META_COLUMNS]
        frame = table.select([*features, *(name for name in META_COLUMNS if name in table.column_names)]).to_pandas()
        order = np.argsort(table.column("timestamp").to_numpy(), kind="stable")  # a batch's rows keep their order
        return frame.take(order).reset_index(drop=True)


def _dataset(filesystem: arrow_fs.FileSystem, files: list[str]) -> ds.FileSystemDataset:
    """The files as one dataset: their schemas unified (a column absent from a file is null in
    its rows; integers and floats meet as floats), text read as dictionaries. Text columns
    hold few distinct values (categories, yes/no spellings, dates): decoding them as
    dictionaries rather than strings made reading a week a fraction of the time
    (benchmarks/inference_log.py), and they arrive in pandas as categoricals, which the
    cleaning code reads by their distinct values."""
    schema = ds.FileSystemDatasetFactory(filesystem, files, ds.ParquetFileFormat()).inspect(
        promote_options="permissive"
    )
    text = {f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)}
    schema = pa.schema([pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in text else f for f in schema])
    parquet = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=text))
    return ds.FileSystemDataset.from_paths(files, schema=schema, format=parquet, filesystem=filesystem)


def _day(folder: str) -> date | None:
    try:
        return date.fromisoformat(folder.rstrip("/").rsplit("/", 1)[-1].removeprefix(_DATE))
    except ValueError:
        return None
