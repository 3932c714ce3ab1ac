"""What every part needs to know about the columns, read off the schema module.

The cleaning rules, the model's preprocessing, the service's request model and the drift
tests all ask this module, never a column list of their own, so that editing
`schema.py` is enough to bring a new dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import pandera.pandas as pa

from mlops_template.schema import CleanRecords, RawRecords

Kind = Literal["number", "category", "boolean", "date"]
Role = Literal["feature", "id", "text", "target"]


@dataclass(frozen=True)
class Column:
    """One column of the contract: how it arrives raw and what it must be once clean."""

    name: str
    role: Role
    kind: Kind | None  # None for id and free-text columns
    nullable: bool
    categories: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    description: str | None = None

    @property
    def is_feature(self) -> bool:
        return self.role == "feature"


@dataclass(frozen=True)
class Contract:
    """All columns, in the order of the raw schema."""

    columns: tuple[Column, ...]

    def of_role(self, role: Role) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.role == role)

    def features(self, kind: Kind | None = None) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.is_feature and (kind is None or c.kind == kind))

    @property
    def target(self) -> Column:
        (target,) = self.of_role("target")
        return target

    @property
    def id_column(self) -> Column | None:
        ids = self.of_role("id")
        return ids[0] if ids else None

    @property
    def dropped(self) -> tuple[Column, ...]:
        """Columns `prepare` removes: free text that no model uses."""
        return tuple(c for c in self.columns if c.role == "text")

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def _kind(raw: pa.Column) -> Kind | None:
    names = {check.name for check in raw.checks}
    dtype = str(raw.dtype)
    if "boolean_spelling" in names:
        return "boolean"
    if "category_of" in names:
        return "category"
    if dtype.startswith("datetime"):
        return "date"
    if dtype.startswith(("float", "int")):
        return "number"
    return None


def _statistic(column: pa.Column, check_name: str, key: str) -> object | None:
    for check in column.checks:
        if check.name == check_name:
            return check.statistics.get(key)
    return None


@cache
def contract() -> Contract:
    """The contract derived from `RawRecords` (kinds, roles) and `CleanRecords` (domains)."""
    raw_columns = RawRecords.to_schema().columns
    clean_columns = CleanRecords.to_schema().columns
    columns = []
    for name, raw in raw_columns.items():
        clean = clean_columns[name]
        role: Role = (raw.metadata or {}).get("role", "feature")
        kind = _kind(raw)
        if role == "feature" and kind is None:
            raise TypeError(f"schema.py: feature column {name!r} has no kind; see the module docstring")
        allowed = _statistic(clean, "isin", "allowed_values") or ()
        columns.append(
            Column(
                name=name,
                role=role,
                kind=kind,
                nullable=bool(clean.nullable),
                categories=tuple(str(v) for v in allowed),  # type: ignore[attr-defined]
                min_value=_as_float(_statistic(clean, "in_range", "min_value")),
                max_value=_as_float(_statistic(clean, "in_range", "max_value")),
                description=raw.description,
            )
        )
    return Contract(columns=tuple(columns))


@cache
def category_positions(categories: tuple[str, ...]) -> dict[str, int]:
    """Each of a column's categories and its code (its place in the contract), for the
    cleaning and the encoder alike."""
    return {category: index for index, category in enumerate(categories)}


def _as_float(value: object | None) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
