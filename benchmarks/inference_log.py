"""The inference log: what writing a batch costs the service, and reading a week back the drift check.

    python -m benchmarks.inference_log                 # 1M rows in 1,000-row batches, 50k in 1-row batches

The batches are what the service logs: records of the embedded sample as a client sends
them, as the numpy columns of `records_to_columns`. Writing: the median time of
`append_frame` for 1 and 1,000 rows (the background thread's cost, which competes with
requests for the GIL).
Reading: `read_log` over a log spread across the last 7 days, as the drift check reads it
(`since` = 7 days ago), once in 1,000-row batches (busy service) and once in 1-row
batches (a quiet one: every request alone). Needs no trained model.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from benchmarks.serving import ROOT, payloads
from benchmarks.serving_profile import median_ms
from mlops_template.inference_log import InferenceLog, read_log
from mlops_template.serving.request import record_model, records_to_columns

WINDOW = timedelta(days=7)


Columns = dict[str, np.ndarray]


def service_columns(folder: Path) -> Columns:
    """1,000 validated sample records as the raw columns the service logs."""
    body = json.loads(payloads(folder, ROOT / "data/sample/customers.csv")["1000"].read_text(encoding="utf-8"))
    model = record_model()
    return records_to_columns([model.model_validate(record) for record in body["records"]])


def rows_of(columns: Columns, start: int, stop: int) -> Columns:
    return {name: values[start:stop] for name, values in columns.items()}


def write_ms(columns: Columns, folder: Path) -> float:
    """Median milliseconds of one `append_frame` call for these columns."""
    log = InferenceLog(folder)
    probability = np.linspace(0, 1, len(next(iter(columns.values()))))
    label = probability >= 0.5
    when = datetime.now(UTC)
    return median_ms(lambda: log.append_frame(columns, probability, label, "churn:bench", when))


def fill(folder: Path, columns: Columns, rows: int, batch_rows: int, end: datetime) -> None:
    """`rows` predictions in batches of `batch_rows`, their times spread evenly over the window."""
    log = InferenceLog(folder)
    batches = rows // batch_rows
    available = len(next(iter(columns.values())))
    probability = np.linspace(0, 1, available)
    for index in range(batches):
        start = (index * batch_rows) % (available - batch_rows + 1)
        part = rows_of(columns, start, start + batch_rows)
        answers = probability[start : start + batch_rows]
        when = end - WINDOW + WINDOW * (index + 1) / batches
        log.append_frame(part, answers, answers >= 0.5, "churn:bench", when)


def read_seconds(folder: Path, since: datetime) -> tuple[float, int]:
    start = time.perf_counter()
    table = read_log(folder, since=since)
    return time.perf_counter() - start, len(table)


def main() -> None:
    parser = argparse.ArgumentParser(description="Time writing and reading the inference log.")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows logged in 1,000-row batches")
    parser.add_argument("--single-rows", type=int, default=50_000, help="rows logged one per batch")
    args = parser.parse_args()
    end = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        columns = service_columns(Path(tmp))
        print("| append_frame | 1 row | 1,000 rows |")
        print("|---|---|---|")
        one, thousand = (write_ms(rows_of(columns, 0, size), Path(tmp, f"write-{size}")) for size in (1, 1000))
        print(f"| median | {one:.3f} ms | {thousand:.2f} ms |")
        print()
        print("| read_log (since 7 days) | rows | file size | seconds | rows/s |")
        print("|---|---|---|---|---|")
        for rows, batch_rows in ((args.rows, 1000), (args.single_rows, 1)):
            folder = Path(tmp, f"read-{batch_rows}")
            fill(folder, columns, rows, batch_rows, end)
            size = sum(path.stat().st_size for path in folder.iterdir())
            seconds, read = read_seconds(folder, end - WINDOW)
            assert read == rows, f"read {read:,} rows of {rows:,}"
            print(
                f"| {batch_rows:,}-row batches | {rows:,} | {size / 1e6:,.0f} MB | {seconds:.2f} s "
                f"| {rows / seconds:,.0f} |"
            )


if __name__ == "__main__":
    main()
