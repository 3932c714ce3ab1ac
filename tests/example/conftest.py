"""The example's fixtures: raw exports from the churn generator, with every defect it makes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlops_template.data.generate import GeneratorSettings, generate_raw, write_csv


@pytest.fixture(scope="session")
def raw_sample() -> pd.DataFrame:
    """A 3,000-customer raw export with every defect the generator makes."""
    return generate_raw(GeneratorSettings(rows=3_000, seed=7))


@pytest.fixture
def raw_csv(tmp_path: Path, raw_sample: pd.DataFrame) -> Path:
    path = tmp_path / "customers.csv"
    write_csv(raw_sample, path)
    return path
