"""The target declares the task: its constructors, what the contract derives from them, and
the gate's refusal of a target no model can be trained on (before any training)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.typing import Category, Series  # type: ignore[attr-defined]

from mlops_template.checks import (
    category,
    number,
    raw_category,
    raw_number,
    raw_yes_no,
    role,
    target_binary,
    target_classes,
    target_number,
)
from mlops_template.cleaning import clean_column
from mlops_template.features import Column, ContractError, contract_of
from mlops_template.target_gate import target_findings
from mlops_template.validate import run_gate


def binary_models(positive: str, labels: list[str]) -> tuple[type[pa.DataFrameModel], type[pa.DataFrameModel]]:
    class Raw(pa.DataFrameModel):
        x: Series[float] = raw_number((0, 10))
        outcome: Series[Category] = target_binary(positive=positive, labels=labels)

        class Config:
            coerce = True

    class Clean(Raw):
        x: Series[float] = number((0, 10))
        outcome: Series[bool] = pa.Field(nullable=False)

    return Raw, Clean


class RawClasses(pa.DataFrameModel):
    x: Series[float] = raw_number((0, 10))
    species: Series[Category] = target_classes(["setosa", "versicolor", "virginica"])

    class Config:
        coerce = True


class CleanClasses(RawClasses):
    x: Series[float] = number((0, 10))
    species: Series[Category] = category(["setosa", "versicolor", "virginica"], nullable=False)


class RawNumber(pa.DataFrameModel):
    x: Series[float] = raw_number((0, 10))
    price: Series[float] = target_number((0, 1_000))

    class Config:
        coerce = True


class CleanNumber(RawNumber):
    x: Series[float] = number((0, 10))
    price: Series[float] = number((0, 1_000), nullable=False)


def target_of(raw: type[pa.DataFrameModel], clean: type[pa.DataFrameModel]) -> Column:
    return contract_of(raw, clean).target


@pytest.mark.parametrize(
    ("positive", "labels", "sent", "expected"),
    [
        ("bad", ["good", "bad"], ["good", " BAD", "Good"], [False, True, False]),
        ("rejected", ["accepted", "rejected"], ["Accepted", "rejected"], [False, True]),
        ("1", [0, 1], ["0", "1", "yes", "false"], [False, True, True, False]),
        ("yes", ["no", "yes"], ["Y", "no", "TRUE"], [True, False, True]),
        ("no", ["yes", "no"], ["Y", "n"], [False, True]),  # the positive label may be the "no"
    ],
)
def test_a_binary_target_is_true_for_its_positive_label_in_any_spelling(
    positive: str, labels: list[str], sent: list[str], expected: list[bool]
) -> None:
    raw, clean = binary_models(positive, labels)
    spec = contract_of(raw, clean)
    assert spec.task == "binary"
    assert spec.positive_label == str(positive)
    cleaned = clean_column(spec.target, pd.Series(sent, dtype="object"))
    assert list(cleaned) == expected
    gated = pd.DataFrame({"x": [1.0] * len(sent), "outcome": sent})
    assert run_gate(gated, raw.to_schema(), dataset="raw", source="test").passed


def test_a_binary_target_refuses_an_unknown_label_at_the_gate() -> None:
    raw, _ = binary_models("bad", ["good", "bad"])
    report = run_gate(
        pd.DataFrame({"x": [1.0, 2.0], "outcome": ["good", "ugly"]}), raw.to_schema(), dataset="raw", source="t"
    )
    assert not report.passed
    assert report.errors[0].column == "outcome"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: target_binary(positive="maybe", labels=["good", "bad"]), "positive one among them"),
        (lambda: target_binary(positive="a", labels=["a", "A"]), "two different labels"),
        (lambda: target_classes(["a", "b"]), "target_binary"),
    ],
)
def test_a_target_constructor_refuses_what_cannot_be_its_task(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_multiclass_and_regression_targets_derive_their_task() -> None:
    classes = contract_of(RawClasses, CleanClasses)
    assert (classes.task, classes.target.labels, classes.target.kind) == (
        "multiclass",
        ("setosa", "versicolor", "virginica"),
        "category",
    )
    numbers = contract_of(RawNumber, CleanNumber)
    assert (numbers.task, numbers.target.kind) == ("regression", "number")


def test_a_target_declared_as_a_plain_category_is_refused_naming_what_to_write() -> None:
    class Raw(pa.DataFrameModel):
        x: Series[float] = raw_number((0, 10))
        grade: Series[Category] = pa.Field(nullable=False, category_of=["good", "bad"], metadata=role("target"))

    class Clean(Raw):
        x: Series[float] = number((0, 10))

    with pytest.raises(ContractError, match=r"'grade' does not say what to predict.*target_binary\(positive="):
        contract_of(Raw, Clean)


def test_a_yes_no_column_marked_as_target_is_refused_too() -> None:
    class Raw(pa.DataFrameModel):
        x: Series[float] = raw_number((0, 10))
        left: Series[Category] = raw_yes_no(nullable=False, metadata=role("target"))

    class Clean(Raw):
        left: Series[bool] = pa.Field(nullable=False)

    with pytest.raises(ContractError, match="'left'"):
        contract_of(Raw, Clean)


def test_a_clean_target_of_the_wrong_type_is_refused() -> None:
    class Clean(RawClasses):
        species: Series[float] = pa.Field(nullable=False)

    with pytest.raises(ContractError, match="multiclass target in RawRecords but float64 in CleanRecords"):
        contract_of(RawClasses, Clean)


def test_a_contract_without_a_target_is_refused() -> None:
    class Raw(pa.DataFrameModel):
        x: Series[float] = raw_number((0, 10))
        y: Series[Category] = raw_category(["a", "b"])

    with pytest.raises(ContractError, match="exactly one target"):
        contract_of(Raw, Raw)


def findings(
    raw: type[pa.DataFrameModel], clean: type[pa.DataFrameModel], values: Sequence[object], min_rows: int = 3
) -> list[str]:
    frame = pd.DataFrame({"x": [1.0] * len(values), target_of(raw, clean).name: values})
    return [f.problem for f in target_findings(frame, min_rows, target_of(raw, clean))]


def test_a_trainable_target_has_no_findings() -> None:
    assert findings(*binary_models("bad", ["good", "bad"]), ["good", "bad"] * 3) == []
    assert findings(RawClasses, CleanClasses, ["setosa", "versicolor", "virginica"] * 3) == []
    assert findings(RawNumber, CleanNumber, [1.0, 2.0, 3.0]) == []


def test_one_class_only_is_refused() -> None:
    (problem,) = findings(*binary_models("bad", ["good", "bad"]), ["good"] * 50)
    assert "one class (only 'good')" in problem


def test_too_few_of_a_class_is_refused_naming_the_setting() -> None:
    (problem,) = findings(RawClasses, CleanClasses, ["setosa", "versicolor"] * 5 + ["virginica"] * 2, min_rows=3)
    assert "class 'virginica' has 2 rows, fewer than validate.min_class_rows (3)" in problem


def test_a_constant_number_target_is_refused() -> None:
    (problem,) = findings(RawNumber, CleanNumber, [5.0] * 20)
    assert "the target is constant (the single value 5)" in problem


def test_text_in_a_number_target_fails_the_gate_on_that_column() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "price": ["12.5", "expensive"]})
    report = run_gate(frame, RawNumber.to_schema(), dataset="raw", source="test")
    assert not report.passed
    assert [(f.column, f.problem) for f in report.errors] == [("price", "not a number")]
