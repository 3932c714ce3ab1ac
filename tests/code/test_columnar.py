"""The batch endpoint's column-wise check may only ever agree with the request model.

`vouched_columns` is a shortcut: for any batch it either returns exactly the columns the
request model (pydantic, record by record) would lead to, or declines. Hypothesis throws
valid, odd and invalid values at both. A batch sent as columns must meet the same fate as
the same rows sent as records.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_template.features import Column, contract
from mlops_template.serving.columnar import (
    columns_from_columns,
    columns_from_json,
    columns_from_records,
    join_columns,
    vouched_columns,
)
from mlops_template.serving.request import EARLIEST_DATE, LATEST_DATE, record_model, records_to_columns

REQUEST_COLUMNS = [c for c in contract().columns if c.role != "target"]
VALID = {"signup_date": "2024-03-01", "age": 41, "region": "north", "has_partner": "Y", "tenure_months": "12.5"}


def same_columns(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    assert left.keys() == right.keys()
    for name, values in left.items():
        if values.dtype == float:
            np.testing.assert_array_equal(values, right[name], err_msg=name)
        else:
            assert values.tolist() == right[name].tolist(), name


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


def as_columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names = dict.fromkeys(name for record in records for name in record)
    return {name: [record.get(name) for record in records] for name in names}


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


def test_joined_batches_keep_their_order() -> None:
    first = columns_from_records([VALID | {"age": 21}])
    second = columns_from_records([VALID | {"age": 22}, VALID | {"age": 23}])
    assert join_columns([first, second])["age"].tolist() == [21.0, 22.0, 23.0]


def _values(column: Column) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    """Valid values a client might send for a column, and near misses."""
    if column.kind == "number":
        low, high = column.min_value or 0, column.max_value or 100
        numbers = st.floats(low, high) | st.integers(math.ceil(low), math.floor(high))
        near = st.sampled_from([low - 1, high + 1, "1_000", " 4", "1e3", ".5", "5.", "+1", "nan", "Infinity", True])
        return numbers | numbers.map(str) | st.none(), near
    if column.kind == "category":
        return st.sampled_from(column.categories) | st.text(max_size=20) | st.none(), st.text(min_size=101)
    if column.kind == "boolean":
        return st.sampled_from(["yes", "N", "TRUE", "0", "1.0", True, False, None]), st.sampled_from(["maybe", 1, 0.0])
    if column.kind == "date":
        near = st.sampled_from(["2024-02-30", "2024-1-05", "2024-01-01T00:00:00", "٢٠٢٤-٠١-٠١", "0001-01-01", None])
        return st.dates(EARLIEST_DATE, LATEST_DATE).map(lambda d: d.isoformat()), near
    return st.text(max_size=50) | st.none(), st.text(min_size=1_001, max_size=1_010)


JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), st.just([1]), st.just({})
)
STRATEGIES = {c.name: _values(c) for c in REQUEST_COLUMNS}
RECORD = st.builds(
    lambda valid, changes: valid | changes,
    st.fixed_dictionaries(
        {"signup_date": STRATEGIES["signup_date"][0]},
        optional={name: valid for name, (valid, _) in STRATEGIES.items() if name != "signup_date"},
    ),
    # Up to two fields spoiled: near misses of their own kind, junk, or a field the contract does not know.
    st.dictionaries(
        st.sampled_from([*STRATEGIES, "extra"]),
        st.one_of(*(near for _, near in STRATEGIES.values()), JUNK),
        max_size=2,
    ),
)


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
