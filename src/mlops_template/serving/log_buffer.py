"""The inference log, written off the request path.

A request only appends its batch (the raw columns and the answers) to a list; a background
thread writes what has gathered every `serve.inference_log.flush_seconds` through
`InferenceLog.append_frame`, in the format the drift check reads. If the disk cannot keep
up, the oldest unwritten batches are dropped once more than `max_buffered_rows` wait, and
counted, so that logging never blocks or exhausts a worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from mlops_template.inference_log import InferenceLog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Batch:
    features: Mapping[str, np.ndarray]  # raw columns as received, written as they are
    probability: np.ndarray
    label: np.ndarray
    model_version: str
    timestamp: datetime


class LogBuffer:
    """Collects predicted batches and writes them from one background thread."""

    def __init__(self, log: InferenceLog, *, flush_seconds: float, max_buffered_rows: int) -> None:
        self.log = log
        self.flush_seconds = flush_seconds
        self.max_buffered_rows = max_buffered_rows
        self.dropped_rows = 0
        self.written_rows = 0
        self._pending: list[_Batch] = []
        self._pending_rows = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(
        self,
        features: Mapping[str, np.ndarray],
        probability: np.ndarray,
        label: np.ndarray,
        model_version: str,
        timestamp: datetime,
    ) -> None:
        """Queue one batch; O(1) for the caller."""
        batch = _Batch(features, probability, label, model_version, timestamp)
        with self._lock:
            self._pending.append(batch)
            self._pending_rows += len(probability)
            while self._pending_rows > self.max_buffered_rows and len(self._pending) > 1:
                oldest = self._pending.pop(0)
                self._pending_rows -= len(oldest.probability)
                self.dropped_rows += len(oldest.probability)
        if self._thread is None:
            self.start()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="inference-log", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        """Write everything pending now (also called by the thread)."""
        with self._lock:
            batches, self._pending, self._pending_rows = self._pending, [], 0
        for batch in batches:
            try:
                self.log.append_frame(
                    batch.features, batch.probability, batch.label, batch.model_version, batch.timestamp
                )
                self.written_rows += len(batch.probability)
            except OSError:
                self.dropped_rows += len(batch.probability)
                logger.exception(
                    "inference log: could not write %d rows to %s", len(batch.probability), self.log.directory
                )

    def close(self) -> None:
        """Stop the thread after a last flush; safe to call twice."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        if self.dropped_rows:
            logger.warning("inference log: %d rows were dropped (disk too slow or unwritable)", self.dropped_rows)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_seconds)
            self.flush()
