"""What must hold for any dataset: the gate, the cleaning and the split, on exports
synthesised from the contract (tests/contract_data.py); tests/model/ trains on them.

Nothing here names a column or a label: after swapping schema.py (`make test-swap`) these
tests run against the new contract, whatever its task.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_template.data.generate import write_csv
from mlops_template.data.read import load_table
from mlops_template.features import contract
from mlops_template.params import Params
from mlops_template.prepare import prepare
from mlops_template.schema import CleanRecords, RawRecords
from mlops_template.split import split
from mlops_template.target_gate import target_findings
from mlops_template.validate import run_gate
from tests.contract_data import raw_frame

SPEC = contract()
COLUMNS = [c.name for c in SPEC.columns]
NUMBERS = [c.name for c in SPEC.columns if c.kind == "number"]
CATEGORIES = [c.name for c in SPEC.columns if c.kind == "category"]
TOLERANCE = 0.01


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    return raw_frame(rows=2_000, seed=3)


def gate(tmp_path: Path, frame: pd.DataFrame) -> tuple[bool, list[tuple[str | None, str]]]:
    path = tmp_path / "export.csv"
    write_csv(frame, path)
    schema = RawRecords.to_schema()
    report = run_gate(load_table(path, schema), schema, dataset="raw", source=str(path), tolerance=TOLERANCE)
    return report.passed, [(f.column, f.problem) for f in report.errors]


def test_an_export_of_the_contract_passes_the_gate(tmp_path: Path, export: pd.DataFrame) -> None:
    assert gate(tmp_path, export) == (True, [])


@pytest.mark.parametrize("column", COLUMNS)
def test_a_missing_column_is_named(tmp_path: Path, export: pd.DataFrame, column: str) -> None:
    passed, errors = gate(tmp_path, export.drop(columns=[column]))
    assert not passed
    assert (column, "required column is missing") in errors


def test_an_unexpected_column_is_named(tmp_path: Path, export: pd.DataFrame) -> None:
    passed, errors = gate(tmp_path, export.assign(favourite_colour="blue"))
    assert not passed
    assert errors == [("favourite_colour", "unexpected column (not in the schema)")]


@pytest.mark.parametrize("column", NUMBERS)
def test_text_in_a_number_column_is_named(tmp_path: Path, export: pd.DataFrame, column: str) -> None:
    frame = export.astype(object)
    frame.loc[5, column] = "12,50 EUR"
    passed, errors = gate(tmp_path, frame)
    assert not passed
    assert (column, "not a number") in errors


@pytest.mark.parametrize("column", CATEGORIES)
def test_an_unknown_category_is_named(tmp_path: Path, export: pd.DataFrame, column: str) -> None:
    frame = export.astype(object)
    frame.loc[7, column] = "certainly-not-a-known-value"
    passed, errors = gate(tmp_path, frame)
    assert not passed
    assert [c for c, problem in errors if problem.startswith("unknown category")] == [column]


@pytest.fixture(scope="module")
def prepared(export: pd.DataFrame) -> pd.DataFrame:
    raw = export.copy()
    report = run_gate(raw, RawRecords.to_schema(), dataset="raw", source="test", tolerance=TOLERANCE)
    assert report.passed, report.to_markdown()
    clean, summary = prepare(pd.concat([raw, raw.iloc[:10]], ignore_index=True), drop_duplicates=True)
    assert summary.exact_duplicates_removed == 10
    return clean


def test_prepared_data_passes_the_clean_schema(prepared: pd.DataFrame) -> None:
    report = run_gate(prepared.copy(), CleanRecords.to_schema(), dataset="prepared", source="test")
    assert report.passed, report.to_markdown()
    assert not set(prepared.columns) & {c.name for c in SPEC.dropped}


def test_the_split_holds_out_the_test_share_and_keeps_class_shares(prepared: pd.DataFrame, params: Params) -> None:
    settings = params.split.model_copy(update={"method": "stratified"})
    train_part, test_part = split(prepared, settings)
    assert len(test_part) == pytest.approx(len(prepared) * settings.test_size, abs=1)
    if SPEC.task != "regression":
        target = SPEC.target.name
        shares = train_part[target].astype(str).value_counts(normalize=True)
        held_out = test_part[target].astype(str).value_counts(normalize=True)
        assert (shares - held_out).abs().max() < 0.02


def test_the_gate_refuses_a_target_no_model_can_learn(export: pd.DataFrame) -> None:
    target = SPEC.target.name
    same = export.assign(**{target: export[target].iloc[0]})
    (finding,) = target_findings(same, 10)
    assert finding.column == target
    assert "constant" in finding.problem if SPEC.task == "regression" else "one class" in finding.problem
