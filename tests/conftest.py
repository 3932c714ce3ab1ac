"""Shared fixtures: the repository's params, small generated raw tables and files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv
from mlops_template.params import Params, load_params

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def params() -> Params:
    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def raw_sample() -> pd.DataFrame:
    """A 3,000-customer raw export with every defect the generator makes."""
    return generate_raw(GeneratorSettings(rows=3_000, seed=7))


@pytest.fixture
def raw_csv(tmp_path: Path, raw_sample: pd.DataFrame) -> Path:
    path = tmp_path / "customers.csv"
    write_csv(raw_sample, path)
    return path
