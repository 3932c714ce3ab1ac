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

from mlops_template.errors import UserError
from mlops_template.schema import CleanRecords, RawRecords

Kind = Literal["number", "category", "boolean", "date"]
Role = Literal["feature", "id", "text", "target"]
Task = Literal["binary", "multiclass", "regression"]

TARGET_HELP = (
    "declare it with the constructor of its task (mlops_template.checks): "
    "target_binary(positive=..., labels=[...]) for two labels (good/bad, 0/1, yes/no), "
    "target_classes([...]) for three or more, target_number((low, high)) for a number; "
    "in CleanRecords: Series[bool], Series[Category] = category([...], nullable=False) or "
    "Series[float] = number((low, high), nullable=False) (docs/pipeline.md)"
)


class ContractError(UserError, TypeError):
    """schema.py declares something the pipeline cannot work with; the message says what to write."""


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
    task: Task | None = None  # the target only
    labels: tuple[str, ...] = ()  # a class target's labels; binary: (negative, positive)

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
    def task(self) -> Task:
        """What the model learns, from the target's constructor in schema.py."""
        task = self.target.task
        assert task is not None  # contract() refuses a target without one
        return task

    @property
    def positive_label(self) -> str:
        """The label a binary model scores (its probability is of this label)."""
        return self.target.labels[-1]

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
    return contract_of(RawRecords, CleanRecords)


def contract_of(raw_model: type[pa.DataFrameModel], clean_model: type[pa.DataFrameModel]) -> Contract:
    """The contract of any pair of raw and clean models (schema.py's, or a test's)."""
    raw_columns = raw_model.to_schema().columns
    clean_columns = clean_model.to_schema().columns
    columns = []
    for name, raw in raw_columns.items():
        clean = clean_columns[name]
        metadata = raw.metadata or {}
        role: Role = metadata.get("role", "feature")
        kind = _kind(raw)
        if role == "feature" and kind is None:
            raise ContractError(f"schema.py: feature column {name!r} has no kind; see the module docstring")
        task: Task | None = metadata.get("task")
        if role == "target":
            kind = _target_kind(name, task, str(clean.dtype))
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
                task=task,
                labels=tuple(metadata.get("labels", ())),
            )
        )
    targets = [c.name for c in columns if c.role == "target"]
    if len(targets) != 1:
        raise ContractError(f"schema.py: the contract needs exactly one target column, found {targets or 'none'}")
    return Contract(columns=tuple(columns))


_CLEAN_TARGET: dict[Task, tuple[Kind, tuple[str, ...]]] = {
    "binary": ("boolean", ("bool",)),
    "multiclass": ("category", ("category",)),
    "regression": ("number", ("float", "int")),
}


def _target_kind(name: str, task: Task | None, clean_dtype: str) -> Kind:
    """The target's kind follows its task; a target declared as a plain column (a yes/no or a
    category with role("target")) is refused here, before any data is read or trained on."""
    if task not in _CLEAN_TARGET:
        raise ContractError(f"schema.py: the target column {name!r} does not say what to predict; {TARGET_HELP}")
    kind, dtypes = _CLEAN_TARGET[task]
    if not clean_dtype.startswith(dtypes):
        raise ContractError(
            f"schema.py: the target column {name!r} is a {task} target in RawRecords but {clean_dtype} in "
            f"CleanRecords; {TARGET_HELP}"
        )
    return kind


@cache
def category_positions(categories: tuple[str, ...]) -> dict[str, int]:
    """Each of a column's categories and its code (its place in the contract), for the
    cleaning and the encoder alike."""
    return {category: index for index, category in enumerate(categories)}


def _as_float(value: object | None) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
