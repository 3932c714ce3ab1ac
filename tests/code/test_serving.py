"""Units of the service: the request model read off the contract, the frame it builds,
and coalescing of concurrent requests (the buffered inference log: test_log_buffer.py)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from mlops_template.cleaning import clean_features
from mlops_template.features import contract
from mlops_template.serving.coalesce import INLINE_ROWS, Coalescer
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.request import BatchPrediction, record_model, records_to_columns
from tests.example import example_only

# Its data are the example's columns: skipped for another contract, where
# test_service_any_contract.py and test_request_numbers.py check the service.
pytestmark = example_only

VALID = {"signup_date": "2024-02-29", "age": "41", "region": " North ", "has_partner": "Y", "auto_renew": False}


def test_the_request_model_is_the_raw_contract_without_the_target() -> None:
    fields = record_model().model_fields
    spec = contract()
    assert set(fields) == {c.name for c in spec.columns} - {spec.target.name}
    for column in spec.features():
        assert fields[column.name].is_required() == (not column.nullable), column.name


@pytest.mark.parametrize("column", contract().features("number"), ids=lambda c: c.name)
def test_numbers_are_held_to_the_contract_range(column: Any) -> None:
    model = record_model()
    model.model_validate(VALID | {column.name: column.min_value})
    model.model_validate(VALID | {column.name: column.max_value})
    for outside in (column.min_value - 1, column.max_value + 1, float("nan"), True):
        with pytest.raises(ValidationError) as error:
            model.model_validate(VALID | {column.name: outside})
        assert error.value.errors()[0]["loc"] == (column.name,)


@pytest.mark.parametrize("column", contract().features("boolean"), ids=lambda c: c.name)
def test_yes_no_takes_the_gate_spellings_and_nothing_else(column: Any) -> None:
    model = record_model()
    for spelling in ("yes", "Y", "TRUE", "1", "no", "n", "False", "0", True, False, 1, 0, None):
        model.model_validate(VALID | {column.name: spelling})
    wrong_values: list[object] = ["maybe", "2", 2, [], {}]
    for wrong in wrong_values:
        with pytest.raises(ValidationError):
            model.model_validate(VALID | {column.name: wrong})


def test_categories_are_free_strings_and_unknown_ones_become_missing_when_cleaned() -> None:
    category = contract().features("category")[0]
    model = record_model()
    records = [model.model_validate(VALID | {category.name: value}) for value in ("Mars", None, category.categories[0])]
    clean = clean_features(pd.DataFrame(records_to_columns(records)))
    assert clean[category.name].isna().tolist() == [True, True, False]


def test_unknown_fields_and_the_target_are_refused() -> None:
    for extra in ("colour", contract().target.name):
        with pytest.raises(ValidationError, match=extra):
            record_model().model_validate(VALID | {extra: "x"})


def test_the_frame_cleans_like_the_same_rows_read_from_a_csv() -> None:
    """A request record and the same row in an export are one thing to clean_features."""
    rows = [VALID, {"signup_date": "2023-01-31", "plan": "PREMIUM", "tenure_months": 3.5, "paperless_billing": "n"}]
    model = record_model()
    from_requests = clean_features(pd.DataFrame(records_to_columns([model.model_validate(r) for r in rows])))
    csv_like = pd.DataFrame(rows).astype("string").reindex(columns=list(from_requests.columns))
    from_export = clean_features(csv_like)
    pd.testing.assert_frame_equal(from_requests, from_export, check_dtype=False)


def rows(batches: list[list[int]]) -> list[int]:
    """The rows of the batches one model call gets, in order."""
    return [row for batch in batches for row in batch]


@given(probability=arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 1)))
def test_a_batchs_answer_written_by_orjson_is_the_documented_one(probability: np.ndarray) -> None:
    predictor = Predictor(model=Pipeline([("passthrough", "passthrough")]), threshold=0.35, version="churn:abc")
    written = predictor.answer_batch_json(probability)
    assert orjson.loads(written) == orjson.loads(predictor.answer_batch(probability).model_dump_json())
    assert BatchPrediction.model_validate_json(written).rows == len(probability)


def test_coalescing_merges_requests_that_wait_and_keeps_each_answer_with_its_request() -> None:
    calls: list[int] = []
    release = threading.Event()

    def run(items: list[list[int]]) -> list[int]:
        calls.append(len(flat := rows(items)))
        release.wait(5)
        return [item * 10 for item in flat]

    async def scenario() -> list[list[int]]:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=100)
        first = asyncio.ensure_future(coalescer.submit([1], 1))
        await asyncio.sleep(0.05)  # the first call is running; these three wait together
        rest = [asyncio.ensure_future(coalescer.submit(items, len(items))) for items in ([2], [3, 4], [5])]
        await asyncio.sleep(0.05)
        release.set()
        answers = await asyncio.gather(first, *rest)
        coalescer.close()
        return answers

    answers = asyncio.run(scenario())
    assert answers == [[10], [20], [30, 40], [50]]
    assert calls == [1, 4]


def test_coalescing_respects_the_row_limit_but_never_splits_a_request() -> None:
    calls: list[int] = []

    def run(items: list[list[int]]) -> list[int]:
        calls.append(len(flat := rows(items)))
        return flat

    async def scenario() -> None:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=3)
        await asyncio.gather(*(coalescer.submit(list(range(n)), n) for n in (2, 2, 5, 1)))
        coalescer.close()

    asyncio.run(scenario())
    assert calls == [2, 2, 5, 1]  # 2+2 would pass the limit of 3; the 5 goes alone


def test_a_request_that_breaks_the_model_fails_alone() -> None:
    def run(items: list[list[int]]) -> list[int]:
        if -1 in (flat := rows(items)):
            raise ValueError("bad row")
        return flat

    async def scenario() -> list[Any]:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=100)
        answers = await asyncio.gather(
            coalescer.submit([1], 1), coalescer.submit([-1], 1), coalescer.submit([2], 1), return_exceptions=True
        )
        coalescer.close()
        return list(answers)

    good, bad, other = asyncio.run(scenario())
    assert good == [1]
    assert other == [2]
    assert isinstance(bad, ValueError)


def test_a_small_request_alone_runs_on_the_callers_thread_and_any_other_in_the_model_thread() -> None:
    threads: list[int] = []

    def run(items: list[list[int]]) -> list[int]:
        threads.append(threading.get_ident())
        return rows(items)

    async def scenario() -> int:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=100)
        assert await coalescer.submit([1], 1, alone=lambda: True) == [1]
        assert await coalescer.submit([2], 1, alone=lambda: False) == [2]  # others in flight
        large = list(range(INLINE_ROWS + 1))
        assert await coalescer.submit(large, len(large), alone=lambda: True) == large
        coalescer.close()
        return threading.get_ident()

    caller = asyncio.run(scenario())
    assert threads[0] == caller
    assert caller not in threads[1:]


def test_a_requests_own_work_runs_in_the_model_thread_not_the_callers() -> None:
    threads: list[int] = []

    def run(items: list[list[int]]) -> list[int]:
        threads.append(threading.get_ident())
        return rows(items)

    async def scenario() -> tuple[int, int]:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=100)
        worker = await coalescer.in_model_thread(threading.get_ident)
        assert await coalescer.submit([1, 2], 2) == [1, 2]
        coalescer.close()
        return worker, threading.get_ident()

    worker, caller = asyncio.run(scenario())
    assert worker != caller
    assert threads == [worker]


def test_requests_received_together_are_not_taken_for_one_alone() -> None:
    """Each request runs until it first waits, so the first of a burst would see only itself
    in flight; the coalescer yields once before it believes that."""
    threads: list[int] = []
    active = 0

    def run(items: list[list[int]]) -> list[int]:
        threads.append(threading.get_ident())
        return rows(items)

    async def request(coalescer: Coalescer[list[int], int], item: int) -> list[int]:
        nonlocal active
        active += 1
        try:
            return await coalescer.submit([item], 1, alone=lambda: active == 1)
        finally:
            active -= 1

    async def scenario() -> tuple[list[list[int]], int]:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=100)
        answers = await asyncio.gather(*(request(coalescer, item) for item in range(4)))
        coalescer.close()
        return list(answers), threading.get_ident()

    answers, caller = asyncio.run(scenario())
    assert answers == [[0], [1], [2], [3]]
    assert caller not in threads


def test_without_coalescing_every_request_is_its_own_call() -> None:
    calls: list[int] = []

    def run(items: list[list[int]]) -> list[int]:
        calls.append(len(flat := rows(items)))
        return flat

    async def scenario() -> None:
        coalescer: Coalescer[list[int], int] = Coalescer(run, max_rows=0)
        await asyncio.gather(*(coalescer.submit([i], 1) for i in range(5)))
        coalescer.close()

    asyncio.run(scenario())
    assert calls == [1] * 5
