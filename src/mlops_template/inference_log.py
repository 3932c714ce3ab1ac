"""The inference log: what the service was asked and what it answered.

The service appends one JSON line per prediction; the drift check reads the lines back
as a table. Each process writes its own file per UTC day
(`predictions-YYYY-MM-DD-<pid>.jsonl`), so several workers never interleave lines, and a
file is only ever appended to, so a crash loses at most the line being written.

A line: {"timestamp": ISO-8601 UTC, "model_version": str, "probability": float,
"label": bool, "features": {column: value as received}}.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

META_COLUMNS = ("timestamp", "model_version", "probability", "label")


@dataclass(frozen=True)
class Prediction:
    features: Mapping[str, Any]
    probability: float
    label: bool
    model_version: str
    timestamp: datetime


class InferenceLog:
    """Appends predictions to the day's file of this process; safe across threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def _path(self, when: datetime) -> Path:
        return self.directory / f"predictions-{when:%Y-%m-%d}-{os.getpid()}.jsonl"

    def append(self, predictions: Iterable[Prediction]) -> None:
        lines: dict[Path, list[str]] = {}
        for p in predictions:
            record = {
                "timestamp": p.timestamp.astimezone(UTC).isoformat(),
                "model_version": p.model_version,
                "probability": p.probability,
                "label": p.label,
                "features": dict(p.features),
            }
            lines.setdefault(self._path(p.timestamp), []).append(json.dumps(record, default=str))
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            for path, chunk in lines.items():
                with path.open("a", encoding="utf-8") as handle:
                    handle.write("\n".join(chunk) + "\n")

    def append_frame(
        self,
        features: pd.DataFrame,
        probability: np.ndarray,
        label: np.ndarray,
        model_version: str,
        timestamp: datetime,
    ) -> None:
        """The same lines as `append` for a whole batch, with pandas writing the feature JSON.

        One `json.dumps` per prediction costs more than the prediction itself at batch
        sizes; `DataFrame.to_json` writes all rows in one call (missing values as null).
        """
        if features.empty:
            return
        text = features.to_json(orient="records", lines=True, date_format="iso", default_handler=str)
        rows = text.rstrip("\n").split("\n")  # values are JSON-escaped: a newline only ends a record
        head = (
            f'{{"timestamp": {json.dumps(timestamp.astimezone(UTC).isoformat())}, '
            f'"model_version": {json.dumps(model_version)}, "probability": '
        )
        lines = [
            f'{head}{p!r}, "label": {"true" if flag else "false"}, "features": {row}}}'
            for p, flag, row in zip(
                np.asarray(probability, dtype=float).tolist(), np.asarray(label).tolist(), rows, strict=True
            )
        ]
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with self._path(timestamp).open("a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")


def read_log(directory: Path, since: datetime | None = None) -> pd.DataFrame:
    """All logged predictions as one table: the feature columns plus META_COLUMNS.

    A torn last line (a crash mid-write) is skipped rather than failing the whole read.
    """
    rows = []
    for path in sorted(directory.glob("predictions-*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                rows.append({**record.pop("features"), **record})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601")
    if since is not None:
        frame = frame[frame["timestamp"] >= pd.Timestamp(since)].reset_index(drop=True)
    return frame


def now() -> datetime:
    return datetime.now(UTC)
