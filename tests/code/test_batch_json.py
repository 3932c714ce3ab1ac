"""A JSON batch body: the fast reader may only ever agree with the general one.

`read_batch` + `vouched_batch` (msgspec, the contract's JSON types) either give exactly the
columns `checked_body` (orjson, the column checks, the request model) gives, or decline.
Hypothesis sends valid, odd and invalid rows as records and as columns to both.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_template.serving.batch_json import checked_body, columns_from_json, read_batch, vouched_batch
from mlops_template.serving.columnar import columns_from_records
from tests.example import example_only
from tests.request_values import RECORD, VALID, as_columns, same_columns

# Its data are the example's columns: skipped for another contract, where
# test_service_any_contract.py and test_request_numbers.py check the service.
pytestmark = example_only

PLAIN = VALID | {"tenure_months": 12.5}  # every value in its JSON type (VALID sends a number as text)


def fast(body: bytes, max_rows: int = 10) -> dict[str, np.ndarray] | None:
    batch = read_batch(body)
    return None if batch is None else vouched_batch(batch, max_rows)


def as_body(shape: str, records: list[dict[str, Any]]) -> bytes:
    return json.dumps({shape: records if shape == "records" else as_columns(records)}).encode()


@pytest.mark.parametrize("shape", ["records", "columns"])
def test_plain_valid_rows_take_the_fast_path_and_match_the_general_one(shape: str) -> None:
    records: list[dict[str, Any]] = [
        PLAIN,
        PLAIN | {"age": None, "region": "Mars", "has_partner": False, "customer_id": "C1"},
        {"signup_date": "1999-12-31"},
    ]
    body = as_body(shape, records)
    got = fast(body)
    assert got is not None, "plain valid rows must take the fast path"
    same_columns(got, checked_body(body, max_rows=10))
    same_columns(got, columns_from_json(body, max_rows=10))


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"tenure_months": "12.5"}, None),  # a number as text: valid, converted by the request model
        ({"has_partner": 1}, None),  # a number for a yes/no: valid, converted too
        ({"age": 200}, "age"),  # out of range
        ({"has_partner": "maybe"}, "has_partner"),
        ({"signup_date": "2024-02-30"}, "signup_date"),
        ({"signup_date": None}, "signup_date"),  # required
        ({"region": "x" * 101}, "region"),  # too long
        ({"colour": "blue"}, "colour"),  # unknown
    ],
)
@pytest.mark.parametrize("shape", ["records", "columns"])
def test_anything_but_plain_valid_rows_is_left_to_the_general_reader(
    shape: str, change: dict[str, Any], refused: str | None
) -> None:
    body = as_body(shape, [PLAIN, PLAIN | change])
    assert fast(body) is None
    if refused is None:
        assert columns_from_json(body, max_rows=10)["signup_date"].tolist() == [PLAIN["signup_date"]] * 2
        return
    with pytest.raises(ValidationError) as error:
        columns_from_json(body, max_rows=10)
    assert refused in error.value.errors()[0]["loc"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"records": []}',
        b'{"records": [{"signup_date": "2024-01-01"}], "columns": {"signup_date": ["2024-01-01"]}}',
        b'{"columns": {"signup_date": ["2024-01-01"], "age": [1, 2]}}',
        json.dumps({"records": [{"signup_date": "2024-01-01"}] * 11}).encode(),
    ],
)
def test_a_body_out_of_shape_is_left_to_the_general_reader(body: bytes) -> None:
    assert fast(body) is None
    with pytest.raises(ValidationError):
        columns_from_json(body, max_rows=10)


def test_a_repeated_field_counts_once_with_its_last_value_on_both_paths() -> None:
    body = b'{"records": [{"signup_date": "2024-01-01", "age": 25, "age": 27}]}'
    got = fast(body)
    assert got is not None
    assert got["age"].tolist() == [27.0]
    same_columns(got, checked_body(body, max_rows=10))


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        (b"{bad", ("body",), "Invalid JSON"),
        (b"[1, 2]", (), "valid dictionary"),
        (b"{}", ("body",), "either 'records'"),
        (b'{"records": [{}], "columns": {}}', ("body",), "either 'records'"),
        (b'{"rows": []}', ("rows",), "Extra inputs"),
        (b'{"records": []}', ("records",), "at least 1 item"),
        (b'{"records": [7]}', ("records", 0), "valid dictionary"),
        (b'{"columns": {"age": 3}}', ("columns", "age"), "valid list"),
        # What orjson refuses but JSON writers emit still reaches the checks, which name the field.
        (b'{"records": [{"signup_date": "2024-01-01", "age": NaN}]}', ("records", 0, "age"), "finite number"),
        (b'{"columns": {"signup_date": ["2024-01-01"], "age": [1e999]}}', ("columns", "age", 0), "finite number"),
        (
            b'{"records": [{"signup_date": "2024-01-01", "age": 123456789012345678901234567890}]}',
            ("records", 0, "age"),
            "less than",
        ),
    ],
)
def test_a_bad_batch_body_gets_an_error_naming_where(body: bytes, loc: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        columns_from_json(body, max_rows=10)
    first = error.value.errors()[0]
    assert first["loc"] == loc
    assert message in first["msg"]


def test_a_batch_body_as_records_or_columns_gives_the_same_columns() -> None:
    records = [VALID, VALID | {"age": None, "region": "Mars"}]
    as_records = columns_from_json(json.dumps({"records": records}).encode(), max_rows=10)
    by_columns = columns_from_json(json.dumps({"columns": as_columns(records)}).encode(), max_rows=10)
    same_columns(as_records, by_columns)
    same_columns(as_records, columns_from_records(records))


@settings(max_examples=400, deadline=None)
@given(
    records=st.lists(RECORD, min_size=1, max_size=4),
    shape=st.sampled_from(["records", "columns"]),
    max_rows=st.integers(1, 4),
)
def test_the_fast_reader_never_disagrees_with_the_general_one(
    records: list[dict[str, Any]], shape: str, max_rows: int
) -> None:
    body = as_body(shape, records)
    got = fast(body, max_rows)
    event("fast" if got is not None else "declined")
    if got is None:
        return  # declined: the general reader decides, as for any body
    same_columns(got, checked_body(body, max_rows))  # must not raise
