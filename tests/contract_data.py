"""Raw exports synthesised from the data contract, for tests that must hold for any dataset.

Every column is drawn from what `features.contract()` says about it: numbers inside their
range, categories among their values (some in another case, as exports spell them), yes/no
in several spellings, dates, ids, free text, and a target of the contract's task that
depends on the first number feature, so that a model has something to learn. Nullable
features get a few missing values. Nothing here names a column: swap schema.py and these
frames follow (the example's own generator, with its churn story, is tests/example/'s).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_template.features import Column, Contract, contract

MISSING_SHARE = 0.02
YES_NO = np.array(["yes", "no", "Y", "false", "TRUE", "0"], dtype=object)
YES_NO_TRUTH = np.array([True, False, True, False, True, False])


def _numbers(column: Column, rows: int, rng: np.random.Generator) -> np.ndarray:
    low = 0.0 if column.min_value is None else column.min_value
    high = low + 100.0 if column.max_value is None else column.max_value
    return np.round(rng.uniform(low, high, rows), 3)


def _signal(spec: Contract, frame: pd.DataFrame, rows: int, rng: np.random.Generator) -> np.ndarray:
    """A standardised driver of the target: the first number feature (noise when there is none)."""
    numbers = spec.features("number")
    if not numbers:
        return np.asarray(rng.normal(size=rows))
    values = pd.to_numeric(frame[numbers[0].name], errors="coerce").to_numpy(dtype=float)
    centred = values - np.nanmean(values)
    return np.nan_to_num(centred / (np.nanstd(centred) or 1.0))


def _target(spec: Contract, frame: pd.DataFrame, rows: int, rng: np.random.Generator) -> np.ndarray:
    target = spec.target
    driver = _signal(spec, frame, rows, rng) + rng.normal(scale=0.25, size=rows)
    if target.task == "regression":
        low = 0.0 if target.min_value is None else target.min_value
        high = low + 100.0 if target.max_value is None else target.max_value
        middle, spread = (low + high) / 2, (high - low) / 8
        return np.round(np.clip(middle + spread * driver, low, high), 3)
    labels = np.asarray(target.labels, dtype=object)
    if target.task == "binary":  # labels are (negative, positive); about a third positive
        return np.where(driver > 0.45, labels[1], labels[0])
    cuts = np.quantile(driver, np.linspace(0, 1, len(labels) + 1)[1:-1])
    return labels[np.searchsorted(cuts, driver)]


def raw_frame(rows: int = 2_000, seed: int = 0, spec: Contract | None = None) -> pd.DataFrame:
    """A raw export of `rows` rows that passes the contract's gate (its dirt stays repairable)."""
    spec = spec or contract()
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(index=range(rows))
    for column in spec.columns:
        if column.role == "target":
            continue
        if column.role == "id":
            values: np.ndarray = np.array([f"R{seed:02d}{i:07d}" for i in range(rows)], dtype=object)
        elif column.role == "text":
            values = rng.choice(np.array(["", "called twice", "asked for a refund"], dtype=object), rows)
        elif column.kind == "number":
            values = _numbers(column, rows, rng)
        elif column.kind == "category":
            canonical = rng.choice(np.asarray(column.categories, dtype=object), rows)
            values = np.where(rng.random(rows) < 0.1, np.char.upper(canonical.astype(str)), canonical).astype(object)
        elif column.kind == "boolean":
            values = rng.choice(YES_NO, rows)
        else:  # a date
            days = rng.integers(0, 3_650, rows)
            values = (np.datetime64("2015-01-01") + days.astype("timedelta64[D]")).astype(str).astype(object)
        series = pd.Series(values, dtype=object)
        if column.role == "feature" and column.nullable:
            series[rng.random(rows) < MISSING_SHARE] = None
        frame[column.name] = series
    frame[spec.target.name] = _target(spec, frame, rows, rng)
    return frame[[c.name for c in spec.columns]]


def raw_record(seed: int = 0) -> dict[str, object]:
    """One raw row without the target, as a client sends it to the service (JSON values)."""
    spec = contract()
    row = raw_frame(rows=1, seed=seed).iloc[0]
    return {c.name: (None if pd.isna(row[c.name]) else row[c.name]) for c in spec.columns if c.role != "target"}
