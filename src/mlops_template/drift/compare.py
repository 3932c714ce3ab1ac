"""Reference profile and comparison: from two tables to one verdict per feature and per run.

The reference (the deployed model's training data) is profiled once: each feature is
binned and counted. A current batch is counted on the same bins; then

- numbers (and the model's scores): two-sample KS + PSI;
- categories, yes/no and calendar months: chi-square + PSI, values outside the contract's
  categories counted in an "unseen" bin;
- every feature: the change in its share of missing values (chi-square or Fisher).

All p-values of the run form one family and are adjusted together (Holm by default: it
bounds the chance of *any* false alarm in a run by `alpha`, whatever the dependence
between features, and the alarm fires on any drifted feature, so that is the error that
matters; Benjamini-Hochberg bounds the share of false findings instead, a better fit for
exploring than for alerting). A test counts as drift only when it is significant after
adjustment *and* its effect reaches a practical floor (`min_psi`, `min_missing_change`):
with a million rows every tiny change is significant, and an alarm should mean something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from mlops_template.drift import stats
from mlops_template.drift.columns import FeatureSpec, as_codes, as_numbers, unseen_values
from mlops_template.drift.stats import Histogram, NumberGrid
from mlops_template.params import DriftParams

Verdict = Literal["drift", "no drift", "not tested"]
Status = Literal["drift", "no drift"]
QUANTILE_SAMPLE = 200_000  # the grid's range comes from at most this many reference values


@dataclass(frozen=True)
class ColumnProfile:
    spec: FeatureSpec
    histogram: Histogram
    grid: NumberGrid | None = None
    groups: np.ndarray | None = None  # PSI bins as start indices into the grid

    def count(self, values: np.ndarray, unseen: int = 0) -> Histogram:
        if self.grid is not None:
            return self.grid.count(values)
        return stats.count_codes(values, len(self.spec.categories), unseen)


def profile_column(spec: FeatureSpec, values: np.ndarray, fine_bins: int, psi_bins: int) -> ColumnProfile:
    """Bin one reference column: numbers on a grid fitted to it, categories by code."""
    if not spec.is_numeric:
        return ColumnProfile(spec, stats.count_codes(values, len(spec.categories)))
    step = max(1, values.size // QUANTILE_SAMPLE)
    grid = NumberGrid.from_reference(values[::step], fine_bins)
    histogram = grid.count(values)
    return ColumnProfile(spec, histogram, grid, stats.coarse_groups(histogram.counts, psi_bins))


def encode(spec: FeatureSpec, series: pd.Series) -> np.ndarray:
    return as_numbers(series) if spec.is_numeric else as_codes(spec, series)


@dataclass(frozen=True)
class ReferenceProfile:
    columns: Mapping[str, ColumnProfile]
    rows: int

    @classmethod
    def build(
        cls,
        frame: pd.DataFrame,
        specs: Sequence[FeatureSpec],
        settings: DriftParams,
        scores: np.ndarray | None = None,
        score_spec: FeatureSpec | None = None,
    ) -> ReferenceProfile:
        columns = {
            s.name: profile_column(s, encode(s, frame[s.name]), settings.fine_bins, settings.psi_bins) for s in specs
        }
        if scores is not None and score_spec is not None:
            columns[score_spec.name] = profile_column(score_spec, scores, settings.fine_bins, settings.psi_bins)
        return cls(columns=columns, rows=len(frame))


JSON_FIELDS = (
    *("name", "kind", "weight", "test", "statistic", "p_value", "p_adjusted", "psi"),
    *("values_reference", "values_current", "missing_reference", "missing_current"),
    *("missing_p_value", "missing_p_adjusted", "unseen_share", "unseen_values", "verdict", "reasons"),
)


@dataclass
class FeatureResult:
    """One feature's tests and verdict; `reference`/`current` keep the counts for the plots."""

    name: str
    kind: str
    weight: float
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    psi: float | None = None
    values_reference: int = 0
    values_current: int = 0
    missing_reference: float = 0.0
    missing_current: float = 0.0
    missing_p_value: float | None = None
    missing_p_adjusted: float | None = None
    unseen_share: float = 0.0
    unseen_values: dict[str, int] = field(default_factory=dict)
    verdict: Verdict = "not tested"
    reasons: list[str] = field(default_factory=list)
    reference: Histogram | None = None
    current: Histogram | None = None
    profile: ColumnProfile | None = None

    @property
    def drifted(self) -> bool:
        return self.verdict == "drift"

    def to_dict(self) -> dict[str, object]:
        return {k: _json_number(getattr(self, k)) for k in JSON_FIELDS}


@dataclass(frozen=True)
class PerformanceResult:
    metric: str
    reference: float
    current: float
    labelled_rows: int
    positive_rate_reference: float | None
    positive_rate_current: float | None  # a binary target's share of the positive label
    max_drop: float
    weight: float
    lower_is_better: bool = False  # rmse, mae, log_loss: a rise is the drop
    positive_label: str = "positive"  # `churned = yes`: what the positive rate counts

    @property
    def drop(self) -> float:
        """How much worse the batch is than the test split, in the metric's own direction."""
        return self.current - self.reference if self.lower_is_better else self.reference - self.current

    @property
    def drifted(self) -> bool:
        return bool(self.drop >= self.max_drop)

    def to_dict(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "reference": _json_number(self.reference),
            "current": _json_number(self.current),
            "drop": _json_number(self.drop),
            "max_drop": self.max_drop,
            "labelled_rows": self.labelled_rows,
            "positive_rate_reference": _json_number(self.positive_rate_reference),
            "positive_rate_current": _json_number(self.positive_rate_current),
            "positive_label": self.positive_label,
            "weight": self.weight,
            "verdict": "drift" if self.drifted else "no drift",
        }


@dataclass
class Comparison:
    features: list[FeatureResult]
    prediction: FeatureResult | None
    performance: PerformanceResult | None
    score: float
    trigger_score: float
    tests: int

    @property
    def status(self) -> Status:
        return "drift" if self.score >= self.trigger_score else "no drift"

    def drifted(self) -> list[FeatureResult]:
        items = [*self.features, *([self.prediction] if self.prediction else [])]
        return [f for f in items if f.drifted]

    def worst(self, count: int) -> list[FeatureResult]:
        """Tested features, drifted first, then by PSI: what the plots show."""
        items = [f for f in [*self.features, *([self.prediction] if self.prediction else [])] if f.psi is not None]
        items.sort(key=lambda f: (not f.drifted, -(f.psi or 0.0)))
        return items[:count]


def _json_number(value: object) -> object:
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if not np.isfinite(number) else round(number, 6)
    return value


def _compare_column(
    profile: ColumnProfile,
    values: np.ndarray,
    settings: DriftParams,
    unseen: tuple[int, dict[str, int]] = (0, {}),
) -> FeatureResult:
    spec = profile.spec
    unseen_count, unseen_top = unseen
    ref = profile.histogram
    cur = profile.count(values, unseen_count)
    result = FeatureResult(
        name=spec.name,
        kind=spec.kind,
        weight=spec.weight,
        values_reference=ref.values,
        values_current=cur.values,
        missing_reference=ref.missing_share,
        missing_current=cur.missing_share,
        reference=ref,
        current=cur,
        profile=profile,
    )
    if spec.kind in ("category", "boolean", "date"):
        result.unseen_share = unseen_count / cur.values if cur.values else 0.0
        result.unseen_values = unseen_top
    missing = stats.missing_share_test(ref, cur)
    result.missing_p_value = missing.p_value
    if min(ref.values, cur.values) < settings.min_values:
        return result
    if profile.grid is not None and profile.groups is not None:
        test = stats.ks_from_counts(ref.counts, cur.counts)
        result.psi = stats.psi(stats.regroup(ref.counts, profile.groups), stats.regroup(cur.counts, profile.groups))
    else:
        ref_counts, cur_counts = stats.pooled(ref.counts, cur.counts, keep_last=True)
        test = stats.chi_square(ref_counts, cur_counts)
        result.psi = stats.psi(ref.counts, cur.counts)
    result.test, result.statistic, result.p_value = spec.test_name, test.statistic, test.p_value
    return result


def _judge(result: FeatureResult, settings: DriftParams) -> None:
    reasons = []
    significant = result.p_adjusted is not None and result.p_adjusted <= settings.alpha
    if significant and result.psi is not None and result.psi >= settings.min_psi:
        reasons.append(f"distribution changed ({result.test} {result.statistic:.3g}, PSI {result.psi:.3f})")
    change = result.missing_current - result.missing_reference
    if (
        result.missing_p_adjusted is not None
        and result.missing_p_adjusted <= settings.alpha
        and abs(change) >= settings.min_missing_change
    ):
        reasons.append(f"missing share {result.missing_reference:.1%} → {result.missing_current:.1%}")
    if result.unseen_share > settings.max_unseen_share:
        listed = ", ".join(f"{v!r} ({n:,})" for v, n in result.unseen_values.items())
        reasons.append(f"{result.unseen_share:.1%} of values are categories the model never saw: {listed}")
    result.reasons = reasons
    if reasons:
        result.verdict = "drift"
    elif result.p_value is None:
        result.verdict = "not tested"
        result.reasons = [f"fewer than {settings.min_values} values to test the distribution"]
    else:
        result.verdict = "no drift"


def compare(
    reference: ReferenceProfile,
    specs: Sequence[FeatureSpec],
    current_clean: pd.DataFrame,
    settings: DriftParams,
    *,
    current_raw: pd.DataFrame | None = None,
    scores: np.ndarray | None = None,
    score_spec: FeatureSpec | None = None,
    performance: PerformanceResult | None = None,
) -> Comparison:
    """Every feature of `specs` (present in both) tested, the p-values adjusted as one family."""
    results = []
    for spec in specs:
        clean = current_clean[spec.name]
        unseen: tuple[int, dict[str, int]] = (0, {})
        if current_raw is not None and spec.name in current_raw and not spec.is_numeric:
            unseen = unseen_values(current_raw[spec.name], clean)
        results.append(_compare_column(reference.columns[spec.name], encode(spec, clean), settings, unseen))
    prediction = None
    if scores is not None and score_spec is not None and score_spec.name in reference.columns:
        prediction = _compare_column(reference.columns[score_spec.name], scores, settings)
    everything = [*results, *([prediction] if prediction else [])]

    # One family: every distribution test and every missing-share test of this run.
    slots: list[tuple[FeatureResult, str]] = []
    for r in everything:
        if r.p_value is not None:
            slots.append((r, "p_adjusted"))
        if r.missing_p_value is not None:
            slots.append((r, "missing_p_adjusted"))
    raw_p = np.array(
        [r.p_value if slot == "p_adjusted" else r.missing_p_value for r, slot in slots],
        dtype=float,
    )
    for (r, slot), p in zip(slots, stats.adjust(raw_p, settings.correction), strict=True):
        setattr(r, slot, float(p))
    for r in everything:
        _judge(r, settings)

    score = sum(r.weight for r in everything if r.drifted)
    if performance is not None and performance.drifted:
        score += performance.weight
    return Comparison(
        features=results,
        prediction=prediction,
        performance=performance,
        score=float(score),
        trigger_score=settings.trigger_score,
        tests=len(slots),
    )
