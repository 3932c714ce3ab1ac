"""`mlops drift`: compare the current batch with the reference and write the report.

Exit codes (the same in `drift.json` as `exit_code`):
  0  no drift
  3  drift (the score of drifted features reached `drift.trigger_score`)
  4  could not check: too few rows, missing columns, no reference or current data...
     (a one-line reason, never a traceback)
  1 and 2 are left to crashes and to usage errors (bad command-line options).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlops_template.cleaning import clean_features
from mlops_template.drift import report
from mlops_template.drift.columns import FeatureSpec, contract_specs
from mlops_template.drift.compare import Comparison, PerformanceResult, ReferenceProfile, compare
from mlops_template.drift.scores import ModelScores, load_scores, performance, score_spec
from mlops_template.drift.sources import (
    CannotCheckError,
    CurrentBatch,
    SourceKind,
    load_current,
    load_reference,
)
from mlops_template.features import contract
from mlops_template.params import DriftParams, Params, ParamsError

EXIT_NO_DRIFT = 0
EXIT_DRIFT = 3
EXIT_CANNOT_CHECK = 4
Status = Literal["drift", "no drift", "could not check"]
DEMO_PREFIX = "DEMO (the synthetic sample, not production data): "
EXIT_CODES: dict[Status, int] = {"no drift": EXIT_NO_DRIFT, "drift": EXIT_DRIFT, "could not check": EXIT_CANNOT_CHECK}


@dataclass(frozen=True)
class Outcome:
    status: Status
    summary: str
    json_path: Path
    markdown_path: Path
    comparison: Comparison | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


def require_columns(batch: CurrentBatch, specs: tuple[FeatureSpec, ...], min_rows: int) -> None:
    """The batch must be large enough and carry every feature the model reads."""
    rows = len(batch.raw)
    if rows < min_rows:
        raise CannotCheckError(
            f"the current batch ({batch.description}) has {rows:,} rows, fewer than drift.min_rows = {min_rows:,}; "
            "wait for more data, widen drift.window_days, or lower drift.min_rows in params.yaml"
        )
    missing = [s.name for s in specs if s.name not in batch.raw.columns]
    if missing:
        raise CannotCheckError(
            f"the current batch ({batch.description}) lacks the feature column(s) {', '.join(missing)} "
            "that the contract (schema.py) requires; send every feature, or change the contract"
        )


def _summary(comparison: Comparison) -> str:
    drifted = comparison.drifted()
    names = ", ".join(f.name for f in drifted)
    perf = comparison.performance
    perf_text = f"; {perf.metric} dropped by {perf.drop:.3f}" if perf is not None and perf.drifted else ""
    if comparison.status == "drift":
        score = f"score {comparison.score:g} ≥ {comparison.trigger_score:g}"
        return f"drift: {len(drifted)} drifted ({names}){perf_text}; {score}"
    if drifted or perf_text:
        return (
            f"no drift: {names or 'performance'} changed{perf_text}, but the score {comparison.score:g} "
            f"is below {comparison.trigger_score:g}"
        )
    return f"no drift in {len(comparison.features)} features" + (
        " or the model's scores" if comparison.prediction else ""
    )


def settings_summary(settings: DriftParams) -> dict[str, Any]:
    """The settings a reader of the report needs to judge it (recorded in drift.json)."""
    keys = ("alpha", "correction", "min_rows", "min_values", "min_psi", "min_missing_change", "max_unseen_share")
    return {key: getattr(settings, key) for key in (*keys, "fine_bins", "psi_bins")}


def comparison_fields(comparison: Comparison) -> dict[str, Any]:
    """The machine-readable result of a comparison: score, and every feature's tests and verdict."""
    return {
        "score": comparison.score,
        "trigger_score": comparison.trigger_score,
        "tests": comparison.tests,
        "features": [f.to_dict() for f in comparison.features],
        "prediction": comparison.prediction.to_dict() if comparison.prediction else None,
        "performance": comparison.performance.to_dict() if comparison.performance else None,
    }


@dataclass(frozen=True)
class _ModelSide:
    scores: np.ndarray | None = None
    spec: FeatureSpec | None = None
    performance: PerformanceResult | None = None


def _model_side(
    params: Params, model: ModelScores, batch: CurrentBatch, current: pd.DataFrame, notes: list[str]
) -> _ModelSide:
    """The batch's scores (logged, or the model's on at most `prediction.max_rows` rows) and,
    with labels, its performance."""
    settings = params.drift
    if model.scorer is None or model.reference is None:
        return _ModelSide()
    scored = current
    if batch.probabilities is not None and model.card is not None and model.card.task == "binary":
        scores = batch.probabilities
        notes.append("current scores: the probabilities the service logged")
    else:
        limit = settings.prediction.max_rows
        if len(current) > limit:
            rows = np.sort(np.random.default_rng(0).choice(len(current), size=limit, replace=False))
            scored = current.iloc[rows]
            notes.append(
                f"the model scored a random {limit:,} of the {len(current):,} rows (drift.prediction.max_rows)"
            )
        scores = model.scorer(scored)
    perf = None
    target = contract().target.name
    if target in scored:
        perf, why = performance(params, model, scored[target], scores)
        if why:
            notes.append(why)
    assert model.card is not None
    return _ModelSide(scores, score_spec(model.card, settings.prediction.weight), perf)


def _compare(params: Params, batch: CurrentBatch, notes: list[str]) -> tuple[Comparison, dict[str, Any], int]:
    settings = params.drift
    specs = contract_specs(settings.weights, settings.default_weight)
    reference = load_reference(params)
    require_columns(batch, specs, settings.min_rows)
    current = clean_features(batch.raw)
    model = load_scores(params, reference)
    notes += model.notes
    side = _model_side(params, model, batch, current, notes)
    profile = ReferenceProfile.build(reference, specs, settings, scores=model.reference, score_spec=side.spec)
    comparison = compare(
        profile,
        specs,
        current,
        settings,
        current_raw=batch.raw,
        scores=side.scores,
        score_spec=side.spec,
        performance=side.performance,
    )
    model_info = None
    if model.card is not None:
        model_info = {
            "path": str(params.paths.model_dir),
            "type": model.card.model_type,
            "data_md5": model.card.data_md5,
        }
    target = contract().target.name
    labelled = int(current[target].notna().sum()) if target in current else 0
    return comparison, {"model": model_info, "labelled_rows": labelled}, len(reference)


def run(
    params: Params,
    *,
    source: SourceKind | None = None,
    file: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Run the check end to end and write `paths.drift_dir`/drift.json, drift.md and plots."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    directory = params.paths.drift_dir
    notes: list[str] = []
    document: dict[str, Any] = {
        "checked_at": now.isoformat(timespec="seconds"),
        "settings": settings_summary(params.drift),
    }
    comparison = None
    plotted = []
    try:
        batch = load_current(params, now, source=source, file=file)
        notes += batch.notes
        document["current"] = {
            "source": batch.kind,
            "description": batch.description,
            "rows": len(batch.raw),
            "model_versions": list(batch.model_versions),
        }
        comparison, extra, reference_rows = _compare(params, batch, notes)
        document["current"]["labelled_rows"] = extra["labelled_rows"]
        document["model"] = extra["model"]
        document["reference"] = {"path": str(params.paths.train), "rows": reference_rows}
        status: Status = comparison.status
        summary = _summary(comparison)
        if batch.kind == "sample":  # never mistaken for production: `drift-issue` posts nothing on it
            document["demo"] = True
            summary = f"{DEMO_PREFIX}{summary}"
        extra_columns = sorted(set(batch.raw.columns) - {c.name for c in contract().columns})
        if extra_columns:
            notes.append(f"columns not in the contract, ignored: {', '.join(extra_columns)}")
        document |= comparison_fields(comparison)
        plotted = comparison.worst(params.drift.plots)
    except CannotCheckError as exc:
        status, summary = "could not check", f"could not check: {exc}"
    except ParamsError as exc:  # e.g. drift.weights naming an unknown feature
        status, summary = "could not check", f"could not check: {exc}"
    document |= {
        "status": status,
        "exit_code": EXIT_CODES[status],
        "summary": summary,
        "notes": notes,
        "duration_seconds": round(time.perf_counter() - started, 3),
    }
    json_path, md_path = report.write(directory, document, plotted)
    return Outcome(status, summary, json_path, md_path, comparison)


def read_result(path: Path) -> dict[str, Any]:
    """A drift.json written by `run` (for the issue and retrain commands)."""
    import json

    if not path.exists():
        raise CannotCheckError(f"{path} not found: run `make drift` first")
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document
