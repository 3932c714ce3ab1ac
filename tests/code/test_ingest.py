"""The ingest stage: data.input byte for byte, then the rows of each extra input (labelled batches)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops_template.data.ingest import append_extras
from mlops_template.errors import DataFileError
from tests.conftest import REPO_ROOT

INPUT = b'customer_id,age,notes,churned\nC1,30,"moved, twice",yes\n'


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "raw.csv"
    path.write_bytes(INPUT)
    return path


def test_a_csv_extra_adds_its_lines_and_keeps_the_input_bytes(raw: Path, tmp_path: Path) -> None:
    extra = tmp_path / "2026-01-01.csv"
    extra.write_bytes(b"customer_id,age,notes,churned\nC2,41,,no\nC3,,x,yes")  # no final newline
    append_extras(raw, [str(extra)])
    assert raw.read_bytes() == INPUT + b"C2,41,,no\nC3,,x,yes\n"


def test_a_parquet_extra_is_written_as_csv_lines_in_the_inputs_column_order(raw: Path, tmp_path: Path) -> None:
    extra = tmp_path / "batch.parquet"
    rows = pd.DataFrame({"churned": ["no"], "notes": ["a, b"], "age": [41.0], "customer_id": ["C2"], "extra": [1]})
    rows.to_parquet(extra, index=False)
    append_extras(raw, [str(extra)])
    assert raw.read_bytes() == INPUT + b'C2,41,"a, b",no\n'


def test_an_extra_with_other_columns_is_refused_naming_the_file(raw: Path, tmp_path: Path) -> None:
    extra = tmp_path / "other.csv"
    extra.write_text("customer_id,age,churned\nC2,41,no\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"other\.csv: its header .* differs from data.input's"):
        append_extras(raw, [str(extra)])
    missing = tmp_path / "short.parquet"
    pd.DataFrame({"customer_id": ["C2"]}).to_parquet(missing)
    with pytest.raises(DataFileError, match=r"short\.parquet: lacks column\(s\) age, notes, churned"):
        append_extras(raw, [str(missing)])
    assert raw.read_bytes() == INPUT  # nothing half-written


def test_an_extra_that_is_not_here_says_to_pull_it(raw: Path, tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"data\.extra_inputs.*run `dvc pull` first"):
        append_extras(raw, [str(tmp_path / "data/labelled/2026-01-01.csv")])


def test_mlops_ingest_appends_the_listed_extras(tmp_path: Path) -> None:
    settings = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
    (tmp_path / "input.csv").write_bytes(INPUT)
    (tmp_path / "extra.csv").write_bytes(b"customer_id,age,notes,churned\nC2,41,,no\n")
    settings["data"] |= {"input": str(tmp_path / "input.csv"), "extra_inputs": [str(tmp_path / "extra.csv")]}
    settings["paths"]["raw"] = str(tmp_path / "raw" / "customers.csv")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    mlops = str(Path(sys.executable).parent / "mlops")
    result = subprocess.run(
        [mlops, "ingest", "--params", str(tmp_path / "params.yaml")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "raw" / "customers.csv").read_bytes() == INPUT + b"C2,41,,no\n"
