"""The data gate: every failure reported with column, rule and rows; rare dirt tolerated."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from mlops_template.data.generate import write_csv
from mlops_template.data.read import load_table
from mlops_template.gate_report import GateReport
from mlops_template.schema import RawRecords
from mlops_template.validate import run_gate
from tests.example import example_only

pytestmark = example_only

TOLERANCE = 0.01


def gate_file(path: Path) -> GateReport:
    schema = RawRecords.to_schema()
    frame = load_table(path, schema)
    return run_gate(frame, schema, dataset="raw", source=str(path), tolerance=TOLERANCE, csv_lines=True)


def broken(tmp_path: Path, raw: pd.DataFrame, change: Callable[[pd.DataFrame], pd.DataFrame]) -> GateReport:
    frame = change(raw.astype(object).copy())
    path = tmp_path / "broken.csv"
    write_csv(frame, path)
    return gate_file(path)


def only_error(report: GateReport) -> tuple[str | None, str]:
    assert not report.passed
    assert len(report.errors) == 1, [(f.column, f.problem) for f in report.errors]
    return report.errors[0].column, report.errors[0].problem


def test_the_generated_export_passes_with_its_dirt_marked_repairable(raw_csv: Path) -> None:
    report = gate_file(raw_csv)
    assert report.passed, report.to_markdown()
    assert {f.column for f in report.repairable} == {"age", "tenure_months"}
    assert all(f.share <= TOLERANCE for f in report.repairable)


def test_a_missing_column_is_named(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    column, problem = only_error(broken(tmp_path, raw_sample, lambda f: f.drop(columns=["contract"])))
    assert (column, problem) == ("contract", "required column is missing")


def test_an_extra_column_is_named(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    column, problem = only_error(broken(tmp_path, raw_sample, lambda f: f.assign(favourite_colour="blue")))
    assert column == "favourite_colour"
    assert "unexpected column" in problem


def test_renamed_columns_are_reported_both_ways(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    report = broken(tmp_path, raw_sample, lambda f: f.rename(columns={"age": "Age"}))
    assert {(f.column, f.problem.split(" ")[0]) for f in report.errors} == {("age", "required"), ("Age", "unexpected")}


def test_text_in_a_number_column_is_reported_with_its_line(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[10, "monthly_charges"] = "12,50 EUR"
        f.loc[20, "monthly_charges"] = "n/a-ish"
        return f

    report = broken(tmp_path, raw_sample, change)
    column, problem = only_error(report)
    assert (column, problem) == ("monthly_charges", "not a number")
    rows = report.errors[0].rows
    assert [(r.line, r.value) for r in rows] == [(12, "12,50 EUR"), (22, "n/a-ish")]


def test_unparsable_dates_are_reported_with_their_lines(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[1, "signup_date"] = "yesterday"
        f.loc[2, "signup_date"] = "2999-01-01"
        return f

    report = broken(tmp_path, raw_sample, change)
    column, problem = only_error(report)
    assert column == "signup_date"
    assert problem.startswith("not a valid date")
    assert [(r.line, r.value) for r in report.errors[0].rows] == [(3, "yesterday"), (4, "2999-01-01")]


def test_a_future_signup_date_breaks_the_business_rule(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[2, "signup_date"] = "2200-01-01"
        return f

    column, problem = only_error(broken(tmp_path, raw_sample, change))
    assert (column, problem) == ("signup_date", "breaks the rule `signup_date_not_in_future`")


def test_an_unknown_category_is_named_with_the_allowed_values(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[5, "contract"] = "weekly"
        return f

    column, problem = only_error(broken(tmp_path, raw_sample, change))
    assert column == "contract"
    assert "unknown category" in problem
    assert "month_to_month" in problem


def test_an_unknown_boolean_spelling_is_rejected(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[3, "auto_renew"] = "sometimes"
        return f

    column, problem = only_error(broken(tmp_path, raw_sample, change))
    assert column == "auto_renew"
    assert "yes/no" in problem


def test_a_missing_target_is_rejected(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[7, "churned"] = None
        return f

    column, problem = only_error(broken(tmp_path, raw_sample, change))
    assert (column, problem) == ("churned", "missing value where one is required")


def test_impossible_values_beyond_the_tolerance_fail_the_gate(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[: len(f) // 20, "monthly_charges"] = -50.0  # 5 % of rows: a broken feed, not dirt
        return f

    column, problem = only_error(broken(tmp_path, raw_sample, change))
    assert column == "monthly_charges"
    assert "outside the plausible range 5–500" in problem
    assert "tolerated up to 1.00%" in problem


def test_rare_impossible_values_are_repairable(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[[3, 4], "monthly_charges"] = -50.0
        return f

    report = broken(tmp_path, raw_sample, change)
    assert report.passed
    assert "monthly_charges" in {f.column for f in report.repairable}


def test_every_failure_is_reported_not_just_the_first(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[1, "age"] = "old"
        f.loc[2, "plan"] = "platinum"
        f.loc[3, "has_partner"] = "perhaps"
        return f.drop(columns=["region"])

    report = broken(tmp_path, raw_sample, change)
    assert {f.column for f in report.errors} == {"age", "plan", "has_partner", "region"}


def test_the_report_is_machine_readable_and_human_readable(tmp_path: Path, raw_sample: pd.DataFrame) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[4, "plan"] = "platinum"
        return f

    report = broken(tmp_path, raw_sample, change)
    json_path, md_path = report.write(tmp_path / "reports", "raw")
    data = json.loads(json_path.read_text())
    assert data["passed"] is False
    assert data["rows"] == len(raw_sample)
    assert data["error_count"] == 1
    (finding,) = [f for f in data["findings"] if f["severity"] == "error"]
    assert finding["column"] == "plan"
    assert finding["count"] == 1
    assert finding["rows"] == [{"row": 4, "line": 6, "value": "platinum"}]
    summary = md_path.read_text()
    assert "❌ failed" in summary
    assert "| plan | `category_of` | unknown category" in summary
    assert "line 6: `platinum`" in summary


@pytest.mark.parametrize("column", ["age", "region", "has_partner"])
def test_missing_values_in_optional_columns_pass(tmp_path: Path, raw_sample: pd.DataFrame, column: str) -> None:
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[: len(f) // 2, column] = None
        return f

    assert broken(tmp_path, raw_sample, change).passed
