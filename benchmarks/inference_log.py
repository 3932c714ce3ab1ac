"""The inference log: what writing costs the service's log thread, and reading a week back the drift check.

    python -m benchmarks.inference_log           # 1M rows; writes benchmarks/results/inference_log.md

The rows are what the service logs: records of the embedded sample as a client sends them,
as the numpy columns of `records_to_columns`, their times spread over the last 7 days.

- Writing: the median time of `batch_table` + `LogStore.write` (one Parquet file in a local
  folder) for 1, 1,000 and 50,000 rows: the log thread's cost per file.
- Reading: `LogStore.read(since=7 days ago)`, as the drift check reads, over 1M rows in
  files of 10,000 rows (a busy service: a file per flush holds many requests) and of 500
  rows (a quieter one: many more files).
- Text as strings: the same 10,000-row files read by pyarrow's defaults (text decoded as
  strings, not dictionaries), the rent `logstore.store._dataset`'s dictionaries must pay.
- Before: the JSON-lines reader this store replaced (`read_log` of
  src/mlops_template/inference_log.py at BEFORE_COMMIT, loaded from git), over the same 1M
  rows in 1,000-row lines, on the same machine in the same run.

Local disk only: on an object store each file is one more request, so fewer, larger files
read faster still. Needs no trained model.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from pyarrow import fs as arrow_fs

from benchmarks.results import write_results
from benchmarks.serving import ROOT, payloads
from benchmarks.serving_profile import median_ms
from mlops_template.logstore import LogStore, batch_table
from mlops_template.logstore.table import TIMESTAMP
from mlops_template.serving.request import record_model, records_to_columns

WINDOW = timedelta(days=7)
BEFORE_COMMIT = "1cab133"
Columns = dict[str, np.ndarray]


def service_columns(folder: Path) -> Columns:
    """1,000 validated sample records as the raw columns the service logs."""
    body = json.loads(payloads(folder, ROOT / "data/sample/customers.csv")["1000"].read_text(encoding="utf-8"))
    model = record_model()
    return records_to_columns([model.model_validate(record) for record in body["records"]])


def rows_of(columns: Columns, rows: int, offset: int = 0) -> Columns:
    """`rows` rows cycling through the sample's columns from `offset`."""
    available = len(next(iter(columns.values())))
    index = (np.arange(rows) + offset) % available
    return {name: values[index] for name, values in columns.items()}


def write_ms(columns: Columns, folder: Path) -> float:
    """Median milliseconds to make one file of these rows."""
    store = LogStore(str(folder))
    rows = len(next(iter(columns.values())))
    probability = np.linspace(0, 1, rows)
    when = datetime.now(UTC)
    return median_ms(lambda: store.write(batch_table(columns, probability, probability >= 0.5, "churn:b", when), when))


def fill(folder: Path, columns: Columns, rows: int, file_rows: int, end: datetime) -> int:
    """`rows` predictions in files of `file_rows`, their times spread evenly over the window."""
    store = LogStore(str(folder))
    files = rows // file_rows
    for index in range(files):
        part = rows_of(columns, file_rows, index * file_rows)
        answers = np.linspace(0, 1, file_rows)
        when = end - WINDOW + WINDOW * (index + 1) / (files + 1)
        store.write(batch_table(part, answers, answers >= 0.5, "churn:b", when), when)
    return files


def plain_read(store: LogStore, since: datetime) -> pd.DataFrame:
    """`LogStore.read` without its dictionaries: pyarrow's defaults, text decoded as strings."""
    dataset = ds.dataset(store.files(since), format="parquet", filesystem=arrow_fs.LocalFileSystem())
    table = dataset.to_table(filter=ds.field("timestamp") >= pa.scalar(since, TIMESTAMP))
    order = np.argsort(table.column("timestamp").to_numpy(), kind="stable")
    return table.to_pandas().take(order).reset_index(drop=True)


def timed(read: Callable[[], object]) -> tuple[float, float, object]:
    """Wall-clock and CPU seconds (all threads of this process) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = read()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def before_module(folder: Path) -> ModuleType:
    """The JSON-lines log module as it was at BEFORE_COMMIT, from git."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:src/mlops_template/inference_log.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = folder / "inference_log_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("inference_log_before", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def before_reader(folder: Path, columns: Columns, rows: int, end: datetime) -> Callable[[], object]:
    """The old log filled with the same rows in 1,000-row lines; its reader over the window."""
    old = before_module(folder)
    log = old.InferenceLog(folder / "before")
    lines = rows // 1000
    for index in range(lines):
        part = rows_of(columns, 1000, index * 1000)
        answers = np.linspace(0, 1, 1000)
        log.append_frame(part, answers, answers >= 0.5, "churn:b", end - WINDOW + WINDOW * (index + 1) / (lines + 1))
    return partial(old.read_log, folder / "before", since=end - WINDOW)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time writing and reading the inference log.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows logged over the 7-day window")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of reads (medians are reported)")
    args = parser.parse_args()
    end = datetime.now(UTC)
    lines = ["## Writing a file (the log thread)", "", "| rows per file | median |", "|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        columns = service_columns(Path(tmp))
        for size in (1, 1_000, 50_000):
            lines.append(f"| {size:,} | {write_ms(rows_of(columns, size), Path(tmp, f'write-{size}')):.2f} ms |")
        readers: dict[str, tuple[Callable[[], object], str]] = {}
        for file_rows in (10_000, 500):
            folder = Path(tmp, f"read-{file_rows}")
            files = fill(folder, columns, args.rows, file_rows, end)
            store = LogStore(str(folder))
            layout = f"{files:,} files, {sum(p.stat().st_size for p in folder.rglob('*.parquet')) / 1e6:,.0f} MB"
            readers[f"Parquet, {file_rows:,} rows a file"] = (partial(store.read, since=end - WINDOW), layout)
            if file_rows == 10_000:
                readers["the same, text as strings (pyarrow's defaults)"] = (
                    partial(plain_read, store, end - WINDOW),
                    layout,
                )
        readers[f"before: JSON lines ({BEFORE_COMMIT}), 1,000 rows a line"] = (
            before_reader(Path(tmp), columns, args.rows, end),
            "1,000 lines",
        )
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in readers}
        load = os.getloadavg()[0]
        for _ in range(args.repeats):  # round after round, so that a busy moment weighs on every reader alike
            for name, (read, _) in readers.items():
                wall, cpu, table = timed(read)
                assert len(table) == args.rows, f"{name}: read {len(table):,} rows of {args.rows:,}"  # type: ignore[arg-type]
                runs[name].append((wall, cpu))
        lines += [
            "",
            f"## Reading {args.rows:,} predictions of the last 7 days back (the drift check)",
            "",
            f"Medians of {args.repeats} interleaved rounds; load average {load:.1f} on "
            f"{os.cpu_count()} cores when they started. CPU: seconds of all this process's threads.",
            "",
            "| log | layout | wall (median) | CPU (median) | rows/s (wall) |",
            "|---|---|---|---|---|",
        ]
        for name, (_, layout) in readers.items():
            wall = float(np.median([run[0] for run in runs[name]]))
            cpu = float(np.median([run[1] for run in runs[name]]))
            lines.append(f"| {name} | {layout} | {wall:.2f} s | {cpu:.2f} s | {args.rows / wall:,.0f} |")
    body = "\n".join(lines)
    print(body)
    write_results("inference_log", "The inference log: writing and reading back", body)


if __name__ == "__main__":
    main()
