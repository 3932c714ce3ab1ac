"""Stage `prepare`: from the raw export to one trustworthy row per customer.

Each column's rule lives in `cleaning.py` (the service and the drift check run the same
rules); this stage adds the rules that need the whole table (exact duplicates and
conflicting rows for one customer), gates the raw data again for its types and checks the
result against the clean schema before anything is written.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import pandas as pd

from mlops_template.cleaning import clean_features
from mlops_template.data.read import load_table
from mlops_template.errors import PreparedDataError
from mlops_template.features import contract
from mlops_template.files import write_parquet
from mlops_template.gate_report import GateReport
from mlops_template.params import Params
from mlops_template.schema import CleanRecords, RawRecords
from mlops_template.validate import run_gate


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
    if spec.task == "binary":  # the gate passed: every row has one of the two labels
        clean[spec.target.name] = clean[spec.target.name].astype(bool)

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
