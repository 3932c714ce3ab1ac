"""Is the drift check honest? False alarms at or below alpha, and a small real shift caught.

- 200 batches drawn from the reference's own world: the share of runs that raise the alarm
  stays at or below alpha (0.05), and the raw p-values of each test are not too small
  (each test is valid alone, not only after the correction);
- a 0.2 sd shift of one numeric feature in a 100,000-row batch is flagged, for every
  numeric feature of the contract, and nothing else is.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

from mlops_template.cleaning import clean_features
from mlops_template.drift.columns import PREDICTION, FeatureSpec, contract_specs
from mlops_template.drift.compare import ReferenceProfile, compare
from mlops_template.features import contract
from mlops_template.params import DriftParams, load_params
from tests.example import example_only
from tests.example.drift_world import REPO, fitted_model, raw_batch, reference_split

pytestmark = example_only

BATCHES = 200
BATCH_ROWS = 1_000


@cache
def settings() -> DriftParams:
    return load_params(REPO / "params.yaml").drift


@cache
def world() -> tuple[ReferenceProfile, tuple[FeatureSpec, ...], FeatureSpec]:
    train, test = reference_split()
    model, features = fitted_model()
    specs = contract_specs({}, 1.0)
    score_spec = FeatureSpec(PREDICTION, "score")
    reference_scores = model.predict_proba(test[features])[:, 1]
    profile = ReferenceProfile.build(train, specs, settings(), scores=reference_scores, score_spec=score_spec)
    return profile, specs, score_spec


def test_false_alarm_rate_is_at_most_alpha() -> None:
    profile, specs, score_spec = world()
    model, features = fitted_model()
    pool_raw = raw_batch(BATCHES * BATCH_ROWS, seed=1234)
    pool = clean_features(pool_raw)
    pool_scores = model.predict_proba(pool[features])[:, 1]
    alarms = 0
    raw_p: list[list[float]] = []
    for b in range(BATCHES):
        rows = slice(b * BATCH_ROWS, (b + 1) * BATCH_ROWS)
        comparison = compare(
            profile,
            specs,
            pool.iloc[rows],
            settings(),
            current_raw=pool_raw.iloc[rows],
            scores=pool_scores[rows],
            score_spec=score_spec,
        )
        alarms += comparison.status == "drift"
        items = [*comparison.features, comparison.prediction]
        raw_p.append([f.p_value for f in items if f is not None and f.p_value is not None])
    alpha = settings().alpha
    assert alarms / BATCHES <= alpha, f"{alarms} false alarms in {BATCHES} same-distribution batches"
    p = np.array(raw_p)
    # every single test: rejection rate at alpha within 3 binomial sd of alpha (200 draws)
    per_test = (p <= alpha).mean(axis=0)
    assert per_test.max() <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / BATCHES), per_test
    # all tests together: at most alpha (plus a little for the finite number of batches)
    assert (p <= alpha).mean() <= alpha + 0.01


@cache
def big_batch() -> pd.DataFrame:
    return clean_features(raw_batch(100_000, seed=4321))


@pytest.mark.parametrize("column", [c.name for c in contract().features("number")])
def test_a_shift_of_two_tenths_of_a_standard_deviation_is_caught(column: str) -> None:
    profile, specs, _ = world()
    train, _ = reference_split()
    current = big_batch().copy()
    current[column] = current[column] + 0.2 * float(np.nanstd(train[column].to_numpy(dtype=float)))
    comparison = compare(profile, specs, current, settings())
    drifted = {f.name for f in comparison.drifted()}
    assert drifted == {column}
    assert comparison.status == "drift"


def test_the_same_large_batch_unshifted_is_not_drift() -> None:
    profile, specs, _ = world()
    comparison = compare(profile, specs, big_batch(), settings())
    assert comparison.status == "no drift", [(f.name, f.p_adjusted, f.psi) for f in comparison.features]
