"""How long the drift statistics take on a large batch (goal: 1M rows x 20 features in <= 5 s, 2 cores).

Two cases, each timed end to end after the data is in memory:
1. synthetic: 20 features (12 numbers of assorted shapes, 5 categories, 3 yes/no), 2 % missing,
   a 1M-row reference and a 1M-row current batch with 4 features drifted; profile the reference
   (binning once), compare, adjust, and write drift.json + drift.md + 4 PNG plots;
2. the example contract: 1M raw rows from the sample generator (drift 1.0) cleaned with
   `clean_features` as the service does, against a 1M-row reference: 16 features.
The model's scoring is timed apart (it is the model's cost, not the check's), on the
`drift.prediction.max_rows` rows the check scores at most.

    python -m benchmarks.drift_speed            # or: make bench-drift
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.results import write_results
from mlops_template.drift import report
from mlops_template.drift.check import comparison_fields, settings_summary
from mlops_template.drift.columns import BOOLEANS, FeatureSpec, contract_specs
from mlops_template.drift.compare import ReferenceProfile, compare
from mlops_template.params import load_params


def _number(rng: np.random.Generator, i: int, rows: int, shift: float) -> np.ndarray:
    """Assorted shapes: normal, skewed, counts, whole numbers with ties, flat; `shift` in sd units."""
    shape = i % 6
    if shape == 0:
        return rng.normal(50 + 10 * shift, 10, rows)
    if shape == 1:
        return rng.lognormal(3 + 0.5 * shift, 0.5, rows)
    if shape == 2:
        return rng.poisson(1.5, rows).astype(float)
    if shape == 3:
        return rng.exponential(12, rows).round()
    if shape == 4:
        return rng.uniform(0, 100, rows)
    return rng.gamma(2.0, 6.0, rows).round()


def synthetic(rows: int, seed: int, drift: bool) -> tuple[pd.DataFrame, list[FeatureSpec]]:
    """20 features; with `drift`, four of them move: num_00 and num_01 by 0.3 sd, cat_0's mix, flag_0's rate."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    specs: list[FeatureSpec] = []
    for i in range(12):
        values = _number(rng, i, rows, 0.3 if drift and i < 2 else 0.0)
        values[rng.random(rows) < 0.02] = np.nan
        data[f"num_{i:02d}"] = values
        specs.append(FeatureSpec(f"num_{i:02d}", "number"))
    for i in range(5):
        categories = tuple(f"c{j}" for j in range(4 + i))
        weights = np.linspace(1, 2, len(categories))
        if drift and i == 0:
            weights = weights[::-1]
        codes = rng.choice(len(categories), size=rows, p=weights / weights.sum())
        codes[rng.random(rows) < 0.02] = -1
        data[f"cat_{i}"] = pd.Categorical.from_codes(codes, categories=list(categories))
        specs.append(FeatureSpec(f"cat_{i}", "category", categories))
    for i in range(3):
        values = pd.array(rng.random(rows) < (0.6 if drift and i == 0 else 0.5), dtype="boolean")
        values[rng.random(rows) < 0.02] = pd.NA
        data[f"flag_{i}"] = values
        specs.append(FeatureSpec(f"flag_{i}", "boolean", BOOLEANS))
    return pd.DataFrame(data), specs


def time_synthetic(rows: int, plots: int) -> dict[str, float]:
    settings = load_params().drift
    reference, specs = synthetic(rows, seed=1, drift=False)
    current, _ = synthetic(rows, seed=2, drift=True)
    started = time.perf_counter()
    profile = ReferenceProfile.build(reference, specs, settings)
    profiled = time.perf_counter()
    comparison = compare(profile, specs, current, settings)
    compared = time.perf_counter()
    document = {
        "status": comparison.status,
        "exit_code": 3,
        "summary": f"{len(comparison.drifted())} drifted",
        "checked_at": "benchmark",
        "duration_seconds": compared - started,
        "settings": settings_summary(settings),
        **comparison_fields(comparison),
        "notes": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        report.write(Path(tmp), document, comparison.worst(plots))
    written = time.perf_counter()
    return {
        "profile reference": profiled - started,
        "compare current": compared - profiled,
        "report + plots": written - compared,
        "total": written - started,
        "drifted": float(len(comparison.drifted())),
    }


def time_contract(rows: int) -> dict[str, float]:
    from mlops_template.cleaning import clean_features
    from mlops_template.data.generate import GeneratorSettings, generate_raw

    params = load_params()
    settings = params.drift
    specs = contract_specs(settings.weights, settings.default_weight)
    reference = clean_features(generate_raw(GeneratorSettings(rows=rows, seed=1)))  # the same defects, cleaned
    raw = generate_raw(GeneratorSettings(rows=rows, seed=2, drift=1.0, first_id=10_000_000))
    started = time.perf_counter()
    current = clean_features(raw)
    cleaned = time.perf_counter()
    profile = ReferenceProfile.build(reference, specs, settings)
    profiled = time.perf_counter()
    comparison = compare(profile, specs, current, settings, current_raw=raw)
    compared = time.perf_counter()
    out = {
        "clean_features": cleaned - started,
        "profile reference": profiled - cleaned,
        "compare current": compared - profiled,
        "total": compared - started,
        "drifted": float(len(comparison.drifted())),
    }
    model_dir = params.paths.model_dir
    if (model_dir / "model.joblib").exists():
        from mlops_template.model_files import load_model

        model, card = load_model(model_dir)
        capped = current.sample(n=min(rows, settings.prediction.max_rows), random_state=0)
        t = time.perf_counter()
        model.predict_proba(capped[card.features])
        out[f"model scoring of {len(capped):,} rows (apart; drift.prediction.max_rows)"] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--plots", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="report the best of this many runs")
    args = parser.parse_args()
    print(f"cores available: {len(os.sched_getaffinity(0))}; rows: {args.rows:,}")
    cases: list[tuple[str, Callable[[], dict[str, float]]]] = [
        (
            "synthetic: 20 features (12 numbers, 5 categories, 3 yes/no); report and plots written",
            lambda: time_synthetic(args.rows, args.plots),
        ),
        ("the example contract: 16 features, `clean_features` on the raw rows first", lambda: time_contract(args.rows)),
    ]
    sections = [
        f"A {args.rows:,}-row reference against a {args.rows:,}-row current batch, each case timed end to end\n"
        f"after the data is in memory; the best of {args.repeat} runs, on {len(os.sched_getaffinity(0))} cores.\n"
        "Goal: <= 5 s."
    ]
    for name, func in cases:
        runs = [func() for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["total"])
        rows = [
            f"| features flagged as drift | {v:.0f} |" if k == "drifted" else f"| {k} | {v:.2f} s |"
            for k, v in best.items()
        ]
        section = f"## {name}\n\n| step | time |\n|---|---|\n" + "\n".join(rows)
        print(section)
        sections.append(section)
    write_results("drift_speed", "The drift check's speed", "\n\n".join(sections))


if __name__ == "__main__":
    main()
