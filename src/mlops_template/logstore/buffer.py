"""The inference log, written off the request path, through storage outages.

A request only appends its batch (the raw columns and the answers) to a queue; one
background thread writes what has gathered to the log store (`logstore.LogStore`) every
`serve.inference_log.flush_seconds`, or as soon as half of `max_buffered_rows` wait: a
Parquet file per hour the rows fall in.

When the storage cannot be written (an outage, lost credentials), the rows stay buffered
and the thread tries again at the next flush; rows leave the buffer only once their file
is written, so nothing counted as written is lost and nothing is written twice. The buffer
is bounded: a batch that does not fit is dropped and counted (`dropped_rows`, the
Prometheus counter `mlops_inference_log_dropped_rows_total`, and a log line when dropping
starts and when writing resumes), so that logging never blocks or exhausts a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from mlops_template.logstore import LogStore, batch_table

logger = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 30.0


def _ignore(rows: int) -> None:
    """A counter callback that counts nowhere (the default outside the service)."""


@dataclass
class _Batch:
    features: Mapping[str, np.ndarray]  # raw columns as received, written as they are
    probability: np.ndarray
    label: np.ndarray
    model_version: str
    timestamp: datetime
    table: pa.Table | None = field(default=None, repr=False)  # built once, on the first write attempt

    @property
    def rows(self) -> int:
        return len(self.probability)

    @property
    def hour(self) -> datetime:
        """The UTC hour its file goes in (a zone half an hour off UTC must not straddle two)."""
        return self.timestamp.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class LogBuffer:
    """Queues predicted batches and writes them to `store` from one background thread."""

    def __init__(
        self,
        store: LogStore,
        *,
        flush_seconds: float,
        max_buffered_rows: int,
        on_written: Callable[[int], None] = _ignore,
        on_dropped: Callable[[int], None] = _ignore,
    ) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.max_buffered_rows = max_buffered_rows
        self.written_rows = 0
        self.dropped_rows = 0
        self._on_written = on_written
        self._on_dropped = on_dropped
        self._batches: deque[_Batch] = deque()
        self._rows = 0  # buffered: waiting or being written
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failing_since: float | None = None
        self._dropping = False
        self.thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
        self.thread.start()

    @property
    def buffered_rows(self) -> int:
        return self._rows

    def add(
        self,
        features: Mapping[str, np.ndarray],
        probability: np.ndarray,
        label: np.ndarray,
        model_version: str,
        timestamp: datetime,
    ) -> bool:
        """Queue one batch (O(1) for the caller); False when the buffer is full and it was dropped."""
        batch = _Batch(features, probability, label, model_version, timestamp)
        with self._lock:
            if self._rows + batch.rows > self.max_buffered_rows:
                self.dropped_rows += batch.rows
                starting, self._dropping = not self._dropping, True
            else:
                self._batches.append(batch)
                self._rows += batch.rows
                if self._rows * 2 >= self.max_buffered_rows:
                    self._wake.set()
                return True
        self._on_dropped(batch.rows)
        if starting:
            logger.warning(
                "inference log: %d rows buffered, the limit (serve.inference_log.max_buffered_rows): dropping "
                "new predictions until %s can be written (counted in mlops_inference_log_dropped_rows_total)",
                self._rows,
                self.store.url,
            )
        return False

    def flush(self) -> bool:
        """Write everything buffered now (the thread's job; tests and close call it too).
        True when nothing is left to write."""
        with self._writing:  # one writer at a time: a batch is never written twice
            return self._flush()

    def _flush(self) -> bool:
        with self._lock:
            batches = list(self._batches)
        groups: dict[datetime, list[_Batch]] = {}
        for batch in batches:
            groups.setdefault(batch.hour, []).append(batch)
        for hour, group in groups.items():
            table, kept = self._table(group)
            if not kept:
                continue
            try:
                self.store.write(table, hour)
            except Exception as exc:  # each storage back end raises its own types
                self._failed(exc)
                return False
            self._written(kept)
        if self._failing_since is not None:
            logger.warning(
                "inference log: writing to %s again after %.0f s; %d rows dropped so far",
                self.store.url,
                time.monotonic() - self._failing_since,
                self.dropped_rows,
            )
            self._failing_since = None
        return not self._batches

    def _table(self, group: list[_Batch]) -> tuple[pa.Table, list[_Batch]]:
        """The group's rows as one table, and the batches in it: a batch that cannot be made
        a table is dropped (and logged)."""
        kept = []
        for batch in group:
            if batch.table is None:
                try:
                    batch.table = batch_table(
                        batch.features, batch.probability, batch.label, batch.model_version, batch.timestamp
                    )
                except (ValueError, TypeError, pa.ArrowException):
                    logger.exception("inference log: a batch of %d rows cannot be logged; dropped", batch.rows)
                    self._remove([batch], written=False)
                    continue
            kept.append(batch)
        tables = [batch.table for batch in kept if batch.table is not None]
        return (pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})), kept

    def _written(self, group: list[_Batch]) -> None:
        self._on_written(self._remove(group, written=True))

    def _remove(self, group: list[_Batch], *, written: bool) -> int:
        """Take the group's batches out of the buffer, counted as written or dropped; the rows
        taken (those still buffered: after a timed-out close, none are)."""
        done = {id(batch) for batch in group}
        with self._lock:
            rows = sum(batch.rows for batch in self._batches if id(batch) in done)
            self._batches = deque(batch for batch in self._batches if id(batch) not in done)
            self._rows -= rows
            if written:
                self.written_rows += rows
            else:
                self.dropped_rows += rows
            self._dropping = self._dropping and self._rows > 0
        if not written and rows:
            self._on_dropped(rows)
        return rows

    def _failed(self, exc: Exception) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            logger.warning(
                "inference log: cannot write to %s (%s: %s); keeping %d rows, retrying every %g s",
                self.store.url,
                type(exc).__name__,
                exc,
                self._rows,
                self.flush_seconds,
            )

    def close(self) -> None:
        """Stop the thread after a last attempt to write; what is still buffered then is lost
        (counted as dropped, and said). Safe to call twice."""
        self._stop.set()
        self._wake.set()
        self.thread.join(timeout=CLOSE_TIMEOUT_S)
        with self._lock:
            lost, self._rows = self._rows, 0
            self._batches.clear()
            self.dropped_rows += lost
        if lost:
            self._on_dropped(lost)
        if self.dropped_rows:
            logger.warning(
                "inference log: %d rows were dropped (storage %s unreachable or too slow); %d written",
                self.dropped_rows,
                self.store.url,
                self.written_rows,
            )

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stop.is_set()
            self.flush()
            if stopping:
                return
            if self._failing_since is not None:  # an outage: retry at the pace of flushes, not of requests
                self._stop.wait(self.flush_seconds)
