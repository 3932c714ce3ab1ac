"""The data gate: check a table against the contract and report every failure.

Pandera runs lazily (all failures, not the first). Failures of the repairable check
(`plausible_range`) are tolerated while they stay under `validate.max_out_of_range_fraction`
of the rows: `prepare` sets those values missing. Everything else fails the gate.
What the report holds and how it is written (JSON and markdown) is `gate_report.py`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from mlops_template.checks import REPAIRABLE_CHECKS
from mlops_template.data.read import CSV_SUFFIXES, DataFileError, load_table
from mlops_template.gate_report import FailingRow, Finding, GateReport, Severity, unreadable_report
from mlops_template.params import Params
from mlops_template.schema import RawRecords
from mlops_template.target_gate import target_findings

MAX_ROWS_PER_FINDING = 10_000

_PROBLEMS = {
    "column_in_dataframe": "required column is missing",
    "column_in_schema": "unexpected column (not in the schema)",
    "not_nullable": "missing value where one is required",
    "coerce_dtype": "value does not convert to {arg}",
    "parses_as_number": "not a number",
    "parses_as_date": "not a valid date (expected YYYY-MM-DD, years 1678 to 2261)",
    "dtype": "wrong type, expected {arg}",
    "category_of": "unknown category (allowed: {arg})",
    "isin": "value not allowed (allowed: {arg})",
    "boolean_spelling": "not a yes/no value (yes/y/true/1 or no/n/false/0)",
    "plausible_range": "outside the plausible range {arg}",
    "in_range": "outside the range {arg}",
    "field_uniqueness": "duplicate value where values must be unique",
    "unique": "duplicate value where values must be unique",
    "readable_file": "the file cannot be read as a table",
}


def run_gate(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    *,
    dataset: str,
    source: str,
    tolerance: float = 0.0,
    csv_lines: bool = False,
) -> GateReport:
    """Validate `frame` in place (parsing types) and report every failure."""
    parse_failures = _parse_text_columns(frame, schema)
    try:
        schema.validate(frame, lazy=True, inplace=True)
        failures = parse_failures
    except pa.errors.SchemaErrors as exc:
        failures = pd.concat([parse_failures, _not_already_reported(exc.failure_cases, parse_failures)])
    findings = _findings(failures, len(frame), tolerance, csv_lines) if len(failures) else []
    passed = not any(f.severity == "error" for f in findings)
    return GateReport(dataset, source, len(frame), frame.shape[1], passed, findings, tolerance)


def _parse_text_columns(frame: pd.DataFrame, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Parse number and date columns that arrived as text, value by value.

    The reader parses whole columns when it can; when a column has a value that does not
    parse, it arrives here as text. Parsing it here (bad values become missing and are
    reported) lets every other check still run on the good values of that column.
    """
    found = []
    for name, column in schema.columns.items():
        if name not in frame.columns:
            continue
        values = frame[name]
        dtype = str(column.dtype)
        is_number, is_date = dtype.startswith(("float", "int")), dtype.startswith("datetime")
        if not (is_number or is_date) or not _is_text(values):
            continue
        text = values.astype("string").str.strip()
        if is_number:
            parsed = pd.to_numeric(text, errors="coerce").astype("float64")
            check = "parses_as_number"
        else:
            parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
            representable = parsed.between(pd.Timestamp.min, pd.Timestamp.max)  # year 2999 cannot be stored
            parsed = parsed.where(representable).astype(dtype)
            check = "parses_as_date"
        bad = parsed.isna() & text.notna() & (text != "")
        frame[name] = parsed
        if bad.any():
            found.append(
                pd.DataFrame(
                    {
                        "schema_context": "Column",
                        "column": name,
                        "check": check,
                        "failure_case": values[bad].astype(str).to_numpy(),
                        "index": values.index[bad].to_numpy(),
                    }
                )
            )
    columns = ["schema_context", "column", "check", "failure_case", "index"]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=columns)


def _is_text(values: pd.Series) -> bool:
    return bool(pd.api.types.is_string_dtype(values) or pd.api.types.is_object_dtype(values))


def _not_already_reported(failures: pd.DataFrame, parse_failures: pd.DataFrame) -> pd.DataFrame:
    """Drop 'missing value' failures on rows whose value was reported as unparsable."""
    if parse_failures.empty:
        return failures
    reported = set(zip(parse_failures["column"], parse_failures["index"], strict=True))
    keys = zip(failures["column"], failures["index"], strict=True)
    duplicate = [
        (c, i) in reported and str(chk) == "not_nullable" for (c, i), chk in zip(keys, failures["check"], strict=True)
    ]
    return failures[~pd.Series(duplicate, index=failures.index, dtype=bool)]


def _findings(failures: pd.DataFrame, n_rows: int, tolerance: float, csv_lines: bool) -> list[Finding]:
    failures = failures.copy()
    failures["name"] = failures["check"].astype(str).str.split("(", n=1).str[0]
    failures["arg"] = failures["check"].astype(str).str.extract(r"\((.*)\)$", expand=False).fillna("")
    schema_level = failures["schema_context"] == "DataFrameSchema"
    failures.loc[schema_level, "column"] = failures.loc[schema_level, "failure_case"].astype(str)
    # A value that fails to convert also fails the dtype check; one finding is enough.
    converted_badly = set(failures.loc[failures["name"] == "coerce_dtype", "column"])
    failures = failures[~((failures["name"] == "dtype") & failures["column"].isin(converted_badly))]

    findings = []
    for (column, check), group in failures.groupby(["column", "check"], sort=False, dropna=False):
        name, arg = group["name"].iloc[0], group["arg"].iloc[0]
        whole_column = name.startswith("column_in")
        count = n_rows if whole_column else len(group)
        share = count / n_rows if n_rows else 1.0
        severity: Severity = "repairable" if name in REPAIRABLE_CHECKS and share <= tolerance else "error"
        problem = _PROBLEMS.get(name, f"breaks the rule `{name}`").format(arg=_readable(arg))
        if name in REPAIRABLE_CHECKS and severity == "error":
            problem += f" in {share:.2%} of rows (tolerated up to {tolerance:.2%})"
        rows = [
            _failing_row(index, value, csv_lines)
            for index, value in zip(group["index"], group["failure_case"], strict=True)
        ]
        findings.append(
            Finding(
                column=None if pd.isna(column) else str(column),
                check=str(check),
                problem=problem,
                severity=severity,
                count=count,
                share=round(share, 6),
                rows=[] if whole_column else rows[:MAX_ROWS_PER_FINDING],
            )
        )
    return sorted(findings, key=lambda f: (f.severity != "error", f.column or "", f.check))


def _readable(arg: str) -> str:
    arg = arg.replace("allowed=", "").replace("allowed_values=", "")
    return arg.replace("min_value=", "").replace(", max_value=", "–")


def _failing_row(index: object, value: object, csv_lines: bool) -> FailingRow:
    row = None if index is None or pd.isna(index) else int(index)  # type: ignore[call-overload]
    line = row + 2 if row is not None and csv_lines else None
    shown = None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
    return FailingRow(row=row, line=line, value=shown)


def run(params: Params, path: Path | None = None) -> GateReport:
    """Stage `validate`: gate the raw file (or `path`) and write the report, pass or fail.
    The target must also be trainable (`target_gate`): this is the last stop before training."""
    path, schema = path or params.paths.raw, RawRecords.to_schema()
    try:
        frame = load_table(path, schema)
    except DataFileError as error:
        report = unreadable_report("raw", path, str(error))
    else:
        report = run_gate(
            frame,
            schema,
            dataset="raw",
            source=str(path),
            tolerance=params.validate_.max_out_of_range_fraction,
            csv_lines=path.suffix.lower() in CSV_SUFFIXES,
        )
        untrainable = target_findings(frame, params.validate_.min_class_rows)
        if untrainable:
            report = replace(report, passed=False, findings=[*report.findings, *untrainable])
    report.write(params.paths.validation_dir, "raw")
    return report
