"""Expectations on the data the pipeline is configured to train on (`data.input`), whatever
the dataset: it passes the gate, its dirt stays repairable, and its target can be learnt."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_template.data.ingest import is_url
from mlops_template.data.read import load_table
from mlops_template.features import contract
from mlops_template.params import Params
from mlops_template.schema import RawRecords
from mlops_template.target_gate import target_findings
from mlops_template.validate import run_gate


@pytest.fixture(scope="module")
def configured(params: Params, repo_root: Path) -> pd.DataFrame:
    if is_url(params.data.input):
        pytest.skip(f"data.input is a URL ({params.data.input}): the pipeline's own gate checks it")
    path = repo_root / params.data.input
    if not path.exists():
        pytest.skip(f"data.input {path} is not in the work tree (DVC-tracked: `dvc pull` it first)")
    return load_table(path, RawRecords.to_schema())


def test_the_configured_data_passes_the_gate(configured: pd.DataFrame, params: Params) -> None:
    tolerance = params.validate_.max_out_of_range_fraction
    report = run_gate(configured, RawRecords.to_schema(), dataset="raw", source="data.input", tolerance=tolerance)
    assert report.passed, report.to_markdown()
    assert all(f.share <= tolerance for f in report.repairable)


def test_the_configured_target_can_be_learnt(configured: pd.DataFrame, params: Params) -> None:
    assert target_findings(configured, params.validate_.min_class_rows) == []
    assert configured[contract().target.name].notna().all()
