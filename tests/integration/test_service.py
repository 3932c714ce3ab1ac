"""The real service on 127.0.0.1: answers, errors, fuzzing, train/serve skew, the inference log.

The server is started once for the module (`served` in conftest.py) from a model the real
stages trained; requests go over HTTP exactly as a client sends them.
"""

from __future__ import annotations

import io
import json
import math
import time
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_template.data.generate import GeneratorSettings, generate_raw
from mlops_template.deploy.smoke import smoke
from mlops_template.features import contract
from mlops_template.logstore import LogStore
from mlops_template.prepare import prepare
from mlops_template.schema import RawRecords
from mlops_template.serving.request import EARLIEST_DATE, LATEST_DATE, record_model
from mlops_template.validate import run_gate
from tests.example import example_only
from tests.integration.conftest import Served
from tests.processes import free_port

# Its data are the example's columns: skipped for another contract, where
# test_service_any_contract.py and test_request_numbers.py check the service.
pytestmark = example_only

TIMEOUT = httpx.Timeout(60.0)


def valid_records(rows: int, seed: int) -> list[dict[str, Any]]:
    """Raw rows as a CSV export has them (text, every defect), keeping those the request model accepts."""
    raw = generate_raw(GeneratorSettings(rows=rows * 2, seed=seed)).astype("string")
    raw = raw.drop(columns=[contract().target.name])
    model = record_model()
    records = []
    for row in raw.to_dict("records"):
        record = {k: v for k, v in row.items() if isinstance(v, str)}
        try:
            model.model_validate(record)
        except ValidationError:
            continue
        records.append(record)
    return records[:rows]


@pytest.fixture(scope="module")
def client(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.url, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return valid_records(300, seed=5)


def post(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def test_probes_and_metrics_answer(client: httpx.Client) -> None:
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    post(client, "/predict", {"signup_date": "2024-01-01"})
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'endpoint="/predict"' in metrics.text


def test_one_record_gets_probability_label_and_model_version(
    client: httpx.Client, served: Served, records: list[dict[str, Any]]
) -> None:
    response = post(client, "/predict", records[0])
    assert response.status_code == 200, response.text
    answer = response.json()
    assert 0.0 <= answer["probability"] <= 1.0
    assert answer["label"] == (answer["probability"] >= answer["threshold"])
    assert answer["threshold"] == served.model.params.evaluate.decision_threshold
    assert answer["model_version"] == served.model.tag


def test_predictions_equal_the_training_pipeline_on_the_same_rows(
    client: httpx.Client, served: Served, records: list[dict[str, Any]]
) -> None:
    """No train/serve skew: raw rows through `prepare` (the stage) and the saved Pipeline,
    as evaluate scores them, give the service's answers to the same rows sent as JSON."""
    raw = pd.DataFrame(records).reindex(columns=[c.name for c in contract().columns if c.role != "target"])
    raw[contract().target.name] = "no"  # prepare wants a target; the model never sees it
    run_gate(raw, RawRecords.to_schema(), dataset="raw", source="test")  # parse types as the pipeline does
    clean, _ = prepare(raw, drop_duplicates=False)
    model = joblib.load(served.model.params.paths.model_dir / "model.joblib")
    expected = model.predict_proba(clean[list(model.feature_names_in_)])[:, 1]

    response = post(client, "/predict_batch", {"records": records})

    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["probability"], expected, rtol=0, atol=1e-12)


def as_columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The same rows in the batch endpoint's column shape (null where a record left a field out)."""
    names = dict.fromkeys(name for record in records for name in record)
    return {name: [record.get(name) for record in records] for name in names}


def test_batch_file_and_single_answers_agree(client: httpx.Client, records: list[dict[str, Any]]) -> None:
    few = records[:25]
    singles = [post(client, "/predict", record).json()["probability"] for record in few]
    batch = post(client, "/predict_batch", {"records": few}).json()
    by_columns = post(client, "/predict_batch", {"columns": as_columns(few)}).json()
    frame = pd.DataFrame(few)
    csv = client.post("/predict_file", content=frame.to_csv(index=False), headers={"content-type": "text/csv"})
    parquet_body = io.BytesIO()
    frame.to_parquet(parquet_body, index=False)
    parquet = client.post(
        "/predict_file", content=parquet_body.getvalue(), headers={"content-type": "application/vnd.apache.parquet"}
    )
    assert csv.status_code == 200, csv.text
    assert parquet.status_code == 200, parquet.text
    for other in (batch, by_columns, csv.json(), parquet.json()):
        np.testing.assert_allclose(other["probability"], singles, rtol=0, atol=1e-12)
        assert other["rows"] == len(few)


def test_unknown_categories_and_missing_optional_values_are_missing_as_in_training(
    client: httpx.Client, records: list[dict[str, Any]]
) -> None:
    record = dict(records[0])
    category = contract().features("category")[0].name
    number = contract().features("number")[0].name
    unknown = post(client, "/predict", record | {category: "somewhere new"}).json()
    null = post(client, "/predict", record | {category: None}).json()
    absent = post(client, "/predict", {k: v for k, v in record.items() if k != category}).json()
    assert unknown["probability"] == null["probability"] == absent["probability"]
    no_number = post(client, "/predict", record | {number: None})
    assert no_number.status_code == 200
    spelled = post(client, "/predict", record | {category: f"  {record[category].upper()} "}).json()
    assert spelled["probability"] == post(client, "/predict", record).json()["probability"]


BAD_REQUESTS: list[tuple[str, Any, str]] = [
    ("out of range", {"age": 200}, "age"),
    ("below range", {"tenure_months": -1}, "tenure_months"),
    ("not a number", {"monthly_charges": "a lot"}, "monthly_charges"),
    ("boolean for a number", {"num_devices": True}, "num_devices"),
    ("infinite", {"total_charges": "Infinity"}, "total_charges"),
    ("unknown yes/no spelling", {"has_partner": "maybe"}, "has_partner"),
    ("boolean for a category", {"region": True}, "region"),
    ("not a date", {"signup_date": "last tuesday"}, "signup_date"),
    ("a date pandas cannot hold", {"signup_date": "2263-01-01"}, "signup_date"),
    ("missing required", {"signup_date": None}, "signup_date"),
    ("unknown field", {"favourite_colour": "blue"}, "favourite_colour"),
    ("the target", {"churned": "yes"}, "churned"),
    ("huge text", {"notes": "x" * 10_000}, "notes"),
]


@pytest.mark.parametrize(("case", "change", "field"), BAD_REQUESTS, ids=[case for case, _, _ in BAD_REQUESTS])
def test_a_bad_record_gets_a_4xx_naming_the_field(
    client: httpx.Client, records: list[dict[str, Any]], case: str, change: dict[str, Any], field: str
) -> None:
    record = records[0] | change
    single = post(client, "/predict", record)
    batch = post(client, "/predict_batch", {"records": [records[1], record]})
    columns = post(client, "/predict_batch", {"columns": as_columns([records[1], record])})
    for response in (single, batch, columns):
        assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
        assert field in response.text, (case, response.text)
    assert "records" in batch.text  # the field is named as the client sent it
    assert "columns" in columns.text


BAD_BODIES: list[tuple[str, bytes, str, str]] = [
    ("not JSON", b"{bad", "application/json", "/predict"),
    ("empty body", b"", "application/json", "/predict"),
    ("a list for a record", b"[1, 2]", "application/json", "/predict"),
    ("records not a list", b'{"records": {"a": 1}}', "application/json", "/predict_batch"),
    ("no records", b'{"records": []}', "application/json", "/predict_batch"),
    ("neither records nor columns", b'{"rows": [{"age": 3}]}', "application/json", "/predict_batch"),
    ("both records and columns", b'{"records": [{}], "columns": {}}', "application/json", "/predict_batch"),
    ("columns not lists", b'{"columns": {"age": 3}}', "application/json", "/predict_batch"),
    ("no rows in columns", b'{"columns": {"signup_date": []}}', "application/json", "/predict_batch"),
    (
        "ragged columns",
        b'{"columns": {"signup_date": ["2024-01-01"], "age": [1, 2]}}',
        "application/json",
        "/predict_batch",
    ),
    ("form encoded", b"age=3", "application/x-www-form-urlencoded", "/predict"),
    ("multipart", b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x", "/predict_batch"),
    ("pickle", b"\x80\x04K\x01.", "application/vnd.bentoml+pickle", "/predict"),
    ("empty file", b"", "text/csv", "/predict_file"),
    ("semicolons", b"a;b\n1;2\n", "text/csv", "/predict_file"),
    ("unknown column", b"signup_date,colour\n2024-01-01,red\n", "text/csv", "/predict_file"),
    ("bad value in file", b"signup_date,age\n2024-01-01,300\n", "text/csv", "/predict_file"),
    ("truncated row", b"signup_date,age\n2024-01-01\n", "text/csv", "/predict_file"),
    ("not parquet", b"PAR1garbage", "application/vnd.apache.parquet", "/predict_file"),
    ("latin-1", "signup_date,region\n2024-01-01,nörth\n".encode("latin-1"), "text/csv", "/predict_file"),
    ("image", b"\x89PNG", "image/png", "/predict_file"),
]


@pytest.mark.parametrize(("case", "body", "content_type", "path"), BAD_BODIES, ids=[c for c, *_ in BAD_BODIES])
def test_a_malformed_body_gets_a_4xx_with_a_reason(
    client: httpx.Client, case: str, body: bytes, content_type: str, path: str
) -> None:
    response = client.post(path, content=body, headers={"content-type": content_type})
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert "error" in response.text, (case, response.text)


def test_a_batch_over_the_limit_is_refused_naming_the_limit(client: httpx.Client, served: Served) -> None:
    limit = served.model.params.serve.max_batch_rows
    records = post(client, "/predict_batch", {"records": [{"signup_date": "2024-01-01"}] * (limit + 1)})
    columns = post(client, "/predict_batch", {"columns": {"signup_date": ["2024-01-01"] * (limit + 1)}})
    for response, shape in ((records, "records"), (columns, "columns")):
        assert response.status_code == 400
        assert shape in response.text
        assert f"{limit:,}" in response.text or str(limit) in response.text


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
FIELDS = [c.name for c in contract().columns]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(range(20)),
    changes=st.dictionaries(st.sampled_from([*FIELDS, "extra", ""]), JSON, max_size=4),
)
def test_fuzzed_records_never_get_a_5xx(
    client: httpx.Client, records: list[dict[str, Any]], base: int, changes: dict[str, Any]
) -> None:
    record = records[base] | changes
    body = json.dumps(record, allow_nan=True)
    columns = json.dumps({"columns": {name: [value] for name, value in record.items()}}, allow_nan=True)
    batch = f'{{"records": [{body}]}}'
    for path, payload in (("/predict", body), ("/predict_batch", batch), ("/predict_batch", columns)):
        response = client.post(path, content=payload, headers={"content-type": "application/json"})
        assert response.status_code < 500, (record, response.text)
        if response.status_code >= 400:
            detail = response.json()["detail"]
            named = {str(part) for error in detail for part in error["loc"]}
            assert named & {*changes, "signup_date"}, (record, response.text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/csv", "", "text/plain"]))
def test_fuzzed_bodies_never_get_a_5xx(client: httpx.Client, body: bytes, content_type: str) -> None:
    for path in ("/predict", "/predict_batch", "/predict_file"):
        response = client.post(path, content=body, headers={"content-type": content_type})
        assert response.status_code < 500, (path, body, response.text)


def _value(column: Any) -> st.SearchStrategy[Any]:
    if column.kind == "number":
        return st.none() | st.floats(column.min_value, column.max_value, allow_nan=False)
    if column.kind == "category":
        return st.none() | st.sampled_from(column.categories) | st.text(max_size=20)
    if column.kind == "boolean":
        return st.none() | st.booleans() | st.sampled_from(["yes", "Y", "no", "0", "TRUE"])
    if column.kind == "date":
        return st.dates(EARLIEST_DATE, LATEST_DATE).map(str)
    return st.none() | st.text(max_size=20)


VALID_RECORD = st.fixed_dictionaries(
    {c.name: _value(c) for c in contract().columns if c.role != "target" and not c.nullable},
    optional={c.name: _value(c) for c in contract().columns if c.role != "target" and c.nullable},
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=VALID_RECORD)
def test_any_record_inside_the_contract_is_scored(client: httpx.Client, record: dict[str, Any]) -> None:
    response = post(client, "/predict", record)
    assert response.status_code == 200, (record, response.text)
    assert 0.0 <= response.json()["probability"] <= 1.0
    assert not math.isnan(response.json()["probability"])


def test_every_prediction_reaches_the_inference_log(
    client: httpx.Client, served: Served, records: list[dict[str, Any]]
) -> None:
    store = LogStore(served.model.params.serve.inference_log.url)
    before = len(store.read())
    post(client, "/predict", records[0])
    post(client, "/predict_batch", {"records": records[:10]})
    deadline = time.monotonic() + 10
    while (log := store.read()).shape[0] < before + 11:
        assert time.monotonic() < deadline, "the inference log was not written within 10 s"
        time.sleep(0.2)
    last = log.tail(10)
    assert set(last["model_version"]) == {served.model.tag}
    assert {c.name for c in contract().features()} <= set(log.columns)
    assert last["probability"].between(0, 1).all()
    assert (last["label"] == (last["probability"] >= served.model.params.evaluate.decision_threshold)).all()


def test_the_smoke_test_passes_on_the_service_and_fails_loudly_without_one(served: Served) -> None:
    result = smoke(served.url, wait_seconds=30, expect_version=served.model.tag)
    assert result.passed, result.message()
    assert len(result.checks) == 4
    wrong_version = smoke(served.url, wait_seconds=5, expect_version="churn:other")
    assert not wrong_version.passed
    assert "expected churn:other" in wrong_version.message()
    nothing = smoke(f"http://127.0.0.1:{free_port()}", wait_seconds=1)
    assert not nothing.passed
    assert "/readyz unreachable" in nothing.message()
