"""Which columns the drift check tests and how each is turned into numbers or codes.

The list comes from the contract (`mlops_template.features.contract()`), never from a
column list of our own: a number is tested as a number, a category or yes/no as a
category, a date by its calendar month (what moves with the seasons, while the date
itself moves forward by design). The benchmark builds its own specs the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mlops_template.features import contract
from mlops_template.params import ParamsError

Kind = Literal["number", "category", "boolean", "date", "score"]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BOOLEANS = ("false", "true")
PREDICTION = "prediction"  # the pseudo-feature holding the model's scores


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    kind: Kind
    categories: tuple[str, ...] = ()
    weight: float = 1.0

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("number", "score")

    @property
    def test_name(self) -> str:
        return "KS" if self.is_numeric else "chi-square"


def contract_specs(weights: Mapping[str, float], default_weight: float) -> tuple[FeatureSpec, ...]:
    """One spec per model feature of the contract; `weights` may only name those features."""
    features = contract().features()
    names = {c.name for c in features}
    unknown = sorted(set(weights) - names)
    if unknown:
        raise ParamsError(
            f"drift.weights in params.yaml names {', '.join(unknown)}, which "
            f"{'is not a feature' if len(unknown) == 1 else 'are not features'} of the contract; "
            f"features: {', '.join(sorted(names))}"
        )
    specs = []
    for column in features:
        kind: Kind = column.kind or "category"
        categories: tuple[str, ...] = ()
        if kind == "category":
            categories = column.categories
        elif kind == "boolean":
            categories = BOOLEANS
        elif kind == "date":
            categories = MONTHS
        specs.append(FeatureSpec(column.name, kind, categories, float(weights.get(column.name, default_weight))))
    return tuple(specs)


def as_numbers(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def as_codes(spec: FeatureSpec, series: pd.Series) -> np.ndarray:
    """Codes 0..k-1 into `spec.categories`, -1 for missing (and for values outside them)."""
    if spec.kind == "boolean":
        return series.astype("boolean").to_numpy(dtype=np.int8, na_value=-1)
    if spec.kind == "date":
        months = pd.DatetimeIndex(pd.to_datetime(series, errors="coerce")).month
        return np.asarray(months.fillna(0), dtype=np.int16) - 1
    if isinstance(series.dtype, pd.CategoricalDtype) and tuple(series.cat.categories) == spec.categories:
        return np.asarray(series.cat.codes)
    return np.asarray(pd.Categorical(series, categories=list(spec.categories)).codes)


def unseen_values(raw: pd.Series, clean: pd.Series, top: int = 5) -> tuple[int, dict[str, int]]:
    """Raw values that cleaning could not map to a known category (present raw, missing clean).

    Only the rows missing after cleaning are looked at, so this costs little on a large batch.
    """
    lost = clean.isna().to_numpy()
    if not lost.any():
        return 0, {}
    candidates = raw[lost]
    candidates = candidates[candidates.notna()].astype("string").str.strip()
    candidates = candidates[candidates != ""]
    if candidates.empty:
        return 0, {}
    counts = candidates.value_counts()
    return int(counts.sum()), {str(k): int(v) for k, v in counts.head(top).items()}
