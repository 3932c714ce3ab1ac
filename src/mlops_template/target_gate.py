"""Is the target trainable? The gate's last question, asked before anything is trained.

A file can pass every column rule and still teach a model nothing: a constant target, one
class only, or a class too rare to learn and test. Each of these would otherwise surface
late (a split that cannot stratify, `roc_auc is nan` at the quality gate) with no hint
why; here it is a finding on the target column that says what to do.
"""

from __future__ import annotations

import pandas as pd

from mlops_template.cleaning import clean_column
from mlops_template.features import Column, contract
from mlops_template.gate_report import Finding

CHECK = "trainable_target"


def target_findings(frame: pd.DataFrame, min_class_rows: int, target: Column | None = None) -> list[Finding]:
    """Findings on the target of a gated raw table: constant, one class, too few of a class.
    Values that break the target's own rule are reported by the gate already and not counted."""
    target = target or contract().target
    if target.name not in frame.columns or not len(frame):
        return []
    values = pd.Series(clean_column(target, frame[target.name])).dropna()
    rows = len(frame)
    if target.task == "regression":
        if values.nunique() < 2:
            only = "no value" if values.empty else f"the single value {values.iloc[0]:g}"
            return [
                _finding(
                    target.name,
                    f"the target is constant ({only}): a model learns nothing from it; "
                    "check the export, or choose another target column in schema.py",
                    rows,
                    rows,
                )
            ]
        return []
    if target.task == "binary":
        negative, positive = target.labels
        counts = {negative: int((~values.astype(bool)).sum()), positive: int(values.astype(bool).sum())}
    else:
        counts = {label: int((values.astype(str) == label).sum()) for label in target.labels}
    present = [label for label, count in counts.items() if count]
    if len(present) < 2:
        seen = f"only {present[0]!r}" if present else "no valid label"
        return [
            _finding(
                target.name,
                f"one class ({seen}) among the labels {list(counts)}: a classifier needs at least two; "
                "check the export, or the labels declared in schema.py",
                rows,
                rows,
            )
        ]
    return [
        _finding(
            target.name,
            f"class {label!r} has {count:,} rows, fewer than validate.min_class_rows ({min_class_rows}) in "
            "params.yaml: too few to learn and to test; collect more rows, merge the class into another "
            "(schema.py and the export), or lower the setting",
            count,
            rows,
        )
        for label, count in counts.items()
        if count < min_class_rows
    ]


def _finding(column: str, problem: str, count: int, rows: int) -> Finding:
    return Finding(column, CHECK, problem, "error", count, round(count / rows, 6) if rows else 1.0)
