"""The data gate's report: what failed, where, and how it is told to machines and to people.

Two forms: JSON for machines (every failing row, up to a cap per check) and a short
markdown summary for people. The PR report renders its data-gate section from that JSON
with the same table (`findings_table`), so the comment and `mlops validate` never tell
the same failure two ways. Nothing here runs a check: `validate` does, and builds this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from mlops_template.files import write_json, write_text
from mlops_template.markdown_table import table

Severity = Literal["error", "repairable"]
EXAMPLE_CHARS = 30  # a failing value is cut here in the markdown (the JSON keeps it whole)


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
        if self.findings:
            shown = [asdict(replace(f, rows=f.rows[:examples])) for f in self.findings]
            lines += [*findings_table(shown, examples), ""]
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


def unreadable_report(dataset: str, path: Path, problem: str) -> GateReport:
    """The report of a file that could not be read as a table at all."""
    finding = Finding(None, "readable_file", problem, "error", 1, 1.0)
    return GateReport(dataset, str(path), 0, 0, False, [finding], 0.0)


def findings_table(findings: Sequence[Mapping[str, Any]], examples: int) -> list[str]:
    """The findings of a report's JSON (`to_dict()["findings"]`) as a markdown table,
    failures first, each with up to `examples` failing rows."""
    rows = [
        [
            f.get("column") or "(table)",
            f"`{str(f.get('check', '')).split('(')[0]}`",
            f.get("problem"),
            "❌ failure" if f.get("severity") == "error" else "repairable",
            f"{f.get('count', 0):,}",
            f"{f.get('share', 0):.2%}",
            _examples(f, examples),
        ]
        for f in findings
    ]
    header = ["column", "check", "problem", "severity", "rows", "share", "failing rows (line: value)"]
    return table(header, rows, align="llllrrl")


def _examples(finding: Mapping[str, Any], limit: int) -> str:
    shown = []
    for row in finding.get("rows", [])[:limit]:
        if row.get("line") is not None:
            where = f"line {row['line']}"
        elif row.get("row") is not None:
            where = f"row {row['row']}"
        else:
            where = ""
        value = "(missing)" if row.get("value") is None else f"`{str(row['value'])[:EXAMPLE_CHARS]}`"
        shown.append(f"{where}: {value}" if where else value)
    more = finding.get("count", 0) - len(shown)
    if shown and more > 0:
        shown.append(f"… {more:,} more")
    return ", ".join(shown) or "—"
