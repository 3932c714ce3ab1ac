"""The statistics, on counts: every column is binned once and every test reads the bins.

Why counts: a million values are reduced to a few thousand bin counts in one vectorised
pass (no sort, no per-row Python), and KS, PSI, chi-square, the missing share and the
plots are then computed on those few thousand numbers.

- A number is counted on a fine grid of equal-width bins over the reference's central
  range (0.1 %–99.9 % quantiles) plus one bin below and one above. Bin indices are plain
  arithmetic in one vectorised pass. Equal width is chosen over quantile edges because
  finding a quantile bin is a binary search per value (benchmarks/drift_speed.py times
  the whole check).
- The two-sample KS statistic is read off the cumulative counts at the grid's edges. That
  is the exact KS statistic of the discretised data and never larger than the KS statistic
  of the raw values, so its p-value is conservative: binning can cost a little power, never
  a false alarm. Whole numbers (tenure, tickets) fall each into their own bin, which makes
  it the exact KS test for discrete data.
- PSI uses coarse bins (deciles of the reference, snapped to the grid).
- Categories (and yes/no, and calendar months) are counted with `bincount` on their codes,
  plus one bin for values outside the contract's categories ("unseen").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

PSI_FLOOR = 1e-4  # proportions are floored here before PSI's logarithm (an empty bin is not infinite drift)
MIN_EXPECTED = 5.0  # chi-square's usual rule: rarer categories are pooled, small 2x2 tables use Fisher's test
CENTRAL_RANGE = (0.001, 0.999)


@dataclass(frozen=True)
class Histogram:
    """One column of one dataset as counts: `counts` per bin (missing values excluded)."""

    counts: np.ndarray
    missing: int

    @property
    def values(self) -> int:
        return int(self.counts.sum())

    @property
    def rows(self) -> int:
        return self.values + self.missing

    @property
    def missing_share(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class NumberGrid:
    """Equal-width bins over [low, high): bin 0 is below `low`, bin `bins + 1` is `high` and above."""

    low: float
    width: float
    bins: int

    @classmethod
    def from_reference(cls, values: np.ndarray, bins: int) -> NumberGrid:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return cls(low=0.0, width=1.0, bins=1)
        low, high = (float(v) for v in np.quantile(finite, CENTRAL_RANGE))
        if not high > low:  # (almost) constant column: one bin holding the constant
            return cls(low=low, width=max(abs(low), 1.0) * 1e-9, bins=1)
        return cls(low=low, width=(high - low) / bins, bins=bins)

    @property
    def edges(self) -> np.ndarray:
        """Upper edges of bins 0..bins (the last bin has none)."""
        return self.low + self.width * np.arange(self.bins + 1)

    def count(self, values: np.ndarray) -> Histogram:
        """One pass: scale, floor, clip, bincount; NaN goes to its own slot."""
        scaled = np.subtract(values, self.low, dtype=np.float64)
        scaled *= 1.0 / self.width
        np.floor(scaled, out=scaled)
        np.clip(scaled, -1, self.bins, out=scaled)
        scaled += 1
        missing_slot = self.bins + 2
        scaled[np.isnan(scaled)] = missing_slot
        counts = np.bincount(scaled.astype(np.intp), minlength=missing_slot + 1)
        return Histogram(counts=counts[:missing_slot], missing=int(counts[missing_slot]))


def count_codes(codes: np.ndarray, categories: int, unseen: int = 0) -> Histogram:
    """Category codes (-1 = missing) as counts per category plus a final "unseen" bin.

    `unseen` values were present in the raw data but are not one of the contract's
    categories; cleaning turned them into missing codes, so they are moved back out of
    the missing count here.
    """
    counts = np.bincount(codes.astype(np.intp) + 1, minlength=categories + 1)
    missing = int(counts[0]) - unseen
    return Histogram(counts=np.append(counts[1:], unseen), missing=missing)


@dataclass(frozen=True)
class TestResult:
    test: str
    statistic: float
    p_value: float


def ks_from_counts(reference: np.ndarray, current: np.ndarray) -> TestResult:
    """Two-sample KS on binned values; p-value from Kolmogorov's limit with Stephens' small-sample
    correction, Q((sqrt(n) + 0.12 + 0.11/sqrt(n)) D) with n = n1 n2 / (n1 + n2).

    A closed form, so its cost does not grow with the samples as the exact `kstwo.sf(D, n)`
    does; tests/code/test_drift_stats.py holds it to scipy's p-value.
    """
    n_ref, n_cur = int(reference.sum()), int(current.sum())
    cdf_ref = np.cumsum(reference) / n_ref
    cdf_cur = np.cumsum(current) / n_cur
    d = float(np.max(np.abs(cdf_ref - cdf_cur)))
    root = np.sqrt(n_ref * n_cur / (n_ref + n_cur))
    p = float(special.kolmogorov((root + 0.12 + 0.11 / root) * d)) if d > 0 else 1.0
    return TestResult("ks", d, min(max(p, 0.0), 1.0))


def pooled(reference: np.ndarray, current: np.ndarray, keep_last: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pool categories whose expected count in the smaller sample is below MIN_EXPECTED.

    The choice depends on the reference shares only (not on the current batch), so
    pooling cannot be tuned by the data under test. With `keep_last`, the final bin (the
    "unseen" values, empty in the reference by definition) stays on its own.
    """
    body = slice(None, -1) if keep_last else slice(None)
    ref, cur = reference[body], current[body]
    share = ref / max(reference.sum(), 1)
    rare = share * min(reference.sum(), current.sum()) < MIN_EXPECTED
    if rare.sum() >= 1 and (~rare).sum() >= 1:
        ref = np.append(ref[~rare], ref[rare].sum())
        cur = np.append(cur[~rare], cur[rare].sum())
    if keep_last:
        ref, cur = np.append(ref, reference[-1]), np.append(cur, current[-1])
    return ref, cur


def chi_square(reference: np.ndarray, current: np.ndarray) -> TestResult:
    """Chi-square test of homogeneity on a 2 x k table (bins empty in both samples dropped),
    without Yates' continuity correction, which would make the 2 x 2 case conservative."""
    table = np.vstack([reference, current]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or min(table.sum(axis=1)) == 0:
        return TestResult("chi-square", 0.0, 1.0)
    result = stats.chi2_contingency(table, correction=False)
    return TestResult("chi-square", float(result.statistic), float(result.pvalue))


def missing_share_test(reference: Histogram, current: Histogram) -> TestResult:
    """Did the share of missing values change? Chi-square on the 2 x 2 table, Fisher's exact
    test when an expected count is small (then the chi-square approximation is not safe)."""
    table = np.array([[reference.missing, reference.values], [current.missing, current.values]], dtype=float)
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return TestResult("missing share", 0.0, 1.0)
    delta = current.missing_share - reference.missing_share
    chi2 = stats.chi2_contingency(table, correction=False)
    if chi2.expected_freq.min() < MIN_EXPECTED:
        _, p = stats.fisher_exact(table.astype(np.int64))
        return TestResult("missing share (Fisher)", delta, float(p))
    return TestResult("missing share", delta, float(chi2.pvalue))


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index over the same bins: sum (c - r) ln(c / r) of the shares."""
    ref = np.maximum(reference / max(reference.sum(), 1), PSI_FLOOR)
    cur = np.maximum(current / max(current.sum(), 1), PSI_FLOOR)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def coarse_groups(reference: np.ndarray, bins: int) -> np.ndarray:
    """Start indices of `bins` groups of fine bins holding about equal reference shares
    (deciles for 10); groups collapse where one value holds many (ties)."""
    cdf = np.cumsum(reference) / max(reference.sum(), 1)
    cuts = np.searchsorted(cdf, np.arange(1, bins) / bins, side="left") + 1
    starts = np.unique(np.concatenate([[0], cuts]))
    return starts[starts < len(reference)]


def regroup(counts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.add.reduceat(counts, starts)


def adjust(p_values: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values: Holm (family-wise error, valid under any dependence between the
    tests), Benjamini-Hochberg (false discovery rate; scipy's `false_discovery_control`) or
    none. scipy has no Holm and statsmodels is not worth a dependency for five lines: the
    k-th smallest p-value is multiplied by (m - k + 1), and the running maximum keeps the
    adjusted values in the order of the raw ones."""
    p = np.asarray(p_values, dtype=float)
    if p.size == 0 or method == "none":
        return p.copy()
    if method == "bh":
        return np.asarray(stats.false_discovery_control(p, method="bh"), dtype=float)
    if method != "holm":
        raise ValueError(f"unknown multiple-testing correction {method!r}; use holm, bh or none")
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(p.size)
    adjusted[order] = np.maximum.accumulate(np.minimum(1.0, (p.size - np.arange(p.size)) * p[order]))
    return adjusted
