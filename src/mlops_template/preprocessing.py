"""The model's input preprocessing, built from the contract and kept inside the model.

It lives in the saved scikit-learn Pipeline, so whoever loads the model (evaluate, the
service) transforms features exactly as training did. The functions here are what the
pickled pipeline refers to; the service imports this module, never `train`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mlops_template.features import contract


def booleans_as_numbers(frame: pd.DataFrame) -> np.ndarray:
    """True/False/missing as 1.0/0.0/NaN, for the imputer that follows."""
    return frame.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def date_parts(frame: pd.DataFrame) -> np.ndarray:
    """Month and weekday of each date: seasonality without leaking calendar time."""
    parts = []
    for name in frame.columns:
        dates = pd.to_datetime(frame[name])
        parts += [dates.dt.month.to_numpy(dtype=float), dates.dt.day_of_week.to_numpy(dtype=float)]
    return np.column_stack(parts)


def date_part_names(transformer: object, names: list[str]) -> list[str]:
    return [f"{name}_{part}" for name in names for part in ("month", "weekday")]


def build_preprocessor(*, scale_numbers: bool) -> ColumnTransformer:
    """One branch per kind of column; unknown categories at predict time are ignored."""
    spec = contract()
    numbers = [c.name for c in spec.features("number")]
    categories = [c.name for c in spec.features("category")]
    booleans = [c.name for c in spec.features("boolean")]
    dates = [c.name for c in spec.features("date")]
    number_steps: list[tuple[str, object]] = [("impute", SimpleImputer(strategy="median"))]
    if scale_numbers:
        number_steps.append(("scale", StandardScaler()))
    branches: list[tuple[str, object, list[str]]] = [
        ("number", Pipeline(number_steps), numbers),
        (
            "category",
            OneHotEncoder(
                categories=[list(spec[c].categories) for c in categories],
                handle_unknown="ignore",
                sparse_output=False,
            ),
            categories,
        ),
        (
            "boolean",
            Pipeline(
                [
                    ("as_number", FunctionTransformer(booleans_as_numbers, feature_names_out="one-to-one")),
                    ("impute", SimpleImputer(strategy="most_frequent")),
                ]
            ),
            booleans,
        ),
        ("date", FunctionTransformer(date_parts, feature_names_out=date_part_names), dates),
    ]
    return ColumnTransformer(
        [branch for branch in branches if branch[2]],  # a dataset may have no column of a kind
        remainder="drop",
        verbose_feature_names_out=True,
    )


def feature_columns() -> list[str]:
    """The clean columns a model reads (everything but id, free text and target)."""
    return [c.name for c in contract().features()]
