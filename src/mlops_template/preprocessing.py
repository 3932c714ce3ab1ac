"""The model's input preprocessing, built from the contract and kept inside the model.

It lives in the saved scikit-learn Pipeline, so whoever loads the model (evaluate, the
service) transforms features exactly as training did. The service imports this module,
never `train`.

One transformer does what a ColumnTransformer of imputers, a scaler, a one-hot encoder and
date functions would, with numpy on whole columns and no DataFrame: the same numbers come
out (tests/code/test_preprocessing.py holds it to that ColumnTransformer), at a fraction of
the ColumnTransformer's per-call cost, which is fixed per request whatever its size and
larger than the model's own. benchmarks/preprocessing.py measures both and writes the
figures to benchmarks/results/preprocessing.md; keep this class only while they say so.

The price: the pickled model (`model.joblib`) holds a `ContractEncoder`, so loading it
imports this module by its path. Whatever loads a model (the service image, evaluate,
the drift check) needs this package installed, `mlops_template.preprocessing.ContractEncoder`
must keep its name and module, and a change to its fitted attributes needs a retrained
model (`make run`) before the new code serves an old model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlops_template.features import category_positions, contract

# 1970-01-01 was a Thursday: day number + 3, modulo 7, is the weekday with Monday = 0.
_EPOCH_WEEKDAY = 3


def _floats(values: Any) -> np.ndarray:
    """A column as float64 with NaN for missing (nullable booleans and numbers alike)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.api.extensions.ExtensionArray):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _category_codes(categories: tuple[str, ...], values: Any) -> np.ndarray:
    """Position of each value among the contract's categories; -1 for missing or unknown."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical) and tuple(values.categories) == categories:
        return np.asarray(values.codes)
    position = category_positions(categories)
    return np.fromiter((position.get(v, -1) for v in values), dtype=np.int64, count=len(values))


def date_parts(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Month (1-12) and weekday (Monday = 0) of each date, NaN where the date is missing:
    seasonality without leaking calendar time."""
    if isinstance(values, pd.Series):
        values = values.array
    days = np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]")
    missing = np.isnat(days)
    month = (days.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(float)
    weekday = ((days.astype(np.int64) + _EPOCH_WEEKDAY) % 7).astype(float)
    month[missing] = weekday[missing] = np.nan
    return month, weekday


class ContractEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Clean features in, a float matrix out: numbers median-imputed (and standardised for
    linear models), categories one-hot over the contract's categories (unknown and missing
    are all zeros), booleans as 0/1 with the most frequent value for missing, dates as
    month and weekday."""

    def __init__(self, scale_numbers: bool = False) -> None:
        self.scale_numbers = scale_numbers

    def fit(self, features: pd.DataFrame | Mapping[str, Any], y: object = None) -> Self:
        spec = contract()
        present = set(features.columns) if isinstance(features, pd.DataFrame) else set(features)
        kinds = {kind: [c for c in spec.features(kind) if c.name in present] for kind in ("number", "category")}
        self.numbers_ = [c.name for c in kinds["number"]]
        self.categories_ = [(c.name, c.categories) for c in kinds["category"]]
        self.booleans_ = [c.name for c in spec.features("boolean") if c.name in present]
        self.dates_ = [c.name for c in spec.features("date") if c.name in present]
        numbers = self._number_matrix(features)
        with np.errstate(all="ignore"):  # an all-missing column has no median: imputed as 0
            self.medians_ = np.nan_to_num(np.nanmedian(numbers, axis=0)) if numbers.size else np.zeros(0)
        self.mean_, self.scale_ = np.zeros(len(self.numbers_)), np.ones(len(self.numbers_))
        if self.scale_numbers and len(numbers):
            imputed = np.where(np.isnan(numbers), self.medians_, numbers)
            self.mean_, spread = imputed.mean(axis=0), imputed.std(axis=0)
            self.scale_ = np.where(spread > 0, spread, 1.0)
        # The most frequent of 0/1 for missing booleans; a tie goes to 0, as SimpleImputer does.
        self.boolean_modes_ = np.array(
            [float(np.nansum(b) > np.sum(~np.isnan(b)) / 2) for b in (_floats(features[n]) for n in self.booleans_)]
        )
        if isinstance(features, pd.DataFrame):
            self.feature_names_in_ = np.asarray(features.columns, dtype=object)
        self.n_features_in_ = len(present)
        return self

    def _number_matrix(self, features: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
        rows = len(features[next(iter(features.keys()))]) if not isinstance(features, pd.DataFrame) else len(features)
        if not self.numbers_:
            return np.empty((rows, 0))
        return np.column_stack([_floats(features[name]) for name in self.numbers_])

    def transform(self, features: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
        numbers = self._number_matrix(features)
        numbers = np.where(np.isnan(numbers), self.medians_, numbers)
        if self.scale_numbers:
            numbers = (numbers - self.mean_) / self.scale_
        rows = len(numbers)
        one_hot = np.zeros((rows, sum(len(categories) for _, categories in self.categories_)))
        offset = 0
        for name, categories in self.categories_:
            codes = _category_codes(categories, features[name])
            known = codes >= 0
            one_hot[np.flatnonzero(known), offset + codes[known]] = 1.0
            offset += len(categories)
        parts = [numbers, one_hot]
        for name, mode in zip(self.booleans_, self.boolean_modes_, strict=True):
            values = _floats(features[name])
            parts.append(np.where(np.isnan(values), mode, values)[:, None])
        for name in self.dates_:
            parts.append(np.column_stack(date_parts(features[name])))
        return np.hstack(parts)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = [f"number__{n}" for n in self.numbers_]
        names += [f"category__{n}_{c}" for n, categories in self.categories_ for c in categories]
        names += [f"boolean__{n}" for n in self.booleans_]
        names += [f"date__{n}_{part}" for n in self.dates_ for part in ("month", "weekday")]
        return np.asarray(names, dtype=object)


def build_preprocessor(*, scale_numbers: bool) -> ContractEncoder:
    """The preprocessing for the model type: linear models want standardised numbers."""
    return ContractEncoder(scale_numbers=scale_numbers)


def feature_columns() -> list[str]:
    """The clean columns a model reads (everything but id, free text and target)."""
    return [c.name for c in contract().features()]
