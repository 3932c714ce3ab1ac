"""The service's log writer: a background thread that writes, keeps rows through an outage,
and drops (and counts) exactly what does not fit. The outage here is a real one of a local
folder (its parent is a file, so nothing can be created); with S3 and a stopped server:
tests/integration/test_log_store_s3.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from mlops_template.logstore import LogStore
from mlops_template.logstore.buffer import LogBuffer

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def columns(rows: int, start: int = 0) -> dict[str, np.ndarray]:
    ids = np.array([f"C{i}" for i in range(start, start + rows)], dtype=object)
    return {"customer_id": ids, "age": np.arange(start, start + rows, dtype=float)}


def add(buffer: LogBuffer, rows: int, start: int, when: datetime = NOW) -> bool:
    probability = np.linspace(0, 1, rows)
    return buffer.add(columns(rows, start), probability, probability >= 0.5, "churn:1", when)


def wait_for(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Counted:
    """What the service's Prometheus counters would have been told."""

    def __init__(self) -> None:
        self.written: list[int] = []
        self.dropped: list[int] = []


def buffer_for(store: LogStore, counted: Counted, *, flush_seconds: float, max_rows: int) -> LogBuffer:
    return LogBuffer(
        store,
        flush_seconds=flush_seconds,
        max_buffered_rows=max_rows,
        on_written=counted.written.append,
        on_dropped=counted.dropped.append,
    )


def test_the_thread_writes_in_the_background_without_being_asked(tmp_path: Path) -> None:
    store, counted = LogStore(str(tmp_path)), Counted()
    buffer = buffer_for(store, counted, flush_seconds=0.05, max_rows=1_000)
    try:
        add(buffer, 3, 0)
        add(buffer, 2, 3)
        wait_for(lambda: buffer.written_rows == 5)
        assert buffer.thread.is_alive()
        table = store.read()
        assert table["customer_id"].tolist() == ["C0", "C1", "C2", "C3", "C4"]
        assert (buffer.dropped_rows, buffer.buffered_rows, sum(counted.written), counted.dropped) == (0, 0, 5, [])
    finally:
        buffer.close()
    assert not buffer.thread.is_alive()


def test_half_a_buffer_is_written_at_once_not_at_the_next_flush(tmp_path: Path) -> None:
    store, counted = LogStore(str(tmp_path)), Counted()
    buffer = buffer_for(store, counted, flush_seconds=3600, max_rows=100)
    try:
        add(buffer, 49, 0)
        time.sleep(0.3)
        assert buffer.written_rows == 0
        add(buffer, 1, 49)
        wait_for(lambda: buffer.written_rows == 50)
    finally:
        buffer.close()


def test_rows_of_different_hours_go_to_their_own_files(tmp_path: Path) -> None:
    store, counted = LogStore(str(tmp_path)), Counted()
    buffer = buffer_for(store, counted, flush_seconds=3600, max_rows=1_000)
    add(buffer, 2, 0, NOW)
    add(buffer, 3, 2, NOW + timedelta(hours=1))
    add(buffer, 1, 5, NOW + timedelta(minutes=10))
    india = timezone(timedelta(hours=5, minutes=30))  # 11:10 UTC is 16:40 there, in the local hour of 10:30 UTC
    add(buffer, 1, 6, (NOW + timedelta(minutes=40)).astimezone(india))
    assert buffer.flush()
    buffer.close()
    hours = sorted(path.split("/")[-2] for path in store.files())
    assert hours == ["hour=10", "hour=11"]
    for path in store.files():  # every row in the folder of its own UTC hour
        logged = pq.read_table(path).column("timestamp").to_pylist()
        assert {f"hour={when:%H}" for when in logged} == {path.split("/")[-2]}
    assert store.read()["customer_id"].tolist() == ["C0", "C1", "C5", "C6", "C2", "C3", "C4"]


def test_an_outage_keeps_what_fits_drops_the_rest_counted_and_writes_it_afterwards(tmp_path: Path) -> None:
    blocker = tmp_path / "down"
    blocker.write_text("a file where the log's folder should be: nothing can be written under it")
    store, counted = LogStore(str(blocker / "log")), Counted()
    buffer = buffer_for(store, counted, flush_seconds=0.05, max_rows=10)
    try:
        assert add(buffer, 4, 0)
        assert add(buffer, 4, 4)
        assert not add(buffer, 4, 8)  # 12 > 10: this batch is dropped, whole
        assert add(buffer, 2, 12)
        assert not add(buffer, 1, 14)
        time.sleep(0.3)  # several failed attempts
        assert buffer.thread.is_alive()
        assert (buffer.written_rows, buffer.buffered_rows, buffer.dropped_rows) == (0, 10, 5)
        assert counted.dropped == [4, 1]

        blocker.unlink()  # the storage is back
        wait_for(lambda: buffer.written_rows == 10)
        kept = [f"C{i}" for i in (*range(8), 12, 13)]
        assert store.read()["customer_id"].tolist() == kept
        assert add(buffer, 3, 20)
        wait_for(lambda: buffer.written_rows == 13)
    finally:
        buffer.close()
    assert (buffer.written_rows, buffer.dropped_rows, sum(counted.written), sum(counted.dropped)) == (13, 5, 13, 5)
    assert len(store.read()) == 13


def test_close_writes_what_is_left_and_counts_what_it_cannot(tmp_path: Path) -> None:
    store, counted = LogStore(str(tmp_path / "up")), Counted()
    buffer = buffer_for(store, counted, flush_seconds=3600, max_rows=100)
    add(buffer, 7, 0)
    buffer.close()
    assert (buffer.written_rows, len(store.read())) == (7, 7)

    blocker = tmp_path / "down"
    blocker.write_text("blocked")
    buffer = buffer_for(LogStore(str(blocker / "log")), counted, flush_seconds=3600, max_rows=100)
    add(buffer, 6, 0)
    buffer.close()
    assert (buffer.written_rows, buffer.dropped_rows, buffer.buffered_rows) == (0, 6, 0)
    assert counted.dropped == [6]


def test_a_batch_that_cannot_be_a_table_is_dropped_and_the_rest_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, counted = LogStore(str(tmp_path)), Counted()
    buffer = buffer_for(store, counted, flush_seconds=3600, max_rows=100)
    add(buffer, 2, 0)
    buffer.add(columns(3), np.zeros(2), np.zeros(2, dtype=bool), "churn:1", NOW)  # 3 feature rows, 2 answers
    add(buffer, 1, 5)
    assert buffer.flush()
    buffer.close()
    assert (buffer.written_rows, buffer.dropped_rows) == (3, 2)
    assert store.read()["customer_id"].tolist() == ["C0", "C1", "C5"]
    assert "cannot be logged" in caplog.text
