"""Cleaning rules: each column's rule, read off the contract, from a raw value to a clean one.

`clean_column` holds each column's rule: `clean_features` (a table, for training and the
drift check) and `clean_columns` (the service, on each request) both run it, so training,
serving and drift clean data with the same code. The rules that need the whole table
(duplicates, conflicting rows) belong to the `prepare` stage, not here.

This module sits next to the contract (`features.py`) and imports nothing of the gate
(`validate`) or the stages, so the service and the drift check load only the rules.
Every rule is read off the contract, none names a column.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from mlops_template.checks import map_distinct, normalize_category, parse_boolean
from mlops_template.features import Column, category_positions, contract

_BOOLEAN_STATE = {True: 1, False: 0, None: -1}
Values: TypeAlias = pd.Series | np.ndarray


def _numbers(values: Values) -> np.ndarray:
    dtype = values.dtype
    if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        values = pd.to_numeric(values, errors="coerce")
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _dates(values: Values) -> np.ndarray:
    """datetime64[ns], NaT for what is not a date. Plain ISO dates (what the service
    builds from validated requests) are read by numpy; anything else goes to pandas."""
    if values.dtype == object:
        plain = np.asarray(values, dtype=object)
        if all(v is None or (isinstance(v, str) and len(v) == 10) for v in plain):
            try:
                return plain.astype("datetime64[ns]")
            except ValueError:
                pass
    return np.asarray(pd.to_datetime(values, errors="coerce"), dtype="datetime64[ns]")


def clean_column(column: Column, values: Values) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """One feature's cleaning rule, read off the contract: the single definition that
    training (`clean_features`, a DataFrame) and the service (`clean_columns`) both run."""
    if column.task == "binary":
        return _binary_target(column, values)
    if column.kind == "boolean":
        state = map_distinct(values, lambda v: _BOOLEAN_STATE[parse_boolean(v)], -1, np.int8)
        return pd.arrays.BooleanArray(state == 1, state < 0)
    if column.kind == "category":  # unknown → missing; fixed categories keep the codes stable
        position = category_positions(column.categories)
        codes = map_distinct(values, lambda v: position.get(normalize_category(v), -1), -1, np.int64)
        return pd.Categorical.from_codes(codes, dtype=_category_dtype(column), validate=False)
    if column.kind == "number":
        numbers = _numbers(values)
        low = -np.inf if column.min_value is None else column.min_value
        high = np.inf if column.max_value is None else column.max_value
        with np.errstate(invalid="ignore"):
            return np.where((numbers >= low) & (numbers <= high), numbers, np.nan)
    if column.kind == "date":
        return _dates(values)
    return pd.array(values, dtype="string[pyarrow]")


def _binary_target(column: Column, values: Values) -> pd.api.extensions.ExtensionArray:
    """True for the positive label; labels that read as yes/no accept every yes/no spelling,
    as the gate does (`checks.target_binary`). Missing where the value is neither label."""
    negative, positive = column.labels
    as_yes_no = parse_boolean(positive) is not None and parse_boolean(negative) is not None

    def state(value: str) -> int:
        if as_yes_no:
            parsed = parse_boolean(value)
            return -1 if parsed is None else int(parsed == parse_boolean(positive))
        name = normalize_category(value)
        return 1 if name == positive else 0 if name == negative else -1

    codes = map_distinct(values, state, -1, np.int8)
    return pd.arrays.BooleanArray(codes == 1, codes < 0)


@cache
def _category_dtype(column: Column) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(column.categories))


def clean_columns(raw: pd.DataFrame | Mapping[str, Values], rows: int) -> dict[str, Any]:
    """The model's features, cleaned column by column, without building a DataFrame.

    The service's path: for a request of one row, building a DataFrame would cost far more
    than the cleaning itself (benchmarks/serving_profile.py times `clean_columns`). A
    feature absent from `raw` is all missing, so a request may leave out any optional one.
    """
    absent = np.full(rows, None, dtype=object)
    return {c.name: clean_column(c, raw.get(c.name, absent)) for c in contract().features()}


def clean_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Canonical booleans and categories, numbers outside their range set missing,
    free text dropped; columns absent from `raw` (the target, at scoring) are skipped."""
    columns = {
        column.name: clean_column(column, raw[column.name])
        for column in contract().columns
        if column.role != "text" and column.name in raw
    }
    return pd.DataFrame(columns, index=raw.index)
