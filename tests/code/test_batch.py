"""A batch, read with the batch types or decided by the record model: the same columns, or errors naming where.

`read_json` / `read_lists` (msgspec, the contract's JSON types) either give exactly the
columns `decide_json` / `decide_lists` (the pydantic record model) give, or decline. Two
properties hold them together, so that neither an always-declining nor an always-accepting
reader passes: what the batch types accept, the record model accepts with the same values
(fuzzed valid, odd and invalid rows); and plain valid rows are always accepted by them.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from mlops_template.features import Column
from mlops_template.serving.batch import (
    _json_type,
    columns_from_json,
    columns_from_lists,
    decide_json,
    decide_lists,
    read_json,
    read_lists,
)
from mlops_template.serving.request import record_model, records_to_columns
from tests.example import example_only
from tests.request_values import PLAIN_RECORD, RECORD, VALID, as_columns, same_columns

PLAIN = VALID | {"tenure_months": 12.5}


def as_body(shape: str, records: list[dict[str, Any]]) -> bytes:
    return json.dumps({shape: records if shape == "records" else as_columns(records)}).encode()


def as_text(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """The rows as a CSV export's columns: every value as text, a missing one None."""
    return {name: [None if v is None else str(v) for v in values] for name, values in as_columns(records).items()}


def outcome(decide: Any, *args: Any) -> dict[str, np.ndarray] | ValidationError:
    try:
        columns: dict[str, np.ndarray] = decide(*args)
    except ValidationError as exc:
        return exc
    return columns


def agrees(read: dict[str, np.ndarray] | None, decided: dict[str, np.ndarray] | ValidationError) -> bool:
    """The batch types declined, or gave what the record model gives."""
    if read is None:
        return True
    assert not isinstance(decided, ValidationError), (
        f"the batch types accepted what the record model refuses: {decided}"
    )
    same_columns(read, decided)
    return True


@example_only
@pytest.mark.parametrize("shape", ["records", "columns"])
def test_plain_valid_rows_are_read_by_the_batch_types_as_the_record_model_reads_them(shape: str) -> None:
    records: list[dict[str, Any]] = [
        PLAIN,
        VALID | {"age": None, "region": "Mars", "has_partner": False, "customer_id": "C1"},  # "12.5": a number as text
        {"signup_date": "1999-12-31", "has_partner": 1},  # 1 for yes: both read it as true
    ]
    body = as_body(shape, records)
    read = read_json(body, max_rows=10)
    assert read is not None, "plain valid rows must be read by the batch types"
    same_columns(read, decide_json(body, max_rows=10))
    same_columns(read, records_to_columns([record_model().model_validate(r) for r in records]))
    assert read["has_partner"].tolist() == ["Y", False, True]


@example_only
@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"tenure_months": " 12.5"}, None),  # padded text: only the record model reads it as a number
        ({"has_partner": 1.0}, None),  # a float for a yes/no: valid, converted by the record model
        ({"region": 7}, None),  # a number for a category: read as its text by the record model
        ({"customer_id": 12.0}, None),  # and for an id
        ({"region": True}, "region"),  # a boolean is not text
        ({"age": 200}, "age"),  # out of range
        ({"age": True}, "age"),  # a boolean is not a number
        ({"has_partner": "maybe"}, "has_partner"),
        ({"signup_date": "2024-02-30"}, "signup_date"),
        ({"signup_date": None}, "signup_date"),  # required
        ({"region": "x" * 101}, "region"),  # too long
        ({"colour": "blue"}, "colour"),  # unknown
    ],
)
@pytest.mark.parametrize("shape", ["records", "columns"])
def test_anything_else_is_left_to_the_record_model(shape: str, change: dict[str, Any], refused: str | None) -> None:
    body = as_body(shape, [PLAIN, PLAIN | change])
    assert read_json(body, max_rows=10) is None
    if refused is None:
        assert columns_from_json(body, max_rows=10)["signup_date"].tolist() == [PLAIN["signup_date"]] * 2
        return
    with pytest.raises(ValidationError) as error:
        columns_from_json(body, max_rows=10)
    assert refused in error.value.errors()[0]["loc"]
    assert error.value.errors()[0]["loc"][:2] == (("records", 1) if shape == "records" else ("columns", refused))


@example_only
@pytest.mark.parametrize(
    "body",
    [
        b'{"records": []}',
        b'{"records": [{"signup_date": "2024-01-01"}], "columns": {"signup_date": ["2024-01-01"]}}',
        b'{"columns": {"signup_date": ["2024-01-01"], "age": [20, 21]}}',
        json.dumps({"records": [{"signup_date": "2024-01-01"}] * 11}).encode(),
    ],
)
def test_a_body_out_of_shape_is_left_to_the_record_model(body: bytes) -> None:
    assert read_json(body, max_rows=10) is None
    with pytest.raises(ValidationError):
        columns_from_json(body, max_rows=10)


@example_only
def test_a_repeated_field_counts_once_with_its_last_value_on_both_paths() -> None:
    body = b'{"records": [{"signup_date": "2024-01-01", "age": 25, "age": 27}]}'
    read = read_json(body, max_rows=10)
    assert read is not None
    assert read["age"].tolist() == [27.0]
    same_columns(read, decide_json(body, max_rows=10))


@example_only
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
        # What strict JSON readers refuse but JSON writers emit still reaches the checks, which name the field.
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


@example_only
@pytest.mark.parametrize(
    ("sent", "loc", "message"),
    [
        ({"signup_date": ["2024-01-01"], "colour": ["red"]}, ("columns", "colour"), "Extra inputs"),
        ({"age": [30]}, ("columns", "signup_date"), "Field required"),
        (
            {"signup_date": ["2024-01-01"], "age": [30, 40]},
            ("columns", "age"),
            "2 value(s) where the batch has 1 row(s)",
        ),
        ({"signup_date": []}, ("columns",), "at least one row"),
        ({"signup_date": ["2024-01-01"] * 11}, ("columns",), "11 rows; at most 10"),
    ],
)
def test_columns_out_of_shape_get_one_error_naming_the_column(
    sent: dict[str, list[Any]], loc: tuple[str, ...], message: str
) -> None:
    assert read_lists(sent, max_rows=10) is None
    with pytest.raises(ValidationError) as error:
        columns_from_lists(sent, max_rows=10)
    errors = error.value.errors()
    assert len(errors) == 1, errors
    assert errors[0]["loc"] == loc
    assert message in errors[0]["msg"]


@example_only
def test_a_batch_as_records_as_columns_or_as_text_gives_the_same_columns() -> None:
    records = [PLAIN, VALID | {"age": None, "region": "Mars"}]
    as_records = columns_from_json(as_body("records", records), max_rows=10)
    same_columns(as_records, columns_from_json(as_body("columns", records), max_rows=10))
    same_columns(as_records, columns_from_lists(as_text(records), max_rows=10))


@settings(max_examples=400, deadline=None)
@given(
    records=st.lists(RECORD, min_size=1, max_size=4),
    shape=st.sampled_from(["records", "columns", "text"]),
    max_rows=st.integers(1, 4),
)
def test_what_the_batch_types_accept_the_record_model_accepts_with_the_same_values(
    records: list[dict[str, Any]], shape: str, max_rows: int
) -> None:
    if shape == "text":
        sent = as_text(records)
        read, decided = read_lists(sent, max_rows), outcome(decide_lists, sent, max_rows)
    else:
        body = as_body(shape, records)
        read, decided = read_json(body, max_rows), outcome(decide_json, body, max_rows)
    event(f"{shape}: {'read' if read is not None else 'declined'}")
    assert agrees(read, decided)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(PLAIN_RECORD, min_size=1, max_size=4), shape=st.sampled_from(["records", "columns"]))
def test_plain_valid_rows_are_always_read_by_the_batch_types(records: list[dict[str, Any]], shape: str) -> None:
    body = as_body(shape, records)
    read = read_json(body, max_rows=4)
    assert read is not None, records
    same_columns(read, decide_json(body, max_rows=4))


@settings(max_examples=300, deadline=None)
@given(records=st.lists(RECORD, min_size=1, max_size=4))
def test_columns_and_records_meet_the_same_checks(records: list[dict[str, Any]]) -> None:
    # Records spell out every field (null where left out): in columns an absent value is null.
    names = list(dict.fromkeys(name for record in records for name in record))
    filled = [{name: record.get(name) for name in names} for record in records]
    expected = outcome(columns_from_json, as_body("records", filled), 10)
    got = outcome(columns_from_json, as_body("columns", filled), 10)
    event("refused" if isinstance(expected, ValidationError) else "accepted")
    assert isinstance(got, ValidationError) == isinstance(expected, ValidationError), (expected, got)
    if not isinstance(expected, ValidationError):
        same_columns(got, expected)  # type: ignore[arg-type]
        return
    assert isinstance(got, ValidationError)
    by_record = {(loc[2], loc[1]) for loc in (e["loc"] for e in expected.errors())}
    by_column = {loc[1:3] for loc in (e["loc"] for e in got.errors())}
    # An unknown field is one error about its column, which stops the check (the body is out
    # of shape); otherwise the same (field, row) pairs, named as the client sent them.
    assert by_column == ({("extra",)} if "extra" in names else by_record)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_an_unbounded_number_column_still_refuses_nan_and_infinity(text: str) -> None:
    """A contract may leave a number without a range: the batch types must still refuse what
    the record model refuses (`allow_inf_nan=False`), sent as text or as an overflowing number."""
    unbounded = Column(name="amount", role="feature", kind="number", nullable=False)
    kind = _json_type(unbounded)
    assert msgspec.json.decode(b"12.5", type=kind) == 12.5
    body = f'"{text}"'.encode() if text[-1].isalpha() else text.encode()
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(body, type=kind, strict=False)
