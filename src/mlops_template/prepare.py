"""Cleaning: from the raw export to one trustworthy row per customer.

`clean_column` holds each column's rule and works row by row: `clean_features` (a table,
for training) and `clean_columns` (the service, on each request) both run it, so training
and serving clean data with the same code. `prepare` adds the rules that need
the whole table: exact duplicates and conflicting rows for one customer.
Every rule is read off the contract (features.py), none names a column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import cache
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from mlops_template.checks import map_distinct, normalize_category, parse_boolean
from mlops_template.errors import PreparedDataError
from mlops_template.features import Column, category_positions, contract
from mlops_template.files import write_parquet
from mlops_template.params import Params
from mlops_template.schema import CleanRecords, RawRecords
from mlops_template.validate import GateReport, load_table, run_gate

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


@cache
def _category_dtype(column: Column) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(list(column.categories))


def clean_columns(raw: pd.DataFrame | Mapping[str, Values], rows: int) -> dict[str, Any]:
    """The model's features, cleaned column by column, without building a DataFrame.

    The service's path: a request of one row would spend milliseconds in pandas' frame
    machinery for microseconds of cleaning. A feature absent from `raw` is all missing,
    so a request may leave out any optional one.
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


@dataclass(frozen=True)
class CleaningSummary:
    rows_in: int
    exact_duplicates_removed: int
    conflicting_rows_removed: int
    values_set_missing: dict[str, int]
    rows_out: int


def prepare(raw: pd.DataFrame, *, drop_duplicates: bool) -> tuple[pd.DataFrame, CleaningSummary]:
    """Clean the raw table; rows that differ only in spelling count as duplicates."""
    spec = contract()
    clean = clean_features(raw)
    set_missing = {
        c.name: int((clean[c.name].isna() & raw[c.name].notna()).sum()) for c in spec.features() if c.name in raw
    }
    target = spec.target.name
    clean[target] = clean[target].astype(bool)

    exact = conflicting = 0
    if drop_duplicates:
        before = len(clean)
        clean = clean.drop_duplicates(keep="first")
        exact = before - len(clean)
        if spec.id_column is not None:
            before = len(clean)
            clean = clean.drop_duplicates(subset=[spec.id_column.name], keep="first")
            conflicting = before - len(clean)
    clean = clean.reset_index(drop=True)
    summary = CleaningSummary(
        rows_in=len(raw),
        exact_duplicates_removed=exact,
        conflicting_rows_removed=conflicting,
        values_set_missing={k: v for k, v in set_missing.items() if v},
        rows_out=len(clean),
    )
    return clean, summary


def run(params: Params) -> GateReport:
    """Stage `prepare`: gate the raw data again (types), clean it, check the clean schema,
    and only then replace the prepared file."""
    paths = params.paths
    raw = load_table(paths.raw, RawRecords.to_schema())
    raw_report = run_gate(
        raw,
        RawRecords.to_schema(),
        dataset="raw",
        source=str(paths.raw),
        tolerance=params.validate_.max_out_of_range_fraction,
    )
    if not raw_report.passed:
        raise PreparedDataError(f"{paths.raw} does not pass the raw gate; run `mlops validate` for the report")
    clean, summary = prepare(raw, drop_duplicates=params.prepare.drop_duplicates)
    report = run_gate(clean, CleanRecords.to_schema(), dataset="prepared", source=str(paths.prepared))
    report = replace(report, details={"cleaning": asdict(summary)})
    report.write(paths.validation_dir, "prepared")
    if not report.passed:
        raise PreparedDataError(f"the cleaned data breaks the clean schema; see {paths.validation_dir / 'prepared.md'}")
    write_parquet(paths.prepared, clean)
    return report
