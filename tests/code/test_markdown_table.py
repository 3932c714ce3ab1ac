"""Every report's tables survive values with `|` and line breaks (they come from the data).

`cells` splits a row as GitHub does (an escaped `\\|` stays in its cell, `\\\\` is one
escaped backslash), so a test fails exactly when GitHub would show a broken table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from mlops_template.data.generate import write_csv
from mlops_template.data.read import load_table
from mlops_template.drift.check import settings_summary
from mlops_template.drift.report import to_markdown as drift_markdown
from mlops_template.features import contract
from mlops_template.markdown_table import cell, table
from mlops_template.params import Params
from mlops_template.report.compare import MetricChange, Verdict
from mlops_template.report.markdown import ReportContent, render
from mlops_template.schema import RawRecords
from mlops_template.validate import run_gate

PIPED = "gold|platinum"


def cells(row: str) -> list[str]:
    """The cells of a GitHub table row: a backslash escapes the next character (so `\\|`
    stays in its cell), any other `|` ends the cell; then `\\|` is unescaped, as GitHub does."""
    assert row.startswith("|"), row
    assert row.endswith("|"), row
    inner, found, i = row[1:-1], [""], 0
    while i < len(inner):
        if inner[i] == "\\" and i + 1 < len(inner):
            found[-1] += inner[i : i + 2]
            i += 2
            continue
        if inner[i] == "|":
            found.append("")
        else:
            found[-1] += inner[i]
        i += 1
    return [part.strip().replace("\\|", "|") for part in found]


def rows_of(markdown: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    """The header and body rows of the table whose header row starts with `header_start`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    body = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        body.append(cells(line))
    return cells(lines[start]), body


def test_a_pipe_a_backslash_and_a_line_break_stay_in_their_cell() -> None:
    values = ["a|b", "ends with \\", "back\\|slash", "two\nlines", None, "`code|span`"]
    header, body = rows_of("\n".join(table(["one", "two", "three", "four", "five", "six"], [values])), "| one")
    assert len(header) == 6
    assert body == [["a|b", "ends with \\", "back\\\\|slash", "two lines", "—", "`code|span`"]]
    assert cell("x\r\ny") == "x y"


def test_alignment_letters_set_each_column() -> None:
    assert table(["a", "b", "c"], [], align="lr")[1] == "| --- | ---: | --- |"


def test_a_piped_value_in_the_data_gate_report_keeps_the_table(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    raw = raw_sample.head(100).astype(object)
    (column, *_) = [c.name for c in contract().columns if c.kind in ("category", "boolean")]
    raw.loc[3, column] = PIPED
    path = tmp_path / "piped.csv"
    write_csv(raw, path)
    schema = RawRecords.to_schema()
    report = run_gate(load_table(path, schema), schema, dataset="raw", source=str(path), csv_lines=True)
    header, body = rows_of(report.to_markdown(), "| column")
    (plan,) = [row for row in body if row[0] == column]
    assert len(plan) == len(header) == 7
    assert plan[-1] == f"line 5: `{PIPED}`"


def _report_content(findings: list[dict[str, Any]], params: list[tuple[str, Any, Any]]) -> ReportContent:
    return ReportContent(
        verdict=Verdict(False, ["the data gate failed"], []),
        base="main",
        base_sha="a" * 40,
        head_sha="b" * 40,
        pr_number=7,
        pr_head_sha=None,
        run_url=None,
        tolerance=0.002,
        guarded=["roc_auc"],
        metrics_fresh=True,
        metrics=[MetricChange("roc_auc", 0.8, 0.81, "better")],
        quality_gate=None,
        data_gate={"passed": False, "rows": 10, "columns": 2, "source": "x.csv", "findings": findings},
        gate_examples=3,
        params=params,
        segment_column=None,
        segments={},
        images=[],
        drift_markdown=None,
        data_md5=None,
        data_path="data/raw/customers.csv",
        model_card=None,
    )


def test_a_piped_value_in_the_pr_report_keeps_its_tables() -> None:
    finding = {
        "column": "plan",
        "check": "category_of(['basic'])",
        "problem": "unknown category (allowed: basic)",
        "severity": "error",
        "count": 1,
        "share": 0.1,
        "rows": [{"row": 3, "line": 5, "value": PIPED}],
    }
    markdown = render(_report_content([finding], [("data.input", "a|b.csv", "c.csv")]))
    header, (row,) = rows_of(markdown, "| column")
    assert len(row) == len(header) == 7
    assert row[-1] == f"line 5: `{PIPED}`"
    header, (param,) = rows_of(markdown, "| param")
    assert param == ["`data.input`", "a|b.csv", "c.csv"]


def test_a_piped_value_in_the_drift_report_keeps_the_table(params: Params) -> None:
    feature = {
        "name": "plan|tier",
        "kind": "category",
        "test": "chi-square",
        "statistic": 12.5,
        "p_adjusted": 0.001,
        "psi": 0.3,
        "missing_reference": 0.0,
        "missing_current": 0.0,
        "missing_p_adjusted": None,
        "unseen_share": 0.0,
        "weight": 1.0,
        "verdict": "drift",
        "reasons": ["distribution changed"],
    }
    document = {
        "status": "drift",
        "summary": "drift: 1 drifted",
        "checked_at": "2026-01-01T00:00:00+00:00",
        "duration_seconds": 0.1,
        "exit_code": 3,
        "settings": settings_summary(params.drift),
        "score": 1.0,
        "trigger_score": 1.0,
        "tests": 1,
        "features": [feature],
    }
    header, (row,) = rows_of(drift_markdown(document), "| feature")
    assert len(row) == len(header) == 10
    assert row[0] == "`plan|tier`"
