"""A batch of JSON records checked column by column: the request model's rules, vectorised.

Validating 1,000 records one pydantic model at a time took longer than predicting them
(~12 ms against ~7 ms, benchmarks/serving_profile.py). Here each contract column is
checked at once with numpy. The fast path only ever says yes to what the request model
(`request.record_model`) would accept with the same values: anything it is not sure of
(an extra field, a number sent as text, a value out of range, a malformed date...) goes
to the request model itself, which accepts it or raises the usual `ValidationError`
naming the record, the field and the rule. So the two paths cannot disagree on what is
valid, and a test holds the fast one to the slow one on fuzzed batches.

A batch comes as records (`[{"age": 31, ...}, ...]`) or as columns (`{"age": [31, ...],
...}`, pandas' and MLflow's "split" shape); both meet the same checks, and errors name
`records.<row>.<field>` or `columns.<field>.<row>` as the client sent them. A JSON body
that is plain and valid does not come here: `serving/batch_json.py` reads it straight into
the contract's JSON types and `typed_columns` finishes it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError, create_model
from pydantic_core import InitErrorDetails, PydanticCustomError

from mlops_template.checks import parse_boolean
from mlops_template.features import Column, contract
from mlops_template.serving.request import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_CATEGORY_LENGTH,
    MAX_TEXT_LENGTH,
    frame_columns,
    record_model,
    records_to_columns,
)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_DATE_RANGE = (np.datetime64(EARLIEST_DATE.isoformat()), np.datetime64(LATEST_DATE.isoformat()))
Columns = dict[str, np.ndarray]


class _UndecidedError(Exception):
    """The fast path cannot vouch for this batch; the request model decides."""


@cache
def batch_model() -> type[BaseModel]:
    """`{"records": [Record, ...]}`: errors then name the record as `records.<i>.<field>`."""
    model: type[BaseModel] = create_model("Batch", records=(list[record_model()], ...))  # type: ignore[arg-type,misc]
    return model


def columns_from_records(records: Sequence[Mapping[str, Any]]) -> Columns:
    """The raw columns of a batch of plain JSON records, as `records_to_columns` builds them
    from validated records; a `ValidationError` naming record and field if one is invalid."""
    columns = vouched_columns(records)
    if columns is None:
        validated = batch_model().model_validate({"records": records}).records  # type: ignore[attr-defined]
        columns = records_to_columns(validated)
    return columns


def columns_from_columns(sent: Mapping[str, list[Any]], max_rows: int) -> Columns:
    """The raw columns of a batch sent column-wise (`{"age": [31, 45], ...}`, equally long
    lists, an absent optional column meaning all missing), checked as records would be;
    a `ValidationError` naming `columns.<field>` or `columns.<field>.<row>` if one is invalid."""
    rows = _column_rows(sent, max_rows)
    try:
        return _checked_fields(lambda name: sent[name] if name in sent else [None] * rows)
    except _UndecidedError:
        pass
    records = [dict(zip(sent, row, strict=True)) for row in zip(*sent.values(), strict=True)]
    try:
        validated = batch_model().model_validate({"records": records}).records  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise _as_column_errors(exc) from None
    return records_to_columns(validated)


def join_columns(batches: Sequence[Columns]) -> Columns:
    """Several batches' columns as one batch, in order (one model call for requests that waited)."""
    if len(batches) == 1:
        return batches[0]
    return {name: np.concatenate([batch[name] for batch in batches]) for name in batches[0]}


def vouched_columns(records: Sequence[Mapping[str, Any]]) -> Columns | None:
    """The raw columns if every record is certainly valid, None when the request model must decide."""
    try:
        return _checked_columns(records)
    except _UndecidedError:
        return None


@cache
def _request_columns() -> tuple[tuple[Column, ...], frozenset[str], frozenset[str]]:
    """The columns a record may carry, their names, and the names the frame keeps."""
    sent = tuple(c for c in contract().columns if c.role != "target")
    return sent, frozenset(c.name for c in sent), frozenset(c.name for c in frame_columns())


def request_columns() -> tuple[Column, ...]:
    """The columns a record may carry: the contract's, without the target."""
    return _request_columns()[0]


def _checked_columns(records: Sequence[Mapping[str, Any]]) -> Columns:
    _, allowed, _ = _request_columns()
    if set(map(type, records)) != {dict} or not set().union(*records) <= allowed:
        raise _UndecidedError
    fields = _fields(records)
    return _checked_fields(lambda name: fields[name] if name in fields else [r.get(name) for r in records])


def _checked_fields(values_of: Callable[[str], list[Any]]) -> Columns:
    """Each request column's values (None where a record left it out) checked at once."""
    sent, _, wanted = _request_columns()
    columns: Columns = {}
    for column in sent:
        values = values_of(column.name)
        kinds = set(map(type, values))
        if column.kind is not None and not column.nullable and _NONE in kinds:
            raise _UndecidedError
        checked = _CHECKS[column.kind](column, values, kinds)
        if column.name in wanted:
            columns[column.name] = checked
    return columns


def _column_rows(sent: Mapping[str, list[Any]], max_rows: int) -> int:
    """The batch's row count, or one error per column that is unknown or out of step."""
    _, allowed, _ = _request_columns()
    lengths = {name: len(values) for name, values in sent.items() if name in allowed}
    # The length most columns have (the first column's, on a tie) is the batch's.
    rows = Counter(lengths.values()).most_common(1)[0][0] if lengths else 0
    unknown = [name for name in sent if name not in allowed]
    absent = [name for name in required_fields() if name not in sent]
    problems = [shape_error("extra_forbidden", None, ("columns", name)) for name in unknown]
    problems += [shape_error("missing", None, ("columns", name)) for name in absent]
    if rows == 0:
        message = "send at least one row: a column with one value or more"
        problems.append(shape_error("empty_batch", message, ("columns",)))
    elif rows > max_rows:
        message = f"{rows:,} rows; at most {max_rows:,} per request (serve.max_batch_rows)"
        problems.append(shape_error("too_many_rows", message, ("columns",)))
    problems += [
        shape_error("ragged_columns", f"{length:,} value(s) where the batch has {rows:,} row(s)", ("columns", name))
        for name, length in lengths.items()
        if length != rows
    ]
    if problems:
        raise ValidationError.from_exception_data("Batch", problems)
    return rows


@cache
def required_fields() -> tuple[str, ...]:
    return tuple(name for name, field in record_model().model_fields.items() if field.is_required())


def shape_error(
    kind: str, message: str | None, loc: tuple[str, ...], ctx: dict[str, Any] | None = None
) -> InitErrorDetails:
    """One error about the body's shape; `message` None for pydantic's own error types."""
    error: InitErrorDetails = {
        "type": kind if message is None else PydanticCustomError(kind, message),
        "loc": loc,
        "input": "...",
    }
    if ctx is not None:
        error["ctx"] = ctx
    return error


def _as_column_errors(exc: ValidationError) -> ValidationError:
    """The request model's `records.<row>.<field>` errors as `columns.<field>.<row>`."""
    moved: list[InitErrorDetails] = []
    for error in exc.errors(include_url=False):
        _, row, *field = error["loc"]
        detail: InitErrorDetails = {"type": error["type"], "loc": ("columns", *field, row), "input": error["input"]}
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        moved.append(detail)
    return ValidationError.from_exception_data("Batch", moved)


def _fields(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Each field's values, transposed in one C-level pass when every record lists the same
    fields in the same order (what a client's serialiser does); empty otherwise, and the
    caller looks fields up record by record."""
    first = list(records[0]) if records else []
    if not all(list(record) == first for record in records):
        return {}
    return dict(zip(first, map(list, zip(*(record.values() for record in records), strict=True)), strict=True))


_NONE = type(None)


def _strings(values: list[Any], kinds: set[type]) -> list[str]:
    return values if kinds == {str} else [v for v in values if type(v) is str]


def _number(column: Column, values: list[Any], kinds: set[type]) -> np.ndarray:
    # Numbers, or plain decimal text as a CSV-minded client sends it ("42", "-1.5e3"), which
    # the request model reads the same way; anything else (booleans, "1_000", lists) is its call.
    if not kinds <= {float, int, str, _NONE}:
        raise _UndecidedError
    if str in kinds and not all(map(_DECIMAL.fullmatch, _strings(values, kinds))):
        raise _UndecidedError
    try:
        numbers = np.array(values, dtype=float)  # None becomes NaN
    except OverflowError:
        raise _UndecidedError from None
    sent = np.array([v is not None for v in values]) if _NONE in kinds else slice(None)
    low = -np.inf if column.min_value is None else column.min_value
    high = np.inf if column.max_value is None else column.max_value
    if not np.all((numbers[sent] >= low) & (numbers[sent] <= high)):  # NaN and infinity fail too
        raise _UndecidedError
    return numbers


def _text(values: list[Any], kinds: set[type], limit: int) -> np.ndarray:
    if not kinds <= {str, _NONE} or max(map(len, _strings(values, kinds)), default=0) > limit:
        raise _UndecidedError
    return np.array(values, dtype=object)


def _category(column: Column, values: list[Any], kinds: set[type]) -> np.ndarray:
    return _text(values, kinds, MAX_CATEGORY_LENGTH)


def _identifier(column: Column, values: list[Any], kinds: set[type]) -> np.ndarray:
    return _text(values, kinds, MAX_TEXT_LENGTH if column.role == "text" else MAX_CATEGORY_LENGTH)


def _yes_no(column: Column, values: list[Any], kinds: set[type]) -> np.ndarray:
    # Numbers (1, 0.0) are valid but the request model turns them into booleans: its call.
    if not kinds <= {bool, str, _NONE}:
        raise _UndecidedError
    if str in kinds:
        _check_spellings(_strings(values, kinds))
    return np.array(values, dtype=object)


def _check_spellings(strings: Iterable[str]) -> None:
    if any(parse_boolean(v) is None for v in set(strings)):
        raise _UndecidedError


def _date(column: Column, values: list[Any], kinds: set[type]) -> np.ndarray:
    if not kinds <= {str, _NONE}:
        raise _UndecidedError
    _check_dates(values, _strings(values, kinds))
    return np.array(values, dtype=object)


def _check_dates(values: list[Any], strings: Iterable[str]) -> None:
    """`values` (strings or None) are YYYY-MM-DD dates that exist, inside the range pandas holds."""
    if not all(map(_ISO_DATE.fullmatch, strings)):
        raise _UndecidedError
    try:
        days = np.array(values, dtype="datetime64[D]")  # None becomes NaT
    except ValueError:  # 2024-02-30
        raise _UndecidedError from None
    sent = ~np.isnat(days)
    if not np.all((days[sent] >= _DATE_RANGE[0]) & (days[sent] <= _DATE_RANGE[1])):
        raise _UndecidedError


_CHECKS: dict[str | None, Callable[[Column, list[Any], set[type]], np.ndarray]] = {
    "number": _number,
    "category": _category,
    "boolean": _yes_no,
    "date": _date,
    None: _identifier,
}


def typed_columns(values_of: Callable[[str], list[Any]]) -> Columns | None:
    """The raw columns of values already held to their JSON type, length and range (a
    number a float in range, a category a short string, null only where the request
    model allows it: `serving/batch_json.py` reads them so), after the checks that are
    left: yes/no spellings and dates. None if one fails, and the request model decides."""
    sent, _, wanted = _request_columns()
    columns: Columns = {}
    try:
        for column in sent:
            values = values_of(column.name)
            if column.kind == "boolean":  # True, False, None or text: the set is a few values
                _check_spellings(v for v in set(values) if type(v) is str)
            elif column.kind == "date":  # text or None
                _check_dates(values, values if None not in values else [v for v in values if v is not None])
            if column.name in wanted:
                columns[column.name] = np.array(values, dtype=float if column.kind == "number" else object)
    except _UndecidedError:
        return None
    return columns
