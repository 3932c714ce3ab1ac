"""The real service answers in its task's terms, whatever the contract: one record, a batch
(records and columns) and a file, on a model trained on data synthesised from schema.py.

A binary target gets the positive label's probability and the label at the threshold, a
multi-class target each class's probability and the most probable class, a number target
the predicted value; batches answer column-wise with the same fields. `make test-swap` runs
this against another dataset's contract; test_service.py holds the example's details.
"""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from mlops_template.features import contract
from tests.contract_data import raw_frame
from tests.integration.conftest import Served

SPEC = contract()
TIMEOUT = httpx.Timeout(60.0)


@pytest.fixture(scope="module")
def client(served: Served) -> httpx.Client:
    return httpx.Client(base_url=served.url, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    raw = raw_frame(rows=40, seed=9).drop(columns=[SPEC.target.name])
    return [{k: v for k, v in row.items() if not pd.isna(v)} for row in raw.to_dict("records")]


def post(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def check_one(answer: dict[str, Any], served: Served) -> None:
    if SPEC.task == "binary":
        assert set(answer) == {"probability", "label", "threshold", "model_version"}
        assert 0 <= answer["probability"] <= 1
        assert answer["label"] == (answer["probability"] >= answer["threshold"])
    elif SPEC.task == "multiclass":
        assert set(answer) == {"label", "probabilities", "model_version"}
        assert set(answer["probabilities"]) == set(SPEC.target.labels)
        assert sum(answer["probabilities"].values()) == pytest.approx(1)
        assert answer["label"] == max(answer["probabilities"], key=answer["probabilities"].get)
    else:
        assert set(answer) == {"value", "model_version"}
        low, high = SPEC.target.min_value, SPEC.target.max_value
        assert low is not None
        assert high is not None
        assert low - (high - low) <= answer["value"] <= high + (high - low)  # a value of the target's scale


def check_batch(answer: dict[str, Any], rows: int, singles: list[dict[str, Any]]) -> None:
    assert answer["rows"] == rows
    if SPEC.task == "binary":
        np.testing.assert_allclose(answer["probability"], [s["probability"] for s in singles], atol=1e-12)
        assert answer["label"] == [s["label"] for s in singles]
    elif SPEC.task == "multiclass":
        assert answer["label"] == [s["label"] for s in singles]
        for name, column in answer["probabilities"].items():
            np.testing.assert_allclose(column, [s["probabilities"][name] for s in singles], atol=1e-12)
    else:
        np.testing.assert_allclose(answer["value"], [s["value"] for s in singles], atol=1e-9)


@pytest.fixture(scope="module")
def singles(client: httpx.Client, records: list[dict[str, Any]], served: Served) -> list[dict[str, Any]]:
    answers = []
    for record in records[:10]:
        response = post(client, "/predict", record)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def test_one_record_gets_the_tasks_answer(singles: list[dict[str, Any]], served: Served) -> None:
    for answer in singles:
        check_one(answer, served)
        assert answer["model_version"] == served.model.tag


def test_a_batch_of_records_and_of_columns_answers_as_the_single_records(
    client: httpx.Client, records: list[dict[str, Any]], singles: list[dict[str, Any]]
) -> None:
    few = records[:10]
    as_records = post(client, "/predict_batch", {"records": few})
    names = dict.fromkeys(name for record in few for name in record)
    as_columns = post(client, "/predict_batch", {"columns": {n: [r.get(n) for r in few] for n in names}})
    for response in (as_records, as_columns):
        assert response.status_code == 200, response.text
        check_batch(response.json(), len(few), singles)


def test_a_file_answers_as_the_single_records(
    client: httpx.Client, records: list[dict[str, Any]], singles: list[dict[str, Any]]
) -> None:
    frame = raw_frame(rows=40, seed=9).drop(columns=[SPEC.target.name]).head(10)
    body = io.StringIO()
    frame.to_csv(body, index=False)
    response = client.post("/predict_file", content=body.getvalue().encode(), headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    check_batch(response.json(), 10, singles)
