"""Cleaning: from the raw export to one trustworthy row per customer.

`clean_features` works row by row and is what the service runs on each request, so
training and serving clean data with the same code. `prepare` adds the rules that need
the whole table: exact duplicates and conflicting rows for one customer.
Every rule is read off the contract (features.py), none names a column.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from mlops_template.checks import map_distinct, normalize_category, parse_boolean
from mlops_template.errors import PreparedDataError
from mlops_template.features import Column, contract
from mlops_template.files import write_parquet
from mlops_template.params import Params
from mlops_template.schema import CleanRecords, RawRecords
from mlops_template.validate import GateReport, load_table, run_gate


def _clean_column(column: Column, values: pd.Series) -> pd.Series:
    if column.kind == "boolean":
        return map_distinct(values, parse_boolean, "boolean")
    if column.kind == "category":
        canonical = map_distinct(values, normalize_category, "string")
        canonical = canonical.where(canonical.isin(column.categories))  # unknown → missing
        return pd.Series(
            pd.Categorical(canonical, categories=list(column.categories)), index=values.index, name=values.name
        )
    if column.kind == "number":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        low = -np.inf if column.min_value is None else column.min_value
        high = np.inf if column.max_value is None else column.max_value
        return numbers.where(numbers.between(low, high))
    if column.kind == "date":
        return pd.to_datetime(values, errors="coerce").astype("datetime64[ns]")
    return values.astype("string[pyarrow]")


def clean_features(raw: pd.DataFrame, *, complete: bool = False) -> pd.DataFrame:
    """Canonical booleans and categories, numbers outside their range set missing,
    free text dropped. Columns absent from `raw` are skipped (the target, at serving),
    or, with `complete`, added as all-missing features of the right type, so that a
    request may leave out any optional feature."""
    spec = contract()
    columns = {}
    for column in spec.columns:
        if column.role == "text":
            continue
        if column.name in raw:
            columns[column.name] = _clean_column(column, raw[column.name])
        elif complete and column.is_feature:
            missing = pd.Series([None] * len(raw), index=raw.index, dtype=object, name=column.name)
            columns[column.name] = _clean_column(column, missing)
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
