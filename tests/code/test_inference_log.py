"""The inference log: a batch per line written, a prediction per row read back, as received."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlops_template.inference_log import META_COLUMNS, InferenceLog, InferenceLogError, read_log
from mlops_template.serving.request import record_model, records_to_columns

DAY = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
ODD = ['say "hi"', "two\nlines", "tab\tand \\ backslash", "Zürich ✓ 東京 😀", "\u2028sep", "", "nul\x00byte"]


def service_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """What the service logs: validated records turned into the raw frame, with gaps and odd spellings."""
    rng = np.random.default_rng(seed)
    model = record_model()
    records = []
    for i in range(rows):
        values: dict[str, Any] = {
            "signup_date": f"2024-02-{1 + i % 29:02d}",
            "age": None if i % 3 == 0 else float(rng.integers(18, 90)),
            "region": ODD[i % len(ODD)] if i % 5 else None,
            "has_partner": ["Y", True, "no", None][i % 4],
            "auto_renew": False,
        }
        records.append(model.model_validate({k: v for k, v in values.items() if v is not None}))
    return pd.DataFrame(records_to_columns(records))


def as_sent(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain values, None for missing, to compare what was logged with what was read."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def log_batch(log: InferenceLog, frame: pd.DataFrame, when: datetime, version: str = "churn:1") -> np.ndarray:
    probability = np.linspace(0.05, 0.95, len(frame))
    log.append_frame(frame, probability, probability >= 0.5, version, when)
    return probability


def test_a_batch_is_one_line_and_reads_back_as_sent(tmp_path: Path) -> None:
    frame = service_frame(40)
    probability = log_batch(InferenceLog(tmp_path), frame, DAY)
    (path,) = tmp_path.iterdir()
    assert path.name == f"predictions-2026-01-02-{os.getpid()}.jsonl"
    line, end = path.read_bytes().split(b"\n")  # (str.splitlines would also split at the U+2028 in ODD)
    assert json.loads(line)["rows"] == 40
    assert end == b""
    table = read_log(tmp_path)
    assert list(table.columns) == [*frame.columns, *META_COLUMNS]
    assert as_sent(table[frame.columns]) == as_sent(frame)
    assert set(ODD) <= set(table["region"].dropna())
    assert table["probability"].tolist() == probability.tolist()
    assert table["label"].tolist() == (probability >= 0.5).tolist()
    assert table["model_version"].eq("churn:1").all()
    assert (table["probability"].dtype, table["label"].dtype, table["age"].dtype) == (float, bool, float)
    assert str(table["timestamp"].dtype).endswith(", UTC]")
    assert table["timestamp"].eq(pd.Timestamp(DAY)).all()


def test_batches_keep_their_order_and_go_to_their_utc_day(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    late = datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC)
    berlin_just_after_midnight = datetime(2026, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # 23:30 UTC
    next_day = datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC)
    frames = [service_frame(3, seed) for seed in range(4)]
    for frame, when in zip(frames, [late, berlin_just_after_midnight, next_day, next_day], strict=True):
        log_batch(log, frame, when, version=f"churn:{when:%d}")
    lines = {path.name[12:22]: len(path.read_bytes().splitlines()) for path in tmp_path.iterdir()}
    assert lines == {"2026-01-01": 2, "2026-01-02": 2}
    table = read_log(tmp_path)
    assert as_sent(table[frames[0].columns]) == [row for frame in frames for row in as_sent(frame)]
    expected = [late] * 3 + [berlin_just_after_midnight] * 3 + [next_day] * 6
    assert table["timestamp"].tolist() == [pd.Timestamp(t).tz_convert("UTC") for t in expected]


def test_since_leaves_out_earlier_batches_and_older_days(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    for hours in (-30, -2, 0, 1):
        log_batch(log, service_frame(2, seed=hours + 100), DAY + timedelta(hours=hours))
    assert len(read_log(tmp_path)) == 8
    assert len(read_log(tmp_path, since=DAY - timedelta(hours=2))) == 6
    assert len(read_log(tmp_path, since=DAY)) == 4
    assert read_log(tmp_path, since=DAY + timedelta(hours=2)).empty
    # A file of a day before `since` is not even opened: its lines are all older.
    old_day = tmp_path / "predictions-2025-12-31-1.jsonl"
    old_day.write_text('{"not": "a batch"}\n', encoding="utf-8")
    assert len(read_log(tmp_path, since=DAY - timedelta(hours=2))) == 6
    with pytest.raises(InferenceLogError, match=r"predictions-2025-12-31-1\.jsonl, line 1"):
        read_log(tmp_path)
    with pytest.raises(ValueError, match="timezone-aware"):
        read_log(tmp_path, since=datetime(2026, 1, 1))


def test_a_torn_last_line_is_skipped_and_the_next_batch_starts_a_new_line(tmp_path: Path) -> None:
    first, second, third = service_frame(5, 1), service_frame(6, 2), service_frame(7, 3)
    log_batch(InferenceLog(tmp_path), first, DAY)
    log_batch(InferenceLog(tmp_path), second, DAY)
    (path,) = tmp_path.iterdir()
    text = path.read_bytes()
    path.write_bytes(text[: len(text) - 40])  # a crash in the middle of the second line
    assert as_sent(read_log(tmp_path)[first.columns]) == as_sent(first)
    log_batch(InferenceLog(tmp_path), third, DAY)  # a process with the same pid appends to that file
    assert as_sent(read_log(tmp_path)[first.columns]) == as_sent(first) + as_sent(third)


def test_a_line_of_the_per_prediction_format_reads_as_a_batch_of_one(tmp_path: Path) -> None:
    """Logs written before the batch format still count for the drift check."""
    frame = service_frame(3)
    old = {
        "timestamp": DAY.isoformat(),
        "model_version": "churn:0",
        "probability": 0.25,
        "label": False,
        "features": as_sent(frame)[0],
    }
    (tmp_path / f"predictions-2026-01-02-{os.getpid()}.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    log_batch(InferenceLog(tmp_path), frame, DAY)
    table = read_log(tmp_path)
    assert as_sent(table[frame.columns]) == as_sent(frame.iloc[:1]) + as_sent(frame)
    assert table["model_version"].tolist() == ["churn:0", "churn:1", "churn:1", "churn:1"]
    assert table["probability"].iloc[0] == 0.25


def test_columns_missing_from_some_batches_are_missing_in_their_rows(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    log_batch(log, pd.DataFrame({"age": [41.0, np.nan]}), DAY)
    log_batch(log, pd.DataFrame({"region": ["north"], "age": [7.0]}), DAY)
    log_batch(log, pd.DataFrame({"region": ["south"]}), DAY)
    table = read_log(tmp_path)
    assert list(table.columns) == ["age", "region", *META_COLUMNS]
    assert as_sent(table[["age", "region"]]) == [
        {"age": 41.0, "region": None},
        {"age": None, "region": None},
        {"age": 7.0, "region": "north"},
        {"age": None, "region": "south"},
    ]


def test_a_line_that_is_not_a_batch_is_a_clear_error(tmp_path: Path) -> None:
    log_batch(InferenceLog(tmp_path), service_frame(2), DAY)
    (path,) = tmp_path.iterdir()
    line = json.loads(path.read_text(encoding="utf-8"))
    line["label"] = line["label"][:1]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    with pytest.raises(InferenceLogError, match=r"line 2: .*a batch of 2 rows holds columns of \[1, 2\] values"):
        read_log(tmp_path)


def test_append_frame_refuses_answers_that_do_not_match_the_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="3 feature rows"):
        InferenceLog(tmp_path).append_frame(service_frame(3), np.zeros(2), np.zeros(3, dtype=bool), "m", DAY)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_threads_writing_at_once_never_mix_their_lines(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    frames = [service_frame(25, seed) for seed in range(4)]

    def write(frame: pd.DataFrame) -> None:
        for _ in range(20):
            log_batch(log, frame, DAY)

    threads = [threading.Thread(target=write, args=(frame,)) for frame in frames]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = read_log(tmp_path)
    assert len(table) == 4 * 20 * 25
    batches = [as_sent(table[frames[0].columns].iloc[start : start + 25]) for start in range(0, len(table), 25)]
    assert sorted(map(str, batches)) == sorted(str(as_sent(frame)) for frame in frames for _ in range(20))


def test_an_empty_log_is_an_empty_table(tmp_path: Path) -> None:
    assert read_log(tmp_path / "nothing-yet").empty
    InferenceLog(tmp_path).append_frame(service_frame(0), np.zeros(0), np.zeros(0, dtype=bool), "m", DAY)
    assert read_log(tmp_path).empty
