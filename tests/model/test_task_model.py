"""A model of the contract's task, trained on an export synthesised from the contract: it
learns the signal the export carries and reports its task's metrics, whatever the dataset
(the example's behavioural tests are tests/example/test_behaviour.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_template.evaluate import predict
from mlops_template.features import contract
from mlops_template.params import Params
from mlops_template.prepare import prepare
from mlops_template.schema import RawRecords
from mlops_template.split import split
from mlops_template.task_metrics import METRIC_NAMES
from mlops_template.train import train
from mlops_template.validate import run_gate
from tests.contract_data import raw_frame

SPEC = contract()


@pytest.fixture(scope="module")
def prepared() -> pd.DataFrame:
    raw = raw_frame(rows=2_000, seed=5)
    assert run_gate(raw, RawRecords.to_schema(), dataset="raw", source="test", tolerance=0.01).passed
    clean, _ = prepare(raw, drop_duplicates=True)
    return clean


def test_a_model_of_the_contracts_task_learns_and_reports_the_tasks_metrics(
    prepared: pd.DataFrame, params: Params
) -> None:
    train_part, test_part = split(prepared, params.split.model_copy(update={"method": "stratified"}))
    model, card = train(train_part, params.train, data_md5="test")
    assert (card.task, card.target) == (SPEC.task, SPEC.target.name)
    predictions = predict(model, card, test_part)
    metrics = predictions.metrics(params.evaluate.decision_threshold)
    assert set(metrics) == set(METRIC_NAMES[SPEC.task])
    if SPEC.task == "binary":
        assert metrics["roc_auc"] > 0.7
    elif SPEC.task == "multiclass":
        assert metrics["accuracy"] > 1 / len(SPEC.target.labels) + 0.15
    else:
        assert metrics["r2"] > 0.3
    assert np.isfinite(list(metrics.values())).all()
