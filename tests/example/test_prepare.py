"""Cleaning rules: one trustworthy row per customer, canonical values, dirt set missing."""

from __future__ import annotations

import pandas as pd
import pytest

from mlops_template.cleaning import clean_features
from mlops_template.prepare import prepare
from mlops_template.schema import CleanRecords, RawRecords
from mlops_template.validate import run_gate
from tests.example import example_only

pytestmark = example_only


def typed_raw(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw export as the gate leaves it: parsed types, values untouched."""
    frame = raw.copy()
    report = run_gate(frame, RawRecords.to_schema(), dataset="raw", source="test", tolerance=0.01)
    assert report.passed, report.to_markdown()
    return frame


@pytest.fixture(scope="module")
def prepared(raw_sample: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = typed_raw(raw_sample)
    clean, _ = prepare(raw, drop_duplicates=True)
    return raw, clean


def test_prepared_data_passes_the_clean_schema(prepared: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, clean = prepared
    report = run_gate(clean.copy(), CleanRecords.to_schema(), dataset="prepared", source="test")
    assert report.passed, report.to_markdown()


def test_exact_duplicates_are_removed(raw_sample: pd.DataFrame) -> None:
    raw = typed_raw(raw_sample)
    clean, summary = prepare(raw, drop_duplicates=True)
    assert summary.exact_duplicates_removed == raw.duplicated().sum() > 0
    assert clean["customer_id"].is_unique
    assert summary.rows_out == len(clean) == raw["customer_id"].nunique()


def test_rows_differing_only_in_spelling_are_duplicates() -> None:
    raw = pd.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "contract": pd.Categorical(["one_year", " One-Year "]),
            "churned": pd.Categorical(["yes", "Y"]),
        }
    )
    clean = clean_features(raw).drop_duplicates()
    assert len(clean) == 1


def test_conflicting_rows_for_one_customer_keep_the_first(raw_sample: pd.DataFrame) -> None:
    raw = typed_raw(raw_sample.head(50))
    raw.loc[0, "age"] = 40.0
    conflict = raw.iloc[[0]].assign(age=99.0)
    clean, summary = prepare(pd.concat([raw, conflict], ignore_index=True), drop_duplicates=True)
    assert summary.conflicting_rows_removed == 1
    assert clean.loc[clean["customer_id"] == raw.loc[0, "customer_id"], "age"].tolist() == [40.0]


def test_boolean_spellings_become_booleans() -> None:
    raw = pd.DataFrame({"auto_renew": ["yes", "Y", "true", "1", "No", "n", "false", "0", None]})
    clean = clean_features(raw)
    assert str(clean["auto_renew"].dtype) == "boolean"
    assert clean["auto_renew"].tolist()[:8] == [True] * 4 + [False] * 4
    assert clean["auto_renew"].isna().tolist()[-1]


def test_category_spellings_become_canonical_and_unknowns_missing() -> None:
    raw = pd.DataFrame({"contract": ["MONTH_TO_MONTH", " One-Year ", "two year", "weekly", None]})
    clean = clean_features(raw)
    assert list(clean["contract"].cat.categories) == ["month_to_month", "one_year", "two_year"]
    assert clean["contract"].astype(object).where(clean["contract"].notna(), None).tolist() == [
        "month_to_month",
        "one_year",
        "two_year",
        None,
        None,
    ]


def test_out_of_range_numbers_are_set_missing_and_counted(raw_sample: pd.DataFrame) -> None:
    raw = typed_raw(raw_sample)
    clean, summary = prepare(raw, drop_duplicates=False)
    assert clean["age"].max() <= 100
    assert clean["tenure_months"].min() >= 0
    assert summary.values_set_missing["age"] == int((raw["age"] > 100).sum()) > 0
    assert summary.values_set_missing["tenure_months"] == int((raw["tenure_months"] < 0).sum()) > 0


def test_missing_values_stay_missing_for_the_model_to_impute(raw_sample: pd.DataFrame) -> None:
    raw = typed_raw(raw_sample)
    clean, _ = prepare(raw, drop_duplicates=False)
    assert clean["total_charges"].isna().sum() == raw["total_charges"].isna().sum() > 0


def test_free_text_is_dropped_and_ids_kept(prepared: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, clean = prepared
    assert "notes" not in clean.columns
    assert "customer_id" in clean.columns


def test_clean_features_cleans_a_single_request_row_without_a_target() -> None:
    row = pd.DataFrame([{"age": 250, "plan": "Premium", "has_partner": "Y", "signup_date": "2023-05-01"}])
    clean = clean_features(row)
    assert clean.columns.tolist() == ["signup_date", "age", "plan", "has_partner"]
    assert pd.isna(clean.loc[0, "age"])
    assert clean.loc[0, "plan"] == "premium"
    assert bool(clean.loc[0, "has_partner"]) is True
