"""Custom Pandera checks and the field constructors the data contract is written with.

They are registered here, once, so that schema.py can use them as `Field(...)` keywords
(`boolean_spelling=True`, `category_of=[...]`, `plausible_range=(lo, hi)`) and so that
every other part (cleaning, the service's request model, drift) can read them back off
the schema by name instead of repeating the rules.

Each check works on the distinct values of a column (`pd.factorize`) rather than on
every cell: raw columns have few distinct spellings, so a million rows cost little more
than a thousand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera import extensions

TRUE_SPELLINGS = frozenset({"yes", "y", "true", "t", "1", "1.0"})
FALSE_SPELLINGS = frozenset({"no", "n", "false", "f", "0", "0.0"})

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalize_category(value: str) -> str:
    """`' Month-to-Month'`, `'MONTH_TO_MONTH'` and `'month to month'` all become `'month_to_month'`."""
    return _SEPARATORS.sub("_", value.strip().lower()).strip("_")


def parse_boolean(value: str) -> bool | None:
    """The boolean a spelling stands for, or None when it is not a known spelling."""
    key = value.strip().lower()
    if key in TRUE_SPELLINGS:
        return True
    if key in FALSE_SPELLINGS:
        return False
    return None


def _distinct(values: pd.Series | np.ndarray) -> tuple[np.ndarray, Sequence[Any]]:
    """Codes (-1 = missing) and distinct values; free for a categorical column. pandas'
    hashing (`factorize`) keeps pace with a Python dict on one value and pulls ahead on many."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        return np.asarray(values.cat.codes), values.cat.categories
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, uniques


def map_distinct(series: pd.Series | np.ndarray, func: Callable[[str], Any], missing: Any, dtype: Any) -> np.ndarray:
    """`func` of each distinct non-missing value, computed once and spread back to the rows;
    `missing` where the value is missing. This is what keeps the checks and the cleaning fast."""
    codes, uniques = _distinct(series)
    lookup = np.fromiter((func(str(u)) for u in uniques), dtype=dtype, count=len(uniques))
    return np.append(lookup, np.array(missing, dtype=dtype))[codes]  # code -1 (missing) picks the last


def _missing_or_valid(series: pd.Series, is_valid: Callable[[str], bool]) -> pd.Series:
    return pd.Series(map_distinct(series, is_valid, True, bool), index=series.index)


@extensions.register_check_method(statistics=["enabled"], supported_types=pd.Series)
def boolean_spelling(series: pd.Series, *, enabled: bool) -> pd.Series:
    """Each value is one of the accepted spellings of true or false."""
    if not enabled:
        return pd.Series(True, index=series.index)
    return _missing_or_valid(series, lambda value: parse_boolean(value) is not None)


@extensions.register_check_method(statistics=["allowed"], supported_types=pd.Series)
def category_of(series: pd.Series, *, allowed: list[str]) -> pd.Series:
    """Each value is one of `allowed` once case, spaces, '-' and '_' are normalized."""
    known = set(allowed)
    return _missing_or_valid(series, lambda value: normalize_category(value) in known)


@extensions.register_check_method(statistics=["min_value", "max_value"], supported_types=pd.Series)
def plausible_range(series: pd.Series, *, min_value: float, max_value: float) -> pd.Series:
    """The value lies in [min_value, max_value]; outside it is dirt that prepare repairs.

    validate tolerates this check failing on a small share of rows
    (`validate.max_out_of_range_fraction`); every other check is strict.
    """
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(
        np.isnan(values) | ((values >= min_value) & (values <= max_value)),
        index=series.index,
    )


REPAIRABLE_CHECKS = frozenset({"plausible_range"})


# Field constructors: the vocabulary schema.py is written in.


def role(name: str) -> dict[str, str]:
    """Metadata marking a column that is not a model input."""
    return {"role": name}


# Raw columns tolerate missing values, and their checks say so themselves (ignore_na=False
# spares Pandera a copy of every nullable column, a third of the gate's time on 1M rows).


def raw_number(bounds: tuple[float, float]) -> Any:
    """A raw number: rare values outside `bounds` are dirt that prepare sets missing."""
    return pa.Field(nullable=True, plausible_range=bounds, ignore_na=False)


def raw_category(allowed: list[str]) -> Any:
    """A raw category: one of `allowed` once case, spaces, '-' and '_' are forgiven."""
    return pa.Field(nullable=True, category_of=allowed, ignore_na=False)


def raw_yes_no(nullable: bool = True, metadata: dict[str, str] | None = None) -> Any:
    """A raw yes/no in any common spelling: yes/Y/true/1, no/n/false/0."""
    return pa.Field(nullable=nullable, boolean_spelling=True, ignore_na=False, metadata=metadata)


def number(bounds: tuple[float, float], nullable: bool = True) -> Any:
    """A clean number: inside `bounds` or missing (the model imputes it)."""
    return pa.Field(nullable=nullable, in_range={"min_value": bounds[0], "max_value": bounds[1]})


def category(allowed: list[str], nullable: bool = True) -> Any:
    """A clean categorical column: exactly these categories, in this order, or missing.

    Fixing the categories (not just the values) keeps category codes the same in
    training and serving, whatever subset of values a batch happens to contain.
    """
    return pa.Field(
        nullable=nullable,
        isin=allowed,
        dtype_kwargs={"categories": allowed, "ordered": False},
    )


# The target: its constructor names the task, so that training, evaluation, the service and
# drift all follow from one declaration (features.Contract.task reads it back).


def _labels(values: Sequence[object]) -> list[str]:
    return [normalize_category(str(v)) for v in values]


def target_binary(positive: object, labels: Sequence[object]) -> Any:
    """A two-class target (raw): `labels` are its two spellings, `positive` the one the model
    scores (its probability, recall and precision are about that label). Labels that read as
    yes/no (`yes`/`no`, `1`/`0`, `true`/`false`) accept every yes/no spelling, as `raw_yes_no`."""
    names, wanted = _labels(labels), normalize_category(str(positive))
    if len(names) != 2 or len(set(names)) != 2 or wanted not in names:
        raise ValueError(
            f"schema.py: target_binary needs two different labels with the positive one among them; "
            f"got positive={positive!r}, labels={list(labels)!r}"
        )
    negative = next(n for n in names if n != wanted)
    metadata = {"role": "target", "task": "binary", "labels": [negative, wanted], "positive": wanted}
    if {parse_boolean(n) for n in names} == {True, False}:
        return pa.Field(nullable=False, boolean_spelling=True, ignore_na=False, metadata=metadata)
    return pa.Field(nullable=False, category_of=names, ignore_na=False, metadata=metadata)


def target_classes(classes: Sequence[object]) -> Any:
    """A target of three or more classes (raw), spelled as `category_of` forgives."""
    names = _labels(classes)
    if len(set(names)) < 3:  # two classes is a binary target
        raise ValueError(
            f"schema.py: target_classes needs at least three different classes, got {list(classes)!r}; "
            "for two, write target_binary(positive=..., labels=[...])"
        )
    return pa.Field(
        nullable=False,
        category_of=names,
        ignore_na=False,
        metadata={"role": "target", "task": "multiclass", "labels": names},
    )


def target_number(bounds: tuple[float, float]) -> Any:
    """A number to predict (raw): a regression target, present on every row and inside `bounds`."""
    return pa.Field(
        nullable=False,
        in_range={"min_value": bounds[0], "max_value": bounds[1]},
        metadata={"role": "target", "task": "regression"},
    )
