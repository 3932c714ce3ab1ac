"""The custom checks and the normalisation rules they share with cleaning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_template.checks import (
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    boolean_spelling,
    category_of,
    normalize_category,
    parse_boolean,
    plausible_range,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("month_to_month", "month_to_month"),
        (" Month-To-Month ", "month_to_month"),
        ("MONTH_TO_MONTH", "month_to_month"),
        ("month to month", "month_to_month"),
        ("Credit  Card", "credit_card"),
        ("--two_year__", "two_year"),
    ],
)
def test_normalize_category_forgives_case_spaces_and_separators(raw: str, canonical: str) -> None:
    assert normalize_category(raw) == canonical


@pytest.mark.parametrize("spelling", ["yes", "Y", "true", "1", "TRUE", " Yes ", "t", "1.0"])
def test_true_spellings(spelling: str) -> None:
    assert parse_boolean(spelling) is True


@pytest.mark.parametrize("spelling", ["no", "n", "false", "0", "No", "FALSE", "f", "0.0"])
def test_false_spellings(spelling: str) -> None:
    assert parse_boolean(spelling) is False


@pytest.mark.parametrize("spelling", ["maybe", "2", "", "yess", "-1"])
def test_other_spellings_are_not_booleans(spelling: str) -> None:
    assert parse_boolean(spelling) is None


def test_true_and_false_spellings_do_not_overlap() -> None:
    assert not TRUE_SPELLINGS & FALSE_SPELLINGS


@pytest.mark.parametrize("as_category", [False, True])
def test_boolean_spelling_flags_only_unknown_spellings(as_category: bool) -> None:
    values = pd.Series(["yes", "N", None, "maybe", "0"], dtype="category" if as_category else "str")
    assert boolean_spelling(values, enabled=True).tolist() == [True, True, True, False, True]


@pytest.mark.parametrize("as_category", [False, True])
def test_category_of_accepts_spelling_variants_and_rejects_unknowns(as_category: bool) -> None:
    values = pd.Series([" One-Year", "weekly", None, "TWO_YEAR"], dtype="category" if as_category else "str")
    result = category_of(values, allowed=["month_to_month", "one_year", "two_year"])
    assert result.tolist() == [True, False, True, True]


def test_plausible_range_keeps_missing_and_flags_outside_values() -> None:
    values = pd.Series([18.0, 17.9, np.nan, 100.0, 200.0])
    assert plausible_range(values, min_value=18, max_value=100).tolist() == [True, False, True, True, False]
