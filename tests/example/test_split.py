"""Splits: stratified keeps the churn rate; the time split tests on the newest customers."""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_template.data.generate import GeneratorSettings, generate_clean
from mlops_template.params import ParamsError, SplitParams
from mlops_template.split import split
from tests.example import example_only

pytestmark = example_only


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return generate_clean(GeneratorSettings(rows=5_000, seed=3))


def test_stratified_split_keeps_the_churn_rate_and_sizes(clean: pd.DataFrame) -> None:
    params = SplitParams(method="stratified", time_column="signup_date", test_size=0.2, seed=1)
    train, test = split(clean, params)
    assert len(test) == 1_000
    assert len(train) + len(test) == len(clean)
    assert abs(train["churned"].mean() - test["churned"].mean()) < 0.005
    assert not set(train["customer_id"]) & set(test["customer_id"])


def test_stratified_split_is_reproducible(clean: pd.DataFrame) -> None:
    params = SplitParams(method="stratified", time_column="signup_date", test_size=0.2, seed=1)
    assert split(clean, params)[1]["customer_id"].tolist() == split(clean, params)[1]["customer_id"].tolist()


def test_time_split_tests_on_the_newest_rows(clean: pd.DataFrame) -> None:
    params = SplitParams(method="time", time_column="signup_date", test_size=0.25, seed=1)
    train, test = split(clean, params)
    assert train["signup_date"].max() <= test["signup_date"].min()
    assert len(test) == 1_250


def test_time_split_names_a_missing_time_column(clean: pd.DataFrame) -> None:
    params = SplitParams(method="time", time_column="created_at", test_size=0.25, seed=1)
    with pytest.raises(ParamsError, match="created_at"):
        split(clean, params)
