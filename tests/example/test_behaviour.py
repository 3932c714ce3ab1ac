"""Behavioural tests of the trained model (Made-With-ML style): minimum functionality,
invariance and direction, on a model trained from the generated data with the
repository's own hyper-parameters."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlops_template.cleaning import clean_columns
from mlops_template.data.generate import GeneratorSettings, generate_raw
from mlops_template.params import Params
from mlops_template.prepare import prepare
from mlops_template.schema import RawRecords
from mlops_template.split import split
from mlops_template.task_metrics import binary_metrics as classification_metrics
from mlops_template.train import train
from mlops_template.validate import run_gate
from tests.example import example_only

pytestmark = example_only


@pytest.fixture(scope="module")
def fitted(params: Params) -> tuple[Pipeline, pd.DataFrame]:
    raw = generate_raw(GeneratorSettings(rows=8_000, seed=11))
    gate = run_gate(raw, RawRecords.to_schema(), dataset="raw", source="test", tolerance=0.01)
    assert gate.passed, gate.to_markdown()  # the model is trained on data the gate let through
    clean, _ = prepare(raw, drop_duplicates=True)
    train_frame, test_frame = split(clean, params.split)
    model, card = train(train_frame, params.train, data_md5="test")
    assert card.features == [c for c in card.features if c not in {"customer_id", "notes", "churned"}]
    return model, test_frame


def churn_probability(model: Pipeline, frame: pd.DataFrame) -> pd.Series:
    features = frame.drop(columns=["customer_id", "churned"], errors="ignore")
    return pd.Series(model.predict_proba(features)[:, 1], index=frame.index)


def test_minimum_functionality_beats_the_quality_gate(fitted: tuple[Pipeline, pd.DataFrame], params: Params) -> None:
    model, test = fitted
    metrics = classification_metrics(
        test["churned"].astype(int).to_numpy(),
        churn_probability(model, test).to_numpy(),
        params.evaluate.decision_threshold,
    )
    assert params.evaluate.min_metrics, "evaluate.min_metrics is empty: there is no gate to beat"
    for metric, minimum in params.evaluate.min_metrics.items():
        assert metrics[metric] >= minimum, (metric, metrics[metric])


def test_invariance_to_columns_the_model_must_ignore(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    model, test = fitted
    rows = test.head(200)
    renamed = rows.assign(customer_id="X", notes="anything at all")
    pd.testing.assert_series_equal(churn_probability(model, rows), churn_probability(model, renamed))


def test_direction_a_month_to_month_contract_raises_churn(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    model, test = fitted
    rows = test.head(300)
    monthly = rows.assign(contract=pd.Categorical(["month_to_month"] * len(rows), dtype=rows["contract"].dtype))
    two_year = rows.assign(contract=pd.Categorical(["two_year"] * len(rows), dtype=rows["contract"].dtype))
    assert (churn_probability(model, monthly) - churn_probability(model, two_year)).mean() > 0.05


def test_direction_more_support_tickets_raise_churn(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    model, test = fitted
    rows = test.head(300)
    assert (
        churn_probability(model, rows.assign(support_tickets=8.0)).mean()
        > churn_probability(model, rows.assign(support_tickets=0.0)).mean()
    )


def test_unknown_categories_and_missing_values_still_predict(fitted: tuple[Pipeline, pd.DataFrame]) -> None:
    model, _ = fitted
    raw = pd.DataFrame([{"signup_date": "2024-03-01", "plan": "diamond", "age": None}])
    row = pd.DataFrame(clean_columns(raw, len(raw)))  # the features it leaves out are missing
    probability = model.predict_proba(row[list(model.feature_names_in_)])[0, 1]
    assert 0.0 < probability < 1.0
