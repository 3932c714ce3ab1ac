"""The batch endpoint's column-wise check may only ever agree with the request model.

`vouched_columns` is a shortcut: for any batch it either returns exactly the columns the
request model (pydantic, record by record) would lead to, or declines. Hypothesis throws
valid, odd and invalid values at both. A batch sent as columns must meet the same fate as
the same rows sent as records.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_template.serving.columnar import columns_from_columns, columns_from_records, join_columns, vouched_columns
from mlops_template.serving.request import record_model, records_to_columns
from tests.example import example_only
from tests.request_values import RECORD, VALID, as_columns, same_columns

# Its data are the example's columns: skipped for another contract, where
# test_service_any_contract.py and test_request_numbers.py check the service.
pytestmark = example_only


def test_valid_records_are_vouched_for_and_match_the_request_model() -> None:
    records: list[dict[str, Any]] = [
        VALID,
        VALID | {"age": None, "region": "Mars", "has_partner": False},
        {"signup_date": "1999-12-31"},
    ]
    fast = vouched_columns(records)
    assert fast is not None, "plain valid records must take the fast path"
    same_columns(fast, records_to_columns([record_model().model_validate(r) for r in records]))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 200}, "age"),
        ({"age": True}, "age"),
        ({"age": "forty"}, "age"),
        ({"has_partner": "maybe"}, "has_partner"),
        ({"signup_date": "2024-02-30"}, "signup_date"),
        ({"signup_date": None}, "signup_date"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_record_is_left_to_the_request_model_which_names_record_and_field(
    change: dict[str, Any], field: str
) -> None:
    records = [VALID, VALID | change]
    assert vouched_columns(records) is None
    with pytest.raises(ValidationError) as error:
        columns_from_records(records)
    assert error.value.errors()[0]["loc"][:3] == ("records", 1, field)


@pytest.mark.parametrize(
    ("sent", "loc", "message"),
    [
        ({"signup_date": ["2024-01-01"], "colour": ["red"]}, ("columns", "colour"), "Extra inputs"),
        ({"age": [3]}, ("columns", "signup_date"), "Field required"),
        ({"signup_date": ["2024-01-01"], "age": [3, 4]}, ("columns", "age"), "2 value(s) where the batch has 1 row(s)"),
        ({"signup_date": []}, ("columns",), "at least one row"),
        ({"signup_date": ["2024-01-01"] * 11}, ("columns",), "11 rows; at most 10"),
    ],
)
def test_a_batch_of_columns_out_of_shape_gets_one_error_naming_the_column(
    sent: dict[str, list[Any]], loc: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        columns_from_columns(sent, max_rows=10)
    errors = error.value.errors()
    assert len(errors) == 1, errors
    assert errors[0]["loc"] == loc
    assert message in errors[0]["msg"]


def test_joined_batches_keep_their_order() -> None:
    first = columns_from_records([VALID | {"age": 21}])
    second = columns_from_records([VALID | {"age": 22}, VALID | {"age": 23}])
    assert join_columns([first, second])["age"].tolist() == [21.0, 22.0, 23.0]


@settings(max_examples=400, deadline=None)
@given(records=st.lists(RECORD, min_size=1, max_size=4))
def test_the_shortcut_never_disagrees_with_the_request_model(records: list[dict[str, Any]]) -> None:
    fast = vouched_columns(records)
    event("vouched" if fast is not None else "declined")
    if fast is None:
        return  # declined: the request model decides, as for any batch
    validated = [record_model().model_validate(r) for r in records]  # must not raise
    same_columns(fast, records_to_columns(validated))
    assert not any(isinstance(v, float) and math.isinf(v) for v in fast["age"].tolist())


@settings(max_examples=300, deadline=None)
@given(records=st.lists(RECORD, min_size=1, max_size=4))
def test_columns_and_records_meet_the_same_checks(records: list[dict[str, Any]]) -> None:
    # Records spell out every field (null where left out): in columns an absent value is null.
    names = list(dict.fromkeys(name for record in records for name in record))
    filled = [{name: record.get(name) for name in names} for record in records]
    try:
        expected: dict[str, np.ndarray] | ValidationError = columns_from_records(filled)
    except ValidationError as exc:
        expected = exc
    try:
        got: dict[str, np.ndarray] | ValidationError = columns_from_columns(as_columns(filled), max_rows=10)
    except ValidationError as exc:
        got = exc
    event("refused" if isinstance(expected, ValidationError) else "accepted")
    if not isinstance(expected, ValidationError):
        assert not isinstance(got, ValidationError), got
        same_columns(got, expected)
        return
    assert isinstance(got, ValidationError)
    if "extra" in names:
        return  # an unknown column is one error about the column, not one per row
    # The same (field, row) pairs, named as the client sent them.
    assert {(loc[2], loc[1]) for loc in (e["loc"] for e in expected.errors())} == {
        (loc[1], loc[2]) for loc in (e["loc"] for e in got.errors())
    }
