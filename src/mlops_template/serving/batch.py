"""A batch, as JSON records or columns or as a file's table, turned into checked raw columns.

Two encodings of the contract check requests, both generated from it (`features.contract()`):

- the record model (`request.record_model`, pydantic) checks one record at a time and names
  the field, the row and the rule of every error; `/predict` and the API docs use it;
- the batch types here (msgspec structs) read a whole batch in C, straight into the
  contract's JSON types (a number in its range, a category of at most 100 characters, a
  date YYYY-MM-DD, null where the record model allows it); yes/no spellings and dates
  pandas can hold are checked on each column after.

A batch goes through the batch types first. When they decline (a bad value, a body out of
shape, a spelling only the record model reads, such as `" 4"`), the record model decides:
it accepts the batch or raises a `ValidationError` naming every error as the client sent
it (`records.3.age`, `columns.age.3`). The batch types only ever accept what the record
model accepts, with the same values: tests/code/test_batch.py holds them to that.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Annotated, Any

import msgspec
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import InitErrorDetails, PydanticCustomError

from mlops_template.checks import parse_boolean
from mlops_template.features import Column
from mlops_template.serving import request
from mlops_template.serving.request import Columns, frame_columns, record_model, records_to_columns, request_columns

EITHER_SHAPE = "send either 'records' (a list of objects) or 'columns' (an object of equally long lists)"


def columns_from_json(body: bytes, max_rows: int) -> Columns:
    """A JSON body's checked raw columns, or a `ValidationError` naming what is wrong."""
    columns = read_json(body, max_rows)
    return columns if columns is not None else decide_json(body, max_rows)


def columns_from_lists(sent: Mapping[str, list[Any]], max_rows: int) -> Columns:
    """The checked raw columns of equally long lists (a file's table), an absent optional
    column being all missing, or a `ValidationError` naming `columns.<field>[.<row>]`."""
    columns = read_lists(sent, max_rows)
    return columns if columns is not None else decide_lists(sent, max_rows)


# ---- the batch types -----------------------------------------------------------------------


def read_json(body: bytes, max_rows: int) -> Columns | None:
    """The body read with the batch types, or None when the record model must decide."""
    try:
        batch = _decoder().decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec's ValidationError is a DecodeError
        return None
    if batch.records is not None and batch.columns is None and 0 < len(batch.records) <= max_rows:
        values = zip(*map(msgspec.structs.astuple, batch.records), strict=True)
        return _finished(dict(zip(_names(), map(list, values), strict=True)))
    if batch.columns is not None and batch.records is None:
        return _from_columns(batch.columns, max_rows)
    return None


def read_lists(sent: Mapping[str, list[Any]], max_rows: int) -> Columns | None:
    """`sent` converted to the batch types, or None when the record model must decide."""
    try:
        return _from_columns(msgspec.convert(sent, _columns_type(), strict=False), max_rows)
    except msgspec.ValidationError:
        return None


@cache
def _names() -> tuple[str, ...]:
    return tuple(column.name for column in request_columns())


@cache
def _fields(in_lists: bool) -> list[Any]:
    """Each column's JSON type (in a list, for columns): required as in the record model,
    else nullable, and absent meaning null."""
    required = {name for name, field in record_model().model_fields.items() if field.is_required()}
    fields: list[Any] = []
    for column in request_columns():
        kind = _json_type(column) if column.name in required else _json_type(column) | None
        kind = list[kind] if in_lists else kind  # type: ignore[valid-type]
        fields.append((column.name, kind) if column.name in required else (column.name, kind | None, None))
    return fields


@cache
def _columns_type() -> type:
    return msgspec.defstruct("Columns", _fields(True), forbid_unknown_fields=True, kw_only=True)


@cache
def _decoder() -> msgspec.json.Decoder[Any]:
    """`{"records": [Record, ...]}` or `{"columns": Columns}`. Records are not tracked by the
    garbage collector (they hold no cycles), so a batch of them brings no collection closer;
    `strict=False` reads text spelling a number (`"42"`) as that number, as the record model does."""
    record = msgspec.defstruct("Record", _fields(False), forbid_unknown_fields=True, kw_only=True, gc=False)
    fields = [("records", list[record] | None, None), ("columns", _columns_type() | None, None)]  # type: ignore[valid-type]
    return msgspec.json.Decoder(msgspec.defstruct("Batch", fields, forbid_unknown_fields=True), strict=False)


def _json_type(column: Column) -> Any:
    """What the record model (`request._field`) accepts as sent, apart from what it converts
    and these types would convert otherwise (a boolean is not a number to either)."""
    if column.kind == "number":  # finite bounds also refuse NaN and infinity (text "nan", "inf")
        low = -sys.float_info.max if column.min_value is None else column.min_value
        high = sys.float_info.max if column.max_value is None else column.max_value
        return Annotated[float, msgspec.Meta(ge=low, le=high)]
    if column.kind == "boolean":
        return bool | str  # a string must be a known spelling: checked in `_finished`
    if column.kind == "date":
        return date  # YYYY-MM-DD only; in pandas' range: checked in `_finished`
    limit = request.MAX_TEXT_LENGTH if column.role == "text" else request.MAX_CATEGORY_LENGTH
    return Annotated[str, msgspec.Meta(max_length=limit)]


def _from_columns(typed: Any, max_rows: int) -> Columns | None:
    sent = dict(zip(_names(), msgspec.structs.astuple(typed), strict=True))
    lengths = {len(values) for values in sent.values() if values is not None}
    if len(lengths) != 1 or not 0 < (rows := lengths.pop()) <= max_rows:
        return None
    return _finished({name: [None] * rows if values is None else values for name, values in sent.items()})


def _finished(sent: dict[str, list[Any]]) -> Columns | None:
    """The columns the model and the log take, once yes/no spellings and dates pass; None
    if one does not (the record model then decides)."""
    columns: Columns = {}
    for column in frame_columns():
        values = sent[column.name]
        if column.kind == "boolean" and any(parse_boolean(v) is None for v in set(values) if type(v) is str):
            return None
        if column.kind == "date":  # one pandas can hold, written as the record model's dates are
            if not all(request.EARLIEST_DATE <= day <= request.LATEST_DATE for day in values if day is not None):
                return None
            values = [None if day is None else day.isoformat() for day in values]
        columns[column.name] = np.array(values, dtype=float if column.kind == "number" else object)
    return columns


# ---- the record model decides ------------------------------------------------------------


def decide_json(body: bytes, max_rows: int) -> Columns:
    """The record model's verdict on a JSON body: its raw columns, or every error."""
    sent = _loads(body)
    both = isinstance(sent, dict) and sent.get("records") is not None and sent.get("columns") is not None
    batch = None if both else _batch(max_rows).model_validate(sent)
    if batch is None or (batch.records is None and batch.columns is None):  # type: ignore[attr-defined]
        raise _invalid(_error("batch_shape", EITHER_SHAPE, ("body",)))
    records, columns = batch.records, batch.columns  # type: ignore[attr-defined]
    return records_to_columns(records) if columns is None else decide_lists(columns, max_rows)


def decide_lists(sent: Mapping[str, list[Any]], max_rows: int) -> Columns:
    """The record model's verdict on columns, its errors moved to `columns.<field>.<row>`."""
    _check_shape(sent, max_rows)
    records = [dict(zip(sent, row, strict=True)) for row in zip(*sent.values(), strict=True)]
    try:
        return records_to_columns(_batch(max_rows).model_validate({"records": records}).records)  # type: ignore[attr-defined]
    except ValidationError as exc:  # ("records", row, field) -> ("columns", field, row)
        errors = exc.errors(include_url=False)
        raise _invalid(*(_error(e["type"], None, ("columns", e["loc"][2], e["loc"][1]), e) for e in errors)) from None


def _check_shape(sent: Mapping[str, list[Any]], max_rows: int) -> None:
    """An error per column that is unknown, missing or out of step, or for too few or many rows."""
    lengths = {name: len(values) for name, values in sent.items() if name in _names()}
    rows = Counter(lengths.values()).most_common(1)[0][0] if lengths else 0  # most columns' length
    problems = [_error("extra_forbidden", None, ("columns", name)) for name in sent if name not in _names()]
    problems += [
        _error("missing", None, ("columns", name))
        for name, field in record_model().model_fields.items()
        if field.is_required() and name not in sent
    ]
    if rows == 0:
        problems.append(_error("empty_batch", "send at least one row: a column with one value or more", ("columns",)))
    elif rows > max_rows:
        message = f"{rows:,} rows; at most {max_rows:,} per request (serve.max_batch_rows)"
        problems.append(_error("too_many_rows", message, ("columns",)))
    problems += [
        _error("ragged_columns", f"{length:,} value(s) where the batch has {rows:,} row(s)", ("columns", name))
        for name, length in lengths.items()
        if length != rows
    ]
    if problems:
        raise _invalid(*problems)


def _loads(body: bytes) -> Any:
    """The body as Python objects; the standard library reads what JSON writers emit beyond
    the standard (NaN, integers past 64 bits), so the record model names the field holding it."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise _invalid(_error("json_invalid", None, ("body",), {"ctx": {"error": str(exc)}})) from None


@cache
def _batch(max_rows: int) -> type[BaseModel]:
    """The body as the record model reads it: errors name the record (`records.<i>.<field>`)."""
    model: type[BaseModel] = create_model(
        "Batch",
        __config__=ConfigDict(extra="forbid"),
        records=(list[record_model()] | None, Field(None, min_length=1, max_length=max_rows)),  # type: ignore[arg-type,misc]
        columns=(dict[str, list[Any]] | None, None),
    )
    return model


def _error(kind: str, message: str | None, loc: tuple[Any, ...], like: Mapping[str, Any] | None = None) -> Any:
    """An error of pydantic's type `kind` (or, with a `message`, our own), with the input and
    context of the error it is `like`."""
    error: InitErrorDetails = {
        "type": kind if message is None else PydanticCustomError(kind, message),
        "loc": loc,
        "input": (like or {}).get("input", "..."),
    }
    if like and "ctx" in like:
        error["ctx"] = like["ctx"]
    return error


def _invalid(*errors: InitErrorDetails) -> ValidationError:
    return ValidationError.from_exception_data("Batch", list(errors))
