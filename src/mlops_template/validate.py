"""The data gate: check a table against the contract and report every failure.

Pandera runs lazily (all failures, not the first). Failures of the repairable check
(`plausible_range`) are tolerated while they stay under `validate.max_out_of_range_fraction`
of the rows: `prepare` sets those values missing. Everything else fails the gate.
The report comes in two forms: JSON for machines (every failing row, up to a cap per
check) and a short markdown summary for people and for the pull-request comment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pandera.pandas as pa
import pyarrow

from mlops_template.checks import REPAIRABLE_CHECKS
from mlops_template.data.read import CSV_SUFFIXES, DataFileError, read_raw_table
from mlops_template.files import write_json, write_text
from mlops_template.params import Params
from mlops_template.schema import RawRecords

MAX_ROWS_PER_FINDING = 10_000
Severity = Literal["error", "repairable"]

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


@dataclass(frozen=True)
class FailingRow:
    row: int | None  # position in the table, 0-based
    line: int | None  # line in a CSV file (the header is line 1)
    value: str | None


@dataclass(frozen=True)
class Finding:
    """All failures of one check on one column."""

    column: str | None
    check: str
    problem: str
    severity: Severity
    count: int
    share: float
    rows: list[FailingRow] = field(default_factory=list)


@dataclass(frozen=True)
class GateReport:
    dataset: str
    source: str
    rows: int
    columns: int
    passed: bool
    findings: list[Finding]
    tolerance: float
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def repairable(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "repairable"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["error_count"] = sum(f.count for f in self.errors)
        data["repairable_count"] = sum(f.count for f in self.repairable)
        return data

    def to_markdown(self, examples: int = 5) -> str:
        verdict = "✅ passed" if self.passed else "❌ failed"
        lines = [
            f"### Data gate ({self.dataset}): {verdict}",
            "",
            f"{self.rows:,} rows × {self.columns} columns checked from `{self.source}`.",
            "",
        ]
        for title, findings in (
            ("Failures", self.errors),
            ("Repairable (prepare sets these missing)", self.repairable),
        ):
            if not findings:
                continue
            lines += [
                f"**{title}**",
                "",
                "| column | problem | rows | share | examples (line: value) |",
                "|---|---|---:|---:|---|",
            ]
            for f in findings:
                shown = ", ".join(_example(r) for r in f.rows[:examples])
                lines.append(f"| {f.column or '—'} | {f.problem} | {f.count:,} | {f.share:.2%} | {shown} |")
            lines.append("")
        if not self.passed:
            lines.append(
                "Nothing downstream was run or overwritten. Fix the data at its source "
                "(or the contract in `src/mlops_template/schema.py`) and run again."
            )
        return "\n".join(lines).rstrip() + "\n"

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
        write_json(json_path, self.to_dict())
        write_text(md_path, self.to_markdown())
        return json_path, md_path


def _example(row: FailingRow) -> str:
    where = f"line {row.line}" if row.line is not None else (f"row {row.row}" if row.row is not None else "")
    value = "(missing)" if row.value is None else repr(row.value)[:40]
    return f"{where}: {value}" if where else value


def arrow_types(schema: pa.DataFrameSchema) -> dict[str, pyarrow.DataType]:
    """The parse types the reader should try, from the schema's dtypes."""
    types: dict[str, pyarrow.DataType] = {}
    for name, column in schema.columns.items():
        dtype = str(column.dtype)
        if dtype.startswith(("float", "int")):
            types[name] = pyarrow.float64()
        elif dtype.startswith("datetime"):
            types[name] = pyarrow.timestamp("ns")
        elif dtype == "category":
            types[name] = pyarrow.dictionary(pyarrow.int32(), pyarrow.string())
    return types


def load_table(path: Path, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """Read a raw file with the schema's parse types (raises DataFileError)."""
    return read_raw_table(path, arrow_types(schema))


def unreadable_report(dataset: str, path: Path, error: DataFileError) -> GateReport:
    finding = Finding(None, "readable_file", str(error), "error", 1, 1.0)
    return GateReport(dataset, str(path), 0, 0, False, [finding], 0.0)


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


class GateFailedError(RuntimeError):
    """The data broke the contract; the message is the human summary."""


def run(params: Params, path: Path | None = None) -> GateReport:
    """Stage `validate`: gate the raw file (or `path`) and write the report, pass or fail."""
    path, schema = path or params.paths.raw, RawRecords.to_schema()
    try:
        frame = load_table(path, schema)
    except DataFileError as error:
        report = unreadable_report("raw", path, error)
    else:
        report = run_gate(
            frame,
            schema,
            dataset="raw",
            source=str(path),
            tolerance=params.validate_.max_out_of_range_fraction,
            csv_lines=path.suffix.lower() in CSV_SUFFIXES,
        )
    report.write(params.paths.validation_dir, "raw")
    return report
