"""The inference log store (local folder here; S3 in tests/integration/test_log_store_s3.py):
a Parquet file per write in its hour's folder, a prediction per row read back, as received."""

from __future__ import annotations

import importlib.util
import os
import re
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mlops_template.logstore import META_COLUMNS, LogStore, LogStoreError, batch_table
from mlops_template.serving.request import record_model, records_to_columns
from tests.example import example_only

# Its data are the example's columns: skipped for another contract, where
# test_service_any_contract.py and test_request_numbers.py check the service.
pytestmark = example_only

DAY = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
ODD = ['say "hi"', "two\nlines", "tab\tand \\ backslash", "Zürich ✓ 東京 😀", "\u2028sep", "", "nul\x00byte"]


def service_columns(rows: int, seed: int = 0) -> dict[str, np.ndarray]:
    """What the service logs: validated records as raw numpy columns, with gaps and odd spellings."""
    rng = np.random.default_rng(seed)
    model = record_model()
    records = []
    for i in range(rows):
        values: dict[str, Any] = {
            "customer_id": f"C{seed}-{i}",
            "signup_date": f"2024-02-{1 + i % 29:02d}",
            "age": None if i % 3 == 0 else float(rng.integers(18, 90)),
            "region": ODD[i % len(ODD)] if i % 5 else None,
            "has_partner": ["Y", True, "no", None][i % 4],
            "auto_renew": False,
        }
        records.append(model.model_validate({k: v for k, v in values.items() if v is not None}))
    return records_to_columns(records)


def _spelling(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return value if isinstance(value, float | str) else str(value)


def as_sent(features: pd.DataFrame | dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as the log keeps them: numbers as numbers, anything else as its text (a CSV export's
    spelling, a JSON true as "true"), None for missing."""
    columns = {name: [_spelling(v) for v in np.asarray(values, dtype=object).tolist()] for name, values in
               (features.items() if isinstance(features, dict) else features.to_dict("series").items())}  # fmt: skip
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def rows(table: pd.DataFrame, like: pd.DataFrame | dict[str, Any]) -> list[dict[str, Any]]:
    """The logged rows of `table`, in the columns of `like`, as plain values."""
    return as_sent(table[list(like)])


def log_batch(store: LogStore, features: Any, when: datetime, version: str = "churn:1") -> np.ndarray:
    probability = np.linspace(0.05, 0.95, len(pd.DataFrame(features)))
    store.write(batch_table(features, probability, probability >= 0.5, version, when), when)
    return probability


def test_a_batch_is_one_parquet_file_in_its_hour_and_reads_back_as_sent(tmp_path: Path) -> None:
    store = LogStore(str(tmp_path / "log"))
    columns = service_columns(40)
    probability = log_batch(store, columns, DAY)
    (path,) = store.files()
    folder, name = path.rsplit("/", 1)
    assert folder == f"{tmp_path}/log/date=2026-01-02/hour=12"
    assert re.fullmatch(rf"{re.escape(socket.gethostname())}-{os.getpid()}-[0-9a-f]{{32}}\.parquet", name)
    assert pq.read_metadata(path).num_rows == 40
    table = store.read()
    assert list(table.columns) == [*columns, *META_COLUMNS]
    assert rows(table, columns) == as_sent(columns)
    assert set(ODD) <= set(table["region"].dropna())
    assert table["probability"].tolist() == probability.tolist()
    assert table["label"].tolist() == (probability >= 0.5).tolist()
    assert table["model_version"].eq("churn:1").all()
    assert (table["probability"].dtype, table["label"].dtype, table["age"].dtype) == (float, bool, float)
    assert str(table["timestamp"].dtype) == "datetime64[us, UTC]"
    assert table["timestamp"].eq(pd.Timestamp(DAY)).all()


def test_batches_go_to_their_utc_hour_and_read_back_oldest_first(tmp_path: Path) -> None:
    store = LogStore(str(tmp_path))
    late = datetime(2026, 1, 1, 23, 59, 59, tzinfo=UTC)
    berlin_just_after_midnight = datetime(2026, 1, 2, 0, 30, tzinfo=timezone(timedelta(hours=1)))  # 23:30 UTC
    next_day = datetime(2026, 1, 2, 0, 0, 1, tzinfo=UTC)
    batches = [service_columns(3, seed) for seed in range(4)]
    for columns, when in zip(batches, [next_day, late, berlin_just_after_midnight, next_day], strict=True):
        log_batch(store, columns, when, version=f"churn:{when:%d}")
    folders = sorted(path.split("/")[-3] + "/" + path.split("/")[-2] for path in store.files())
    assert folders == ["date=2026-01-01/hour=23"] * 2 + ["date=2026-01-02/hour=00"] * 2
    table = store.read()
    expected = [berlin_just_after_midnight] * 3 + [late] * 3 + [next_day] * 6
    assert table["timestamp"].tolist() == [pd.Timestamp(t).tz_convert("UTC") for t in expected]
    assert rows(table, batches[2])[:3] == as_sent(batches[2])  # a batch keeps its rows' order


def test_since_lists_and_reads_only_the_days_it_needs(tmp_path: Path) -> None:
    store = LogStore(str(tmp_path))
    for hours in (-30, -2, 0, 1):
        log_batch(store, service_columns(2, seed=hours + 100), DAY + timedelta(hours=hours))
    assert len(store.read()) == 8
    assert len(store.read(since=DAY - timedelta(hours=2))) == 6
    assert len(store.read(since=DAY)) == 4
    assert store.read(since=DAY + timedelta(hours=2)).empty
    # A day before `since` is not even listed: a broken file there does not matter.
    old_day = tmp_path / "date=2025-12-31" / "hour=03"
    old_day.mkdir(parents=True)
    (old_day / "w-1.parquet").write_text("not parquet", encoding="utf-8")
    assert len(store.read(since=DAY - timedelta(hours=2))) == 6
    with pytest.raises(LogStoreError, match=rf"inference log at {re.escape(str(tmp_path))} cannot be read"):
        store.read()
    with pytest.raises(ValueError, match="timezone-aware"):
        store.read(since=datetime(2026, 1, 1))


def test_a_file_being_written_is_not_read(tmp_path: Path) -> None:
    store = LogStore(str(tmp_path))
    log_batch(store, service_columns(3), DAY)
    (path,) = store.files()
    Path(path).with_name(".half-written.parquet.tmp").write_bytes(b"PAR1 half")
    Path(path).with_name("_SUCCESS").write_bytes(b"")
    assert store.files() == [path]
    assert len(store.read()) == 3


def test_columns_missing_from_some_files_are_missing_in_their_rows(tmp_path: Path) -> None:
    store = LogStore(str(tmp_path))
    log_batch(store, pd.DataFrame({"age": [41, 7]}), DAY)  # integers in one file, floats in another
    log_batch(store, pd.DataFrame({"region": ["north"], "age": [7.5]}), DAY + timedelta(minutes=1))
    log_batch(store, pd.DataFrame({"region": ["south"]}), DAY + timedelta(minutes=2))
    table = store.read()
    assert sorted(table.columns) == sorted(["age", "region", *META_COLUMNS])
    assert rows(table, {"age": 0, "region": 0}) == [
        {"age": 41.0, "region": None},
        {"age": 7.0, "region": None},
        {"age": 7.5, "region": "north"},
        {"age": None, "region": "south"},
    ]


def test_a_table_and_its_numpy_columns_are_logged_alike(tmp_path: Path) -> None:
    """The service hands numpy columns, the drift tests a DataFrame: the same values come back."""
    columns: dict[str, np.ndarray] = service_columns(6) | {
        "count": np.arange(6),
        "flag": np.array([True, False] * 3),
        "when": np.array(["2024-02-29T10:00", "NaT"] * 3, dtype="datetime64[s]"),
    }
    log_batch(LogStore(str(tmp_path / "columns")), columns, DAY)
    log_batch(LogStore(str(tmp_path / "frame")), pd.DataFrame(columns), DAY)
    from_columns, from_frame = LogStore(str(tmp_path / "columns")).read(), LogStore(str(tmp_path / "frame")).read()
    pd.testing.assert_frame_equal(from_columns, from_frame)
    assert rows(from_columns, {"when": None})[:2] == [{"when": "2024-02-29T10:00:00"}, {"when": None}]
    assert rows(from_columns, {"has_partner": None})[:4] == [
        {"has_partner": "Y"},
        {"has_partner": "true"},
        {"has_partner": "no"},
        {"has_partner": None},
    ]
    assert from_columns["count"].tolist() == list(range(6))


def test_a_batch_table_refuses_answers_that_do_not_match_the_rows() -> None:
    with pytest.raises(ValueError, match=r"features of \[3\] rows, \(2,\) probabilities"):
        batch_table(service_columns(3), np.zeros(2), np.zeros(2, dtype=bool), "m", DAY)
    with pytest.raises(ValueError, match=r"features of \[3\] rows"):
        batch_table(pd.DataFrame(service_columns(3)), np.zeros(2), np.zeros(2), "m", DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        batch_table(service_columns(1), np.zeros(1), np.zeros(1), "m", datetime(2026, 1, 1))


def test_an_empty_or_absent_log_is_an_empty_table(tmp_path: Path) -> None:
    assert LogStore(str(tmp_path / "nothing-yet")).read().empty
    assert LogStore(str(tmp_path / "nothing-yet")).files() == []
    (tmp_path / "empty").mkdir()
    assert LogStore(str(tmp_path / "empty")).read(since=DAY).empty


@pytest.mark.skipif(importlib.util.find_spec("gcsfs") is not None, reason="gcsfs is installed (the gcs extra)")
def test_a_storage_without_its_back_end_names_the_extra_to_install() -> None:
    with pytest.raises(LogStoreError, match=r"gs://bucket/log.*uv sync --extra gcs"):
        LogStore("gs://bucket/log")
