"""Main versus the PR: which metric moved which way, and whether the PR may merge.

The figures come from `dvc metrics diff --json` (see `dvc_outputs`); this module only
judges them. A metric is "better" in its own direction: most are higher-is-better, the
losses and errors (`log_loss`, `brier`, `rmse`, `mae`) are lower-is-better. Moves within `report.tolerance` are
treated as unchanged so that noise does not fail a pull request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from mlops_template.metric_names import LOWER_IS_BETTER

# Counts and rates that describe the test set, not the model: shown, never judged.
DESCRIPTIVE = frozenset({"test_rows", "test_positive_rate", "test_target_mean", "rows", "positive_rate"})

Change = Literal["better", "worse", "unchanged", "new", "removed", "info"]


@dataclass(frozen=True)
class MetricChange:
    name: str
    old: float | None
    new: float | None
    change: Change

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def higher_is_better(self) -> bool:
        return self.name not in LOWER_IS_BETTER


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def judge(name: str, old: object, new: object, tolerance: float) -> MetricChange:
    """Classify one metric's move, in the metric's own direction."""
    before, after = _number(old), _number(new)
    leaf = name.rsplit(".", 1)[-1]
    change: Change
    if leaf in DESCRIPTIVE or (before is None and after is None):
        change = "info"
    elif before is None:
        change = "new"
    elif after is None:
        change = "removed"
    elif abs(after - before) <= tolerance:
        change = "unchanged"
    else:
        improved = after > before if leaf not in LOWER_IS_BETTER else after < before
        change = "better" if improved else "worse"
    return MetricChange(name, before, after, change)


@dataclass(frozen=True)
class Verdict:
    """The check's outcome and, when it fails, every reason in words a reviewer can act on."""

    passed: bool
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verdict(
    *,
    gate_passed: bool | None,
    pipeline_complete: bool,
    stale_stages: list[str],
    quality_gate_passed: bool | None,
    quality_failures: list[str],
    changes: list[MetricChange],
    must_not_regress: list[str],
    tolerance: float,
    data_changed: bool = False,
) -> Verdict:
    """Fail on a failed data gate, an unfinished pipeline, a failed quality gate or a regression.

    A regression is judged only on the same data: when the PR changes the training data
    (`data_changed`, e.g. retraining adds a labelled batch), both revisions split it into
    different test sets, so a lower figure may be harder data, not a worse model. Then the
    move is a note for the reviewer and the model-quality gate's minimums are the check.
    """
    reasons: list[str] = []
    notes: list[str] = []
    if gate_passed is False:
        reasons.append("the data gate failed: the data breaks the contract (see *Data gate* below)")
    elif gate_passed is None:
        reasons.append("the data gate did not run: no validation report was found")
    if not pipeline_complete and gate_passed is not False:
        stages = ", ".join(f"`{s}`" for s in stale_stages)
        reasons.append(f"the pipeline did not finish: {stages} not reproduced (see the job log)")
    if quality_gate_passed is False:
        reasons.append("the model-quality gate failed: " + "; ".join(quality_failures))
    by_name = {c.name: c for c in changes}
    for name in must_not_regress:
        change = by_name.get(name)
        if change is None or change.old is None:
            notes.append(f"`{name}`: nothing to compare with on the base revision")
            continue
        if change.change == "worse" and change.delta is not None and data_changed:
            notes.append(
                f"`{name}`: {change.old:.4f} → {change.new:.4f} ({change.delta:+.4f}), but the training data "
                "changed, so the two figures come from different test sets: not judged as a regression "
                "(the model-quality gate, `evaluate.min_metrics`, still applies)"
            )
        elif change.change == "worse" and change.delta is not None:
            reasons.append(
                f"`{name}` is worse than on the base revision: {change.old:.4f} → {change.new:.4f} "
                f"({change.delta:+.4f}; tolerance ±{tolerance}, `report.must_not_regress` in params.yaml)"
            )
    return Verdict(passed=not reasons, reasons=reasons, notes=notes)
