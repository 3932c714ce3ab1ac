"""A batch, as JSON records or columns or as a file's table, turned into checked raw columns.

Two encodings of the contract check requests, both generated from it (`features.contract()`):

- the record model (`request.record_model`, pydantic) checks one record at a time and names
  the field, the row and the rule of every error; `/predict` and the API docs use it;
- the batch types here (msgspec structs) read a whole batch body in C, straight into the
  contract's JSON types: a number a float in its range (or text spelling one), a category
  a string of at most 100 characters, null only where the record model allows it. What
  they cannot say (yes/no spellings, real dates) is checked on each column's values after.

A batch goes through the batch types first. When they decline (a bad value, a body out of
shape, a spelling only the record model reads, such as `" 4"`), the record model decides:
it accepts the batch or raises a `ValidationError` naming every error as the client sent
it (`records.3.age`, `columns.age.3`). The batch types only ever accept what the record
model accepts, with the same values; tests/code/test_batch.py holds them to that.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache
from typing import Annotated, Any

import msgspec
import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import InitErrorDetails, PydanticCustomError

from mlops_template.checks import parse_boolean
from mlops_template.features import Column
from mlops_template.serving.request import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_CATEGORY_LENGTH,
    MAX_TEXT_LENGTH,
    Columns,
    frame_columns,
    record_model,
    records_to_columns,
    request_columns,
)

EITHER_SHAPE = "send either 'records' (a list of objects) or 'columns' (an object of equally long lists)"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_DATE_RANGE = (np.datetime64(EARLIEST_DATE.isoformat()), np.datetime64(LATEST_DATE.isoformat()))


def columns_from_json(body: bytes, max_rows: int) -> Columns:
    """A JSON body's checked raw columns, or a `ValidationError` naming what is wrong."""
    columns = read_json(body, max_rows)
    return columns if columns is not None else decide_json(body, max_rows)


def columns_from_lists(sent: Mapping[str, list[Any]], max_rows: int) -> Columns:
    """The checked raw columns of equally long lists (a file's table), an absent optional
    column being all missing, or a `ValidationError` naming `columns.<field>[.<row>]`."""
    columns = read_lists(sent, max_rows)
    return columns if columns is not None else decide_lists(sent, max_rows)


def read_json(body: bytes, max_rows: int) -> Columns | None:
    """The body read with the batch types, or None when the record model must decide."""
    try:
        batch = _types().decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec's ValidationError is a DecodeError
        return None
    if batch.records is not None and batch.columns is None and 0 < len(batch.records) <= max_rows:
        values = zip(*map(msgspec.structs.astuple, batch.records), strict=True)
        return _finished(dict(zip(_names(), map(list, values), strict=True)))
    if batch.columns is not None and batch.records is None:
        return _from_typed_columns(msgspec.structs.astuple(batch.columns), max_rows)
    return None


def read_lists(sent: Mapping[str, list[Any]], max_rows: int) -> Columns | None:
    """`sent` converted to the batch types, or None when the record model must decide."""
    try:
        typed: Any = msgspec.convert(sent, _types().columns, strict=False)
    except msgspec.ValidationError:
        return None
    return _from_typed_columns(msgspec.structs.astuple(typed), max_rows)


# ---- the batch types -----------------------------------------------------------------------


class _Types(msgspec.Struct, frozen=True):
    decoder: msgspec.json.Decoder[Any]
    columns: type


@cache
def _names() -> tuple[str, ...]:
    return tuple(column.name for column in request_columns())


@cache
def _types() -> _Types:
    """`{"records": [Record, ...]}` or `{"columns": Columns}`, their fields the contract's.

    Records are not tracked by the garbage collector (they hold no cycles), so a batch of
    them does not bring the next collection closer. `strict=False` reads text that spells a
    number (`"42"`) as that number, as the record model does.
    """
    required = {name for name, field in record_model().model_fields.items() if field.is_required()}

    def fields(wrap: Callable[[Any], Any]) -> list[Any]:
        """Required fields as their type; optional ones nullable, and absent meaning null."""
        return [
            (c.name, wrap(_json_type(c))) if c.name in required else (c.name, wrap(_json_type(c) | None) | None, None)
            for c in request_columns()
        ]

    options: dict[str, Any] = {"forbid_unknown_fields": True, "kw_only": True}
    record = msgspec.defstruct("Record", fields(lambda kind: kind), gc=False, **options)
    columns = msgspec.defstruct("Columns", fields(lambda kind: list[kind]), **options)  # type: ignore[valid-type]
    batch = msgspec.defstruct(
        "Batch",
        [("records", list[record] | None, None), ("columns", columns | None, None)],  # type: ignore[valid-type]
        forbid_unknown_fields=True,
    )
    return _Types(msgspec.json.Decoder(batch, strict=False), columns)


def _json_type(column: Column) -> Any:
    """A column's JSON type in a batch: what the record model (`request._field`) accepts
    as sent, apart from what it converts that these types would convert otherwise."""
    if column.kind == "number":  # a boolean is not a number to either
        return Annotated[float, msgspec.Meta(ge=column.min_value, le=column.max_value)]
    if column.kind == "boolean":
        return bool | str  # a string must be a known spelling: checked in `_finished`
    if column.kind == "date":
        return str  # YYYY-MM-DD, a real date in range: checked in `_finished`
    limit = MAX_TEXT_LENGTH if column.role == "text" else MAX_CATEGORY_LENGTH
    return Annotated[str, msgspec.Meta(max_length=limit)]


def _from_typed_columns(values: tuple[list[Any] | None, ...], max_rows: int) -> Columns | None:
    sent = dict(zip(_names(), values, strict=True))
    lengths = {len(column) for column in sent.values() if column is not None}
    if len(lengths) != 1 or not 0 < (rows := lengths.pop()) <= max_rows:
        return None
    return _finished({name: [None] * rows if column is None else column for name, column in sent.items()})


def _finished(sent: dict[str, list[Any]]) -> Columns | None:
    """The columns the model and the log need, once yes/no spellings and dates pass; None
    if one does not (the record model then decides)."""
    columns: Columns = {}
    for column in frame_columns():
        values = sent[column.name]
        if column.kind == "boolean" and any(parse_boolean(v) is None for v in set(values) if type(v) is str):
            return None
        if column.kind == "date" and not _real_dates(values):
            return None
        columns[column.name] = np.array(values, dtype=float if column.kind == "number" else object)
    return columns


def _real_dates(values: list[str | None]) -> bool:
    """YYYY-MM-DD dates that exist, inside the range pandas holds (as the record model's `date`)."""
    if not all(_ISO_DATE.fullmatch(value) for value in values if value is not None):
        return False
    try:
        days = np.array(values, dtype="datetime64[D]")  # None becomes NaT
    except ValueError:  # 2024-02-30
        return False
    days = days[~np.isnat(days)]
    return bool(np.all((days >= _DATE_RANGE[0]) & (days <= _DATE_RANGE[1])))


# ---- the record model decides ------------------------------------------------------------


def _loads(body: bytes) -> Any:
    """The body as Python objects: orjson, or the standard library for what orjson refuses
    but JSON writers emit (NaN, integers past 64 bits), so that the record model names the
    field that holds it."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _invalid(_detail("json_invalid", None, ("body",), ctx={"error": str(exc)})) from None


def decide_json(body: bytes, max_rows: int) -> Columns:
    """The record model's verdict on a JSON body: its raw columns, or every error."""
    batch = _outline(max_rows).model_validate(_loads(body))
    records, columns = batch.records, batch.columns  # type: ignore[attr-defined]
    if (records is None) == (columns is None):
        raise _invalid(_detail("batch_shape", EITHER_SHAPE, ("body",)))
    if columns is not None:
        return decide_lists(columns, max_rows)
    return records_to_columns(_records().model_validate({"records": records}).records)  # type: ignore[attr-defined]


def decide_lists(sent: Mapping[str, list[Any]], max_rows: int) -> Columns:
    """The record model's verdict on columns, its errors moved to `columns.<field>.<row>`."""
    _check_shape(sent, max_rows)
    records = [dict(zip(sent, row, strict=True)) for row in zip(*sent.values(), strict=True)]
    try:
        return records_to_columns(_records().model_validate({"records": records}).records)  # type: ignore[attr-defined]
    except ValidationError as exc:  # records.<row>.<field> -> columns.<field>.<row>
        moved = [
            _detail(e["type"], None, ("columns", *e["loc"][2:], e["loc"][1]), e.get("ctx"), e["input"])
            for e in exc.errors(include_url=False)
        ]
        raise _invalid(*moved) from None


def _check_shape(sent: Mapping[str, list[Any]], max_rows: int) -> None:
    """One error per column that is unknown, missing or out of step, and for too few or many rows."""
    known = set(_names())
    lengths = {name: len(values) for name, values in sent.items() if name in known}
    # The length most columns have (the first column's, on a tie) is the batch's.
    rows = Counter(lengths.values()).most_common(1)[0][0] if lengths else 0
    required = [name for name, field in record_model().model_fields.items() if field.is_required()]
    problems = [_detail("extra_forbidden", None, ("columns", name)) for name in sent if name not in known]
    problems += [_detail("missing", None, ("columns", name)) for name in required if name not in sent]
    if rows == 0:
        problems.append(_detail("empty_batch", "send at least one row: a column with one value or more", ("columns",)))
    elif rows > max_rows:
        message = f"{rows:,} rows; at most {max_rows:,} per request (serve.max_batch_rows)"
        problems.append(_detail("too_many_rows", message, ("columns",)))
    problems += [
        _detail("ragged_columns", f"{length:,} value(s) where the batch has {rows:,} row(s)", ("columns", name))
        for name, length in lengths.items()
        if length != rows
    ]
    if problems:
        raise _invalid(*problems)


@cache
def _outline(max_rows: int) -> type[BaseModel]:
    """The body's outline only: which shape, how many rows."""
    model: type[BaseModel] = create_model(
        "Batch",
        __config__=ConfigDict(extra="forbid"),
        records=(list[Any] | None, Field(None, min_length=1, max_length=max_rows)),
        columns=(dict[str, list[Any]] | None, None),
    )
    return model


@cache
def _records() -> type[BaseModel]:
    """`{"records": [Record, ...]}`: errors name the record as `records.<i>.<field>`."""
    model: type[BaseModel] = create_model("Batch", records=(list[record_model()], ...))  # type: ignore[arg-type,misc]
    return model


def _detail(
    kind: str, message: str | None, loc: tuple[Any, ...], ctx: Any = None, value: Any = "..."
) -> InitErrorDetails:
    """One error; `message` None for pydantic's own error types."""
    detail: InitErrorDetails = {
        "type": kind if message is None else PydanticCustomError(kind, message),
        "loc": loc,
        "input": value,
    }
    if ctx is not None:
        detail["ctx"] = ctx
    return detail


def _invalid(*problems: InitErrorDetails) -> ValidationError:
    return ValidationError.from_exception_data("Batch", list(problems))
