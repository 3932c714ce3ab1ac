"""The service's record model and answers, generated from the data contract.

A record is a row of the raw schema without the target, held to the contract the data gate
holds it to (`features.contract()`; no column is named here): a number in its clean range
(NaN, infinity and booleans refused), a yes/no a boolean or a spelling the gate accepts, a
date one pandas can hold; a category or id sent as a number (a store code 7) is read as its
text, as the gate reads a CSV cell; a required column is required, an unknown field an
error, and each error names the field and the rule. What the pipeline repairs (a category's
spelling, an unknown category, a missing optional value), the training code repairs here
too when it cleans the columns (`cleaning.clean_columns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    create_model,
    model_serializer,
)

from mlops_template.checks import FALSE_SPELLINGS, TRUE_SPELLINGS, parse_boolean
from mlops_template.features import Column, contract

# The dates pandas can hold (clean_features makes them datetime64[ns]); outside, cleaning would fail.
EARLIEST_DATE = (pd.Timestamp.min + pd.Timedelta(days=1)).date()
LATEST_DATE = pd.Timestamp.max.date()
MAX_TEXT_LENGTH = 1_000
MAX_CATEGORY_LENGTH = 100
Columns = dict[str, np.ndarray]  # a batch's raw columns, as received (what cleaning and the log take)
_YES_NO_HELP = f"true/false or one of {', '.join(sorted(TRUE_SPELLINGS | FALSE_SPELLINGS))} (any case)"


def _yes_no(value: object) -> object:
    """Let through what `clean_features` can read as a boolean; the value itself is kept."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str | int | float) and parse_boolean(str(value)) is not None:
        return value
    raise ValueError(f"not a yes/no value: expected {_YES_NO_HELP}")


def _as_text(value: object) -> object:
    """A number sent for a category or an id (a store code 7 for "7") is read as the gate reads
    a CSV cell: its text, without a trailing `.0`. A JSON boolean is not text: refused."""
    if isinstance(value, bool):
        raise ValueError("expected text, got a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and np.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _not_a_boolean(value: object) -> object:
    """JSON `true` is not the number 1: refuse it rather than guess."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


def _field(column: Column) -> tuple[Any, Any]:
    """The pydantic type and Field of one contract column as a client sends it."""
    optional = column.nullable
    default: Any = None if optional else ...
    if column.kind == "number":
        low, high = column.min_value, column.max_value
        span = f" in [{low:g}, {high:g}]" if low is not None and high is not None else ""
        return (
            Annotated[float | None if optional else float, BeforeValidator(_not_a_boolean)],
            Field(default, ge=low, le=high, allow_inf_nan=False, description=f"A number{span}; null = unknown."),
        )
    if column.kind == "category":
        known = ", ".join(column.categories)
        return (
            Annotated[str | None if optional else str, BeforeValidator(_as_text)],
            Field(
                default,
                max_length=MAX_CATEGORY_LENGTH,
                description=f"One of {known} (case, spaces, '-' and '_' are forgiven); "
                "any other value is treated as unknown, as in training.",
                examples=list(column.categories[:1]),
            ),
        )
    if column.kind == "boolean":
        kind = bool | str | None if optional else bool | str
        return Annotated[kind, BeforeValidator(_yes_no)], Field(default, description=f"Yes/no: {_YES_NO_HELP}.")
    if column.kind == "date":
        return (
            date | None if optional else date,
            Field(default, ge=EARLIEST_DATE, le=LATEST_DATE, description="A date, YYYY-MM-DD."),
        )
    # An id or free-text column: accepted because exports carry it, never a model input.
    limit = MAX_TEXT_LENGTH if column.role == "text" else MAX_CATEGORY_LENGTH
    return (
        Annotated[str | None, BeforeValidator(_as_text)],
        Field(None, max_length=limit, description=f"Not used by the model ({column.role})."),
    )


@cache
def record_model() -> type[BaseModel]:
    """One record of the raw contract without its target, as a pydantic model."""
    fields = {c.name: _field(c) for c in request_columns()}
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "Record",
        __config__=ConfigDict(extra="forbid", str_max_length=MAX_TEXT_LENGTH),
        __doc__="One customer as the source system exports it (the raw data contract, without the target).",
        **fields,
    )
    return model


@cache
def request_columns() -> tuple[Column, ...]:
    """The columns a record may carry: the contract's, without the target."""
    return tuple(c for c in contract().columns if c.role != "target")


@cache
def frame_columns() -> tuple[Column, ...]:
    """The columns a request frame carries: the model's inputs and the id (for the inference log)."""
    return tuple(c for c in contract().columns if c.is_feature or c.role == "id")


def records_to_columns(records: Sequence[BaseModel]) -> Columns:
    """The raw columns `clean_columns` expects, built from validated records.

    Values stay as received (a category's spelling, "Y" for a yes); numbers become float64
    with NaN for missing, dates ISO strings, as they would arrive in a CSV export. Plain
    numpy, no DataFrame: on a one-row request pandas' frame machinery costs more than the model.
    """
    columns: Columns = {}
    for column in frame_columns():
        values = [getattr(record, column.name) for record in records]
        if column.kind == "number":
            columns[column.name] = np.array(values, dtype=float)  # None becomes NaN
        elif column.kind == "date":
            columns[column.name] = np.array([None if v is None else v.isoformat() for v in values], dtype=object)
        else:
            columns[column.name] = np.array(values, dtype=object)
    return columns


class _Answer(BaseModel):
    """Fields of another task are left out of the JSON, not sent as null."""

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class Prediction(_Answer):
    """The model's answer for one record, by the contract's task: a binary target gets the
    positive label's probability and the label at the threshold; a multi-class target each
    class's probability and the most probable class; a number target the predicted value."""

    probability: float | None = Field(default=None, description="Binary: probability of the positive label.")
    label: bool | str | None = Field(
        default=None, description="Binary: probability ≥ threshold (true = the positive label); multi-class: the class."
    )
    threshold: float | None = Field(
        default=None, description="Binary: the decision threshold the model was evaluated with."
    )
    probabilities: dict[str, float] | None = Field(default=None, description="Multi-class: each class's probability.")
    value: float | None = Field(default=None, description="Regression: the predicted value.")
    model_version: str = Field(description="The BentoML model tag that answered.")


class BatchPrediction(_Answer):
    """The model's answers for a batch, in the order of the records sent (column-wise: compact and fast)."""

    probability: list[float] | None = None
    label: list[bool] | list[str] | None = None
    threshold: float | None = None
    probabilities: dict[str, list[float]] | None = None
    value: list[float] | None = None
    model_version: str
    rows: int
