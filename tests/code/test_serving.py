"""Units of the service: the request model read off the contract, the frame it builds,
and the batch answer (coalescing: test_coalesce.py; the inference log: test_log_buffer.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pydantic import ValidationError
from sklearn.pipeline import Pipeline

from mlops_template.cleaning import clean_features
from mlops_template.features import contract
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.request import BatchPrediction, record_model, records_to_columns
from tests.example import example_only

# Its data are the example's columns: skipped for another contract, where
# test_service_any_contract.py and test_request_numbers.py check the service.
pytestmark = example_only

VALID = {"signup_date": "2024-02-29", "age": "41", "region": " North ", "has_partner": "Y", "auto_renew": False}


def test_the_request_model_is_the_raw_contract_without_the_target() -> None:
    fields = record_model().model_fields
    spec = contract()
    assert set(fields) == {c.name for c in spec.columns} - {spec.target.name}
    for column in spec.features():
        assert fields[column.name].is_required() == (not column.nullable), column.name


@pytest.mark.parametrize("column", contract().features("number"), ids=lambda c: c.name)
def test_numbers_are_held_to_the_contract_range(column: Any) -> None:
    model = record_model()
    model.model_validate(VALID | {column.name: column.min_value})
    model.model_validate(VALID | {column.name: column.max_value})
    for outside in (column.min_value - 1, column.max_value + 1, float("nan"), True):
        with pytest.raises(ValidationError) as error:
            model.model_validate(VALID | {column.name: outside})
        assert error.value.errors()[0]["loc"] == (column.name,)


@pytest.mark.parametrize("column", contract().features("boolean"), ids=lambda c: c.name)
def test_yes_no_takes_the_gate_spellings_and_nothing_else(column: Any) -> None:
    model = record_model()
    for spelling in ("yes", "Y", "TRUE", "1", "no", "n", "False", "0", True, False, 1, 0, None):
        model.model_validate(VALID | {column.name: spelling})
    wrong_values: list[object] = ["maybe", "2", 2, [], {}]
    for wrong in wrong_values:
        with pytest.raises(ValidationError):
            model.model_validate(VALID | {column.name: wrong})


def test_categories_are_free_strings_and_unknown_ones_become_missing_when_cleaned() -> None:
    category = contract().features("category")[0]
    model = record_model()
    records = [model.model_validate(VALID | {category.name: value}) for value in ("Mars", None, category.categories[0])]
    clean = clean_features(pd.DataFrame(records_to_columns(records)))
    assert clean[category.name].isna().tolist() == [True, True, False]


def test_unknown_fields_and_the_target_are_refused() -> None:
    for extra in ("colour", contract().target.name):
        with pytest.raises(ValidationError, match=extra):
            record_model().model_validate(VALID | {extra: "x"})


def test_the_frame_cleans_like_the_same_rows_read_from_a_csv() -> None:
    """A request record and the same row in an export are one thing to clean_features."""
    rows = [VALID, {"signup_date": "2023-01-31", "plan": "PREMIUM", "tenure_months": 3.5, "paperless_billing": "n"}]
    model = record_model()
    from_requests = clean_features(pd.DataFrame(records_to_columns([model.model_validate(r) for r in rows])))
    csv_like = pd.DataFrame(rows).astype("string").reindex(columns=list(from_requests.columns))
    from_export = clean_features(csv_like)
    pd.testing.assert_frame_equal(from_requests, from_export, check_dtype=False)


@given(probability=arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 1)))
def test_a_batchs_answer_written_by_orjson_is_the_documented_one(probability: np.ndarray) -> None:
    predictor = Predictor(model=Pipeline([("passthrough", "passthrough")]), threshold=0.35, version="churn:abc")
    written = BatchPrediction.model_validate_json(predictor.answer_batch_json(probability))
    assert written == BatchPrediction(
        probability=probability.tolist(),
        label=[bool(p >= 0.35) for p in probability],
        threshold=0.35,
        model_version="churn:abc",
        rows=len(probability),
    )


@pytest.mark.parametrize(
    ("task", "scores", "expected"),
    [
        ("binary", [0.1, 0.5], {"probability": [0.1, 0.5], "label": [False, True], "threshold": 0.35}),
        (
            "multiclass",
            [[0.2, 0.8], [0.6, 0.4]],
            {"label": ["b", "a"], "probabilities": {"a": [0.2, 0.6], "b": [0.8, 0.4]}},
        ),
        ("regression", [1.5, -2.0], {"value": [1.5, -2.0]}),
    ],
)
def test_each_tasks_batch_answer_is_exactly_the_documented_json(
    task: str, scores: list[Any], expected: dict[str, Any]
) -> None:
    """The JSON the service sends, key for key and type for type (no extra keys, no null for
    another task's fields), against `BatchPrediction` as pydantic would write it."""
    classes = ("a", "b") if task == "multiclass" else ()
    predictor = Predictor(Pipeline([("passthrough", "passthrough")]), 0.35, "model:abc", task, classes)
    written = orjson.loads(predictor.answer_batch_json(np.array(scores)))
    documented = BatchPrediction(**expected, model_version="model:abc", rows=2).model_dump(mode="json")
    assert written == documented
    assert written == expected | {"model_version": "model:abc", "rows": 2}
