"""Request values for the batch tests: valid ones a client might send, near misses, junk."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st

from mlops_template.features import Column, contract
from mlops_template.serving.request import EARLIEST_DATE, LATEST_DATE

REQUEST_COLUMNS = [c for c in contract().columns if c.role != "target"]
VALID = {"signup_date": "2024-03-01", "age": 41, "region": "north", "has_partner": "Y", "tenure_months": "12.5"}


def same_columns(left: dict[str, np.ndarray], right: dict[str, np.ndarray]) -> None:
    assert left.keys() == right.keys()
    for name, values in left.items():
        if values.dtype == float:
            np.testing.assert_array_equal(values, right[name], err_msg=name)
        else:
            assert values.tolist() == right[name].tolist(), name


def as_columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    names = dict.fromkeys(name for record in records for name in record)
    return {name: [record.get(name) for record in records] for name in names}


def _plain(column: Column) -> st.SearchStrategy[Any]:
    """Valid values in their JSON types, as a client's serialiser writes them."""
    if column.kind == "number":
        low, high = column.min_value or 0, column.max_value or 100
        return st.floats(low, high) | st.integers(math.ceil(low), math.floor(high))
    if column.kind == "boolean":
        return st.sampled_from(["yes", "N", "TRUE", "0", "1.0", "t", True, False])
    if column.kind == "date":
        return st.dates(EARLIEST_DATE, LATEST_DATE).map(lambda d: d.isoformat())
    limit = 1_000 if column.role == "text" else 100
    return st.text(st.characters(codec="utf-8"), max_size=min(limit, 30)) | st.sampled_from(
        [*column.categories, "x" * limit]
    )


def _values(column: Column) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    """Valid values a client might send for a column, and near misses."""
    if column.kind == "number":
        low, high = column.min_value or 0, column.max_value or 100
        numbers = st.floats(low, high) | st.integers(math.ceil(low), math.floor(high))
        near = st.sampled_from([low - 1, high + 1, "1_000", " 4", "1e3", ".5", "5.", "+1", "nan", "Infinity", True])
        return numbers | numbers.map(str) | st.none(), near
    if column.kind == "category":
        return st.sampled_from(column.categories) | st.text(max_size=20) | st.none(), st.text(min_size=101)
    if column.kind == "boolean":
        return st.sampled_from(["yes", "N", "TRUE", "0", "1.0", True, False, None]), st.sampled_from(["maybe", 1, 0.0])
    if column.kind == "date":
        near = st.sampled_from(["2024-02-30", "2024-1-05", "2024-01-01T00:00:00", "٢٠٢٤-٠١-٠١", "0001-01-01", None])
        return st.dates(EARLIEST_DATE, LATEST_DATE).map(lambda d: d.isoformat()), near
    return st.text(max_size=50) | st.none(), st.text(min_size=1_001, max_size=1_010)


JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), st.just([1]), st.just({})
)
# A valid record in plain JSON types: required fields always, optional ones present or not, null or not.
PLAIN_RECORD = st.fixed_dictionaries(
    {c.name: _plain(c) for c in REQUEST_COLUMNS if c.kind is not None and not c.nullable},
    optional={c.name: _plain(c) | st.none() for c in REQUEST_COLUMNS if c.kind is None or c.nullable},
)
STRATEGIES = {c.name: _values(c) for c in REQUEST_COLUMNS}
RECORD = st.builds(
    lambda valid, changes: valid | changes,
    st.fixed_dictionaries(
        {c.name: STRATEGIES[c.name][0] for c in REQUEST_COLUMNS if not c.nullable and c.kind is not None},
        optional={c.name: STRATEGIES[c.name][0] for c in REQUEST_COLUMNS if c.nullable or c.kind is None},
    ),
    # Up to two fields spoiled: near misses of their own kind, junk, or a field the contract does not know.
    st.dictionaries(
        st.sampled_from([*STRATEGIES, "extra"]),
        st.one_of(*(near for _, near in STRATEGIES.values()), JUNK),
        max_size=2,
    ),
)
