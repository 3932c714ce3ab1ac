"""The inference log on S3, with a real S3 server (moto's, on 127.0.0.1) that the tests stop
half-way: the store writes and reads there, the writer keeps what fits and counts what it
drops, the real service keeps answering through the outage, and the drift check says it
could not check, naming the URL."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml

from mlops_template.deploy.smoke import valid_record
from mlops_template.logstore import LogStore, LogStoreError, batch_table
from mlops_template.logstore.buffer import LogBuffer
from tests.integration.conftest import TrainedModel, serving, tool
from tests.s3 import S3Server, s3_server

NOW = datetime.now(UTC).replace(minute=30)
EXIT_CANNOT_CHECK = 4


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3Server]:
    with s3_server(tmp_path / "moto.log") as server:
        yield server


def columns(rows: int, start: int = 0) -> dict[str, np.ndarray]:
    return {
        "customer_id": np.array([f"C{i}" for i in range(start, start + rows)], dtype=object),
        "age": np.arange(start, start + rows, dtype=float),
    }


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_the_store_writes_parquet_files_by_hour_and_reads_a_window_back(s3: S3Server) -> None:
    s3.make_bucket("mlops")
    store = LogStore("s3://mlops/inference")
    for days, start in ((9, 0), (1, 10), (0, 20)):
        when = NOW - timedelta(days=days)
        probability = np.full(10, 0.25)
        store.write(batch_table(columns(10, start), probability, probability > 0.5, "churn:1", when), when)
    keys = s3.keys("mlops")
    assert len(keys) == 3
    for key in keys:
        assert re.fullmatch(r"inference/date=\d{4}-\d{2}-\d{2}/hour=\d{2}/[\w.-]+-\d+-[0-9a-f]{32}\.parquet", key), key
    assert f"inference/date={NOW - timedelta(days=1):%Y-%m-%d}/hour={NOW:%H}/" in keys[1]
    week = store.read(since=NOW - timedelta(days=7))
    assert week["customer_id"].tolist() == [f"C{i}" for i in range(10, 30)]
    assert len(store.read()) == 30


def test_an_empty_prefix_is_an_empty_log_and_a_missing_bucket_an_error(s3: S3Server) -> None:
    s3.make_bucket("empty")
    assert LogStore("s3://empty/inference").read().empty
    with pytest.raises(LogStoreError, match=r"s3://no-such-bucket/log: bucket 'no-such-bucket' does not exist"):
        LogStore("s3://no-such-bucket/log").read()


def test_with_s3_down_the_writer_keeps_what_fits_counts_the_rest_and_writes_it_after(s3: S3Server) -> None:
    s3.make_bucket("mlops")
    store = LogStore("s3://mlops/outage")
    buffer = LogBuffer(store, flush_seconds=0.1, max_buffered_rows=20)
    try:
        probability = np.full(5, 0.9)
        buffer.add(columns(5, 0), probability, probability > 0.5, "churn:1", NOW)
        wait_for(lambda: buffer.written_rows == 5, 20, "the first rows to be written")
        assert store.read()["customer_id"].tolist() == [f"C{i}" for i in range(5)]

        s3.stop()
        added = [
            buffer.add(columns(5, start), probability, probability > 0.5, "churn:1", NOW) for start in range(5, 40, 5)
        ]
        assert added == [True] * 4 + [False] * 3  # 20 rows fit; 15 are dropped, counted exactly
        time.sleep(1)
        assert buffer.thread.is_alive()
        assert (buffer.written_rows, buffer.buffered_rows, buffer.dropped_rows) == (5, 20, 15)
        with pytest.raises(LogStoreError, match="inference log at s3://mlops/outage cannot be read"):
            store.read()

        s3.start()  # moto starts empty: the bucket again, then the buffered rows arrive
        s3.make_bucket("mlops")
        wait_for(lambda: buffer.written_rows == 25, 60, "the buffered rows to be written after the outage")
        assert store.read()["customer_id"].tolist() == [f"C{i}" for i in range(5, 25)]
    finally:
        buffer.close()
    assert (buffer.written_rows, buffer.dropped_rows, buffer.buffered_rows) == (25, 15, 0)


def _metric(text: str, name: str) -> float:
    found = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]
    return sum(found)


def _post_batch(client: httpx.Client, rows: int) -> None:
    response = client.post("/predict_batch", json={"records": [valid_record()] * rows})
    assert response.status_code == 200, response.text


def test_the_service_logs_to_s3_answers_through_an_outage_and_drift_cannot_check(
    s3: S3Server, trained_model: TrainedModel, tmp_path: Path
) -> None:
    s3.make_bucket("mlops")
    url = "s3://mlops/service-log"
    settings: dict[str, Any] = yaml.safe_load(trained_model.params_file.read_text(encoding="utf-8"))
    settings["serve"]["inference_log"] |= {"url": url, "flush_seconds": 0.2, "max_buffered_rows": 30}
    settings["drift"]["sources"] = ["inference_log"]
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(settings), encoding="utf-8")
    model = TrainedModel(
        trained_model.folder, params, trained_model.params, trained_model.bentoml_home, trained_model.tag
    )
    store = LogStore(url)
    with serving(model, tmp_path / "server.log") as base, httpx.Client(base_url=base, timeout=30) as client:
        _post_batch(client, 4)
        wait_for(lambda: len(store.read()) == 4, 30, "the service's first file in S3")
        assert set(store.read()["model_version"]) == {trained_model.tag}

        s3.stop()
        for _ in range(5):
            _post_batch(client, 10)  # the service keeps answering; 30 rows fit, 20 are dropped
        metrics = client.get("/metrics").text
        assert _metric(metrics, "mlops_inference_log_dropped_rows_total") == 20
        assert _metric(metrics, "mlops_inference_log_written_rows_total") == 4
        assert _metric(metrics, "mlops_predictions_total") == 54

        drift = subprocess.run(
            [tool("mlops"), "drift", "--params", str(params)],
            env=model.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert drift.returncode == EXIT_CANNOT_CHECK, drift.stdout + drift.stderr
        assert f"could not check: the inference log at {url} cannot be read" in drift.stderr
        assert "Traceback" not in drift.stderr

        s3.start()
        s3.make_bucket("mlops")
        wait_for(lambda: len(store.read()) == 30, 60, "the rows buffered through the outage")
        wait_for(
            lambda: _metric(client.get("/metrics").text, "mlops_inference_log_written_rows_total") == 34,
            10,
            "the written-rows counter",
        )
    log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert f"cannot write to {url}" in log
    assert "dropping new predictions" in log
    assert f"writing to {url} again" in log
