"""The sample generator: realistic, seeded, with the defects cleaning exists for."""

from __future__ import annotations

import pandas as pd

from mlops_template.checks import normalize_category
from mlops_template.data.generate import GeneratorSettings, generate_clean, generate_raw
from mlops_template.features import contract
from tests.example import example_only

pytestmark = example_only


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = generate_raw(GeneratorSettings(rows=500, seed=1))
    b = generate_raw(GeneratorSettings(rows=500, seed=1))
    c = generate_raw(GeneratorSettings(rows=500, seed=2))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_shape_types_and_churn_rate() -> None:
    clean = generate_clean(GeneratorSettings(rows=20_000))
    features = contract().features()
    assert len(features) >= 12
    assert {c.kind for c in features} == {"number", "category", "boolean", "date"}
    assert 0.15 <= clean["churned"].mean() <= 0.30
    assert set(clean.columns) == {c.name for c in contract().columns}


def test_features_relate_to_churn() -> None:
    clean = generate_clean(GeneratorSettings(rows=20_000))
    by_contract = clean.groupby("contract", observed=True)["churned"].mean()
    assert by_contract["month_to_month"] > 2 * by_contract["two_year"]
    tickets = clean.groupby("churned")["support_tickets"].mean()
    assert tickets[True] > tickets[False]


def test_raw_export_carries_every_defect() -> None:
    raw = generate_raw(GeneratorSettings(rows=10_000, defect_rate=0.02))
    assert raw.duplicated().sum() == 100  # half the defect rate, as exact copies
    assert set(raw["auto_renew"].astype(str)) >= {"yes", "Y", "true", "1", "no", "n", "false", "0"}
    contracts = raw["contract"].astype(str)
    assert contracts.nunique() > 3
    assert set(contracts.map(normalize_category)) == {"month_to_month", "one_year", "two_year"}
    assert raw["age"].isna().mean() > 0.01
    assert (raw["age"] == 200).any()
    assert (raw["tenure_months"] < 0).any()
    assert raw["notes"].notna().all()


def test_drift_moves_numbers_and_the_category_mix() -> None:
    reference = generate_clean(GeneratorSettings(rows=20_000, seed=5))
    drifted = generate_clean(GeneratorSettings(rows=20_000, seed=5, drift=1.0))
    assert drifted["monthly_charges"].mean() > reference["monthly_charges"].mean() * 1.05
    assert drifted["last_login_days"].mean() > reference["last_login_days"].mean() * 1.3
    share = (drifted["contract"] == "month_to_month").mean() - (reference["contract"] == "month_to_month").mean()
    assert share > 0.05
