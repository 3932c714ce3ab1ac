"""The metrics' names, per task, and which way each is better: a fact `evaluate` writes by
and the PR report judges by, kept here (no imports) so that the report need not load
scikit-learn to know that a smaller RMSE is the better model."""

from __future__ import annotations

# Metrics where a smaller value is the better model; every other metric is better when larger.
LOWER_IS_BETTER = frozenset({"log_loss", "brier", "rmse", "mae"})
# The metrics the PR check guards when `report.must_not_regress` is left empty.
GUARDED = {
    "binary": ["roc_auc", "pr_auc"],
    "multiclass": ["macro_f1", "log_loss"],
    "regression": ["rmse", "mae"],
}
# The columns of the report's per-segment table.
SEGMENT_COLUMNS = {
    "binary": ["roc_auc", "pr_auc", "recall", "precision"],
    "multiclass": ["accuracy", "macro_f1"],
    "regression": ["rmse", "mae", "r2"],
}


def guarded(task: str, configured: list[str]) -> list[str]:
    """`report.must_not_regress` when set, else the task's own."""
    return configured or GUARDED.get(task, GUARDED["binary"])
