"""The drift statistics against scipy and textbook values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from mlops_template.drift import stats
from mlops_template.drift.columns import BOOLEANS, MONTHS, as_codes, contract_specs, unseen_values
from mlops_template.features import contract
from mlops_template.params import ParamsError


def test_grid_counts_every_value_once_and_missing_apart() -> None:
    values = np.array([np.nan, -5.0, 0.0, 0.5, 1.0, 9.99, 10.0, 50.0, np.nan])
    grid = stats.NumberGrid(low=0.0, width=1.0, bins=10)
    hist = grid.count(values)
    assert hist.missing == 2
    assert hist.values == 7
    assert hist.counts[0] == 1  # below the grid
    assert hist.counts[-1] == 2  # 10.0 and 50.0: at or above its top
    assert hist.counts[1] == 2  # [0, 1)


def test_grid_of_a_constant_column_holds_it_in_one_bin() -> None:
    grid = stats.NumberGrid.from_reference(np.full(100, 3.0), 64)
    hist = grid.count(np.array([3.0, 3.0, 2.0, 4.0]))
    assert hist.counts.tolist() == [1, 2, 1]


def _ks_binned(a: np.ndarray, b: np.ndarray, bins: int = 2048) -> stats.TestResult:
    grid = stats.NumberGrid.from_reference(a, bins)
    return stats.ks_from_counts(grid.count(a).counts, grid.count(b).counts)


def test_ks_is_exact_on_whole_numbers() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.poisson(3, 5_000).astype(float), rng.poisson(3.2, 3_000).astype(float)
    ours = _ks_binned(a, b)
    theirs = scipy_stats.ks_2samp(a, b, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=0.05)


def test_ks_on_continuous_values_is_close_and_never_larger() -> None:
    rng = np.random.default_rng(1)
    for shift in (0.0, 0.05, 0.2):
        a, b = rng.normal(0, 1, 20_000), rng.normal(shift, 1, 10_000)
        ours = _ks_binned(a, b)
        theirs = scipy_stats.ks_2samp(a, b, method="asymp")
        assert ours.statistic <= theirs.statistic + 1e-12  # binning can only lower D: conservative
        assert ours.statistic == pytest.approx(theirs.statistic, abs=0.003)
        assert ours.p_value >= theirs.pvalue * 0.95


def test_chi_square_matches_scipy() -> None:
    ref, cur = np.array([500, 300, 200, 0]), np.array([90, 60, 40, 10])
    ours = stats.chi_square(ref, cur)
    statistic, p, _, _ = scipy_stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert ours.statistic == pytest.approx(statistic)
    assert ours.p_value == pytest.approx(p)


def test_rare_categories_are_pooled_by_reference_share_and_unseen_kept_apart() -> None:
    ref, cur = np.array([5_000, 4_990, 10, 0]), np.array([100, 98, 2, 7])
    pooled_ref, pooled_cur = stats.pooled(ref, cur, keep_last=True)
    assert pooled_ref.tolist() == [5_000, 4_990, 10, 0]  # 10/10000*207 < 5: pooled alone (nothing to merge with)
    ref2, cur2 = np.array([5_000, 4_980, 10, 10, 0]), np.array([100, 98, 1, 1, 7])
    pooled_ref, pooled_cur = stats.pooled(ref2, cur2, keep_last=True)
    assert pooled_ref.tolist() == [5_000, 4_980, 20, 0]
    assert pooled_cur.tolist() == [100, 98, 2, 7]


def test_missing_share_test_uses_fisher_for_small_counts() -> None:
    small = stats.missing_share_test(stats.Histogram(np.array([995]), 5), stats.Histogram(np.array([98]), 2))
    assert "Fisher" in small.test
    _, fisher_p = scipy_stats.fisher_exact([[5, 995], [2, 98]])
    assert small.p_value == pytest.approx(fisher_p)
    large = stats.missing_share_test(stats.Histogram(np.array([9_000]), 1_000), stats.Histogram(np.array([800]), 200))
    _statistic, p, _, _ = scipy_stats.chi2_contingency([[1_000, 9_000], [200, 800]], correction=False)
    assert large.p_value == pytest.approx(p)
    assert large.statistic == pytest.approx(0.1)  # the change in the missing share


def test_psi() -> None:
    assert stats.psi(np.array([10, 20, 30]), np.array([1, 2, 3])) == pytest.approx(0.0)
    expected = (0.6 - 0.5) * np.log(0.6 / 0.5) + (0.4 - 0.5) * np.log(0.4 / 0.5)
    assert stats.psi(np.array([50, 50]), np.array([60, 40])) == pytest.approx(expected)


def test_coarse_groups_are_deciles_of_the_reference() -> None:
    counts = np.full(100, 10)
    starts = stats.coarse_groups(counts, 10)
    assert starts.tolist() == list(range(0, 100, 10))
    heavy = np.array([600, *([10] * 40)])  # one value holds 60 %: the first decile bins collapse into it
    assert stats.regroup(heavy, stats.coarse_groups(heavy, 10))[0] == 600


def test_holm_and_benjamini_hochberg_match_r_p_adjust() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert stats.adjust(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.adjust(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert stats.adjust(p, "none") == pytest.approx(p)
    with pytest.raises(ValueError, match="holm"):
        stats.adjust(p, "bonferroni")


def test_count_codes_separates_unseen_from_missing() -> None:
    hist = stats.count_codes(np.array([0, 1, 1, -1, -1, -1]), categories=2, unseen=2)
    assert hist.counts.tolist() == [1, 2, 2]
    assert hist.missing == 1


def test_specs_come_from_the_contract() -> None:
    specs = contract_specs({}, 1.0)
    assert [s.name for s in specs] == [c.name for c in contract().features()]
    for spec in specs:
        column = contract()[spec.name]
        assert spec.kind == column.kind
        if column.kind == "category":
            assert spec.categories == column.categories
    assert {s.categories for s in specs if s.kind == "boolean"} <= {BOOLEANS}
    assert {s.categories for s in specs if s.kind == "date"} <= {MONTHS}
    with pytest.raises(ParamsError, match="not a feature"):
        contract_specs({"customer_id": 2.0}, 1.0)


def test_codes_and_unseen_values() -> None:
    spec = next(s for s in contract_specs({}, 1.0) if s.kind == "category")
    clean = pd.Series(pd.Categorical([spec.categories[0], None, None], categories=list(spec.categories)))
    raw = pd.Series([spec.categories[0], "  Brand New ", None])
    assert as_codes(spec, clean).tolist() == [0, -1, -1]
    assert unseen_values(raw, clean) == (1, {"Brand New": 1})
