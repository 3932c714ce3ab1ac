"""Shared fixtures: the repository's params, small raw tables of the contract and files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_template.data.generate import write_csv
from mlops_template.params import Params, load_params
from tests.contract_data import raw_frame

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def params() -> Params:
    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def raw_sample() -> pd.DataFrame:
    """A 3,000-row raw export of the contract, whatever the dataset (tests/contract_data.py;
    tests/example/ overrides it with the churn generator's export and its defects)."""
    return raw_frame(rows=3_000, seed=7)


@pytest.fixture
def raw_csv(tmp_path: Path, raw_sample: pd.DataFrame) -> Path:
    path = tmp_path / "records.csv"
    write_csv(raw_sample, path)
    return path
