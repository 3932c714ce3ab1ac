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


def service_columns(rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """What the service logs: validated records as raw numpy columns, with gaps and odd spellings."""
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
    return records_to_columns(records)


def as_sent(features: pd.DataFrame | dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Rows as plain values, None for missing, to compare what was logged with what was read."""
    frame = pd.DataFrame(features).astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


def rows(table: pd.DataFrame, like: pd.DataFrame | dict[str, Any]) -> list[dict[str, Any]]:
    """The logged rows of `table`, in the columns of `like`."""
    return as_sent(table[list(like)])


def log_batch(
    log: InferenceLog, features: pd.DataFrame | dict[str, np.ndarray], when: datetime, version: str = "churn:1"
) -> np.ndarray:
    probability = np.linspace(0.05, 0.95, len(pd.DataFrame(features)))
    log.append_frame(features, probability, probability >= 0.5, version, when)
    return probability


def test_a_batch_is_one_line_and_reads_back_as_sent(tmp_path: Path) -> None:
    columns = service_columns(40)
    probability = log_batch(InferenceLog(tmp_path), columns, DAY)
    (path,) = tmp_path.iterdir()
    assert path.name == f"predictions-2026-01-02-{os.getpid()}.jsonl"
    line, end = path.read_bytes().split(b"\n")  # (str.splitlines would also split at the U+2028 in ODD)
    assert json.loads(line)["rows"] == 40
    assert end == b""
    table = read_log(tmp_path)
    assert list(table.columns) == [*columns, *META_COLUMNS]
    assert rows(table, columns) == as_sent(columns)
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
    batches = [service_columns(3, seed) for seed in range(4)]
    for columns, when in zip(batches, [late, berlin_just_after_midnight, next_day, next_day], strict=True):
        log_batch(log, columns, when, version=f"churn:{when:%d}")
    lines = {path.name[12:22]: len(path.read_bytes().splitlines()) for path in tmp_path.iterdir()}
    assert lines == {"2026-01-01": 2, "2026-01-02": 2}
    table = read_log(tmp_path)
    assert rows(table, batches[0]) == [row for columns in batches for row in as_sent(columns)]
    expected = [late] * 3 + [berlin_just_after_midnight] * 3 + [next_day] * 6
    assert table["timestamp"].tolist() == [pd.Timestamp(t).tz_convert("UTC") for t in expected]


def test_since_leaves_out_earlier_batches_and_older_days(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    for hours in (-30, -2, 0, 1):
        log_batch(log, service_columns(2, seed=hours + 100), DAY + timedelta(hours=hours))
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
    first, second, third = service_columns(5, 1), service_columns(6, 2), service_columns(7, 3)
    log_batch(InferenceLog(tmp_path), first, DAY)
    log_batch(InferenceLog(tmp_path), second, DAY)
    (path,) = tmp_path.iterdir()
    text = path.read_bytes()
    path.write_bytes(text[: len(text) - 40])  # a crash in the middle of the second line
    assert rows(read_log(tmp_path), first) == as_sent(first)
    log_batch(InferenceLog(tmp_path), third, DAY)  # a process with the same pid appends to that file
    assert rows(read_log(tmp_path), first) == as_sent(first) + as_sent(third)


def test_a_line_of_the_per_prediction_format_reads_as_a_batch_of_one(tmp_path: Path) -> None:
    """Logs written before the batch format still count for the drift check."""
    columns = service_columns(3)
    old = {
        "timestamp": DAY.isoformat(),
        "model_version": "churn:0",
        "probability": 0.25,
        "label": False,
        "features": as_sent(columns)[0],
    }
    (tmp_path / f"predictions-2026-01-02-{os.getpid()}.jsonl").write_text(json.dumps(old) + "\n", encoding="utf-8")
    log_batch(InferenceLog(tmp_path), columns, DAY)
    table = read_log(tmp_path)
    assert rows(table, columns) == as_sent(columns)[:1] + as_sent(columns)
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


def test_a_table_and_its_numpy_columns_are_logged_alike(tmp_path: Path) -> None:
    """The service hands numpy columns, the drift tests a DataFrame: the same values come back."""
    columns: dict[str, np.ndarray] = service_columns(6) | {
        "count": np.arange(6),
        "flag": np.array([True, False] * 3),
        "when": np.array(["2024-02-29T10:00", "NaT"] * 3, dtype="datetime64[s]"),
    }
    log_batch(InferenceLog(tmp_path / "columns"), columns, DAY)
    log_batch(InferenceLog(tmp_path / "frame"), pd.DataFrame(columns), DAY)
    from_columns, from_frame = read_log(tmp_path / "columns"), read_log(tmp_path / "frame")
    pd.testing.assert_frame_equal(from_columns, from_frame)
    assert rows(from_columns, {"when": None})[:2] == [{"when": "2024-02-29T10:00:00"}, {"when": None}]
    assert from_columns["count"].tolist() == list(range(6))


def test_a_line_that_is_not_a_batch_is_a_clear_error(tmp_path: Path) -> None:
    log_batch(InferenceLog(tmp_path), service_columns(2), DAY)
    (path,) = tmp_path.iterdir()
    line = json.loads(path.read_text(encoding="utf-8"))
    line["label"] = line["label"][:1]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    with pytest.raises(InferenceLogError, match=r"line 2: .*a batch of 2 rows holds columns of \[1, 2\] values"):
        read_log(tmp_path)


def test_append_frame_refuses_answers_that_do_not_match_the_rows(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"features of \[3\] rows, \(2,\) probabilities"):
        InferenceLog(tmp_path).append_frame(service_columns(3), np.zeros(2), np.zeros(2, dtype=bool), "m", DAY)
    with pytest.raises(ValueError, match=r"features of \[3\] rows"):
        InferenceLog(tmp_path).append_frame(pd.DataFrame(service_columns(3)), np.zeros(2), np.zeros(2), "m", DAY)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_threads_writing_at_once_never_mix_their_lines(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    batches = [service_columns(25, seed) for seed in range(4)]

    def write(columns: dict[str, np.ndarray]) -> None:
        for _ in range(20):
            log_batch(log, columns, DAY)

    threads = [threading.Thread(target=write, args=(columns,)) for columns in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table = read_log(tmp_path)
    assert len(table) == 4 * 20 * 25
    logged = [rows(table.iloc[start : start + 25], batches[0]) for start in range(0, len(table), 25)]
    assert sorted(map(str, logged)) == sorted(str(as_sent(columns)) for columns in batches for _ in range(20))


def test_an_empty_log_is_an_empty_table(tmp_path: Path) -> None:
    assert read_log(tmp_path / "nothing-yet").empty
    InferenceLog(tmp_path).append_frame(service_columns(0), np.zeros(0), np.zeros(0, dtype=bool), "m", DAY)
    assert read_log(tmp_path).empty
