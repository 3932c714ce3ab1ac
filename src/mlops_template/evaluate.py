"""Evaluation on the test split: DVC metrics and plots, per-segment metrics, the quality gate.

What is measured follows the task the contract declares (`task_metrics`). Figures are
rounded to six decimals so that `dvc metrics diff` shows real changes, not floating-point
noise. Every plot file dvc.yaml declares is written on every run, empty (`[]`, which DVC
skips) when it does not belong to the task, so that one dvc.yaml serves every task.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from mlops_template import task_metrics as tm
from mlops_template.files import write_json
from mlops_template.model_files import ModelCard, load_model
from mlops_template.params import EvaluateParams, Params, ParamsError

PLOT_FILES = ("roc", "precision_recall", "confusion", "calibration", "predicted_vs_actual", "residuals")


@dataclass(frozen=True)
class Predictions:
    """A model's answers on a table, with the truth, in the form its task's metrics want."""

    card: ModelCard
    y_true: np.ndarray
    scores: np.ndarray  # binary: P(positive); multi-class: one column per class; regression: values

    def metrics(self, threshold: float, mask: np.ndarray | None = None) -> dict[str, float]:
        y, s = (self.y_true, self.scores) if mask is None else (self.y_true[mask], self.scores[mask])
        if self.card.task == "regression":
            return tm.regression_metrics(y, s)
        if self.card.task == "multiclass":
            return tm.multiclass_metrics(y, s, self.card.labels)
        return tm.binary_metrics(y, s, threshold)

    def plots(self, settings: EvaluateParams) -> dict[str, tm.Rows]:
        if self.card.task == "regression":
            return tm.regression_plots(self.y_true, self.scores)
        if self.card.task == "multiclass":
            return tm.multiclass_plots(self.y_true, self.scores, self.card.labels)
        negative, positive = self.card.labels or ("0", "1")
        return tm.binary_plots(
            self.y_true, self.scores, settings.decision_threshold, settings.calibration_bins, (negative, positive)
        )

    def described(self) -> dict[str, float]:
        """Figures about the test set, not the model: shown in the report, never judged."""
        if self.card.task == "binary":
            return {"test_positive_rate": tm.r6(self.y_true.mean())}
        if self.card.task == "regression":
            return {"test_target_mean": tm.r6(self.y_true.mean())}
        return {}


def predict(model: Pipeline, card: ModelCard, frame: pd.DataFrame) -> Predictions:
    """Score `frame` (clean, with the target) with a model saved by `train`."""
    features = frame[card.features]
    if card.task == "regression":
        return Predictions(card, frame[card.target].astype(float).to_numpy(), np.asarray(model.predict(features)))
    proba = model.predict_proba(features)
    if card.task == "multiclass":
        return Predictions(card, frame[card.target].astype(str).to_numpy(), proba)
    return Predictions(card, frame[card.target].astype(int).to_numpy(), proba[:, 1])


def segment_metrics(
    frame: pd.DataFrame, predictions: Predictions, column: str | None, threshold: float
) -> dict[str, Any]:
    """The same metrics within each value of one categorical column (params: evaluate.segment_column)."""
    if column is None:
        return {}
    if column not in frame.columns:
        raise ParamsError(
            f"evaluate.segment_column in params.yaml: {column!r} is not a column of the test data; "
            f"columns: {', '.join(frame.columns)}"
        )
    segments: dict[str, Any] = {}
    values = frame[column].astype("string").fillna("(missing)").to_numpy()
    for value in sorted(set(values)):
        mask = values == value
        binary = predictions.card.task == "binary"
        described = {"positive_rate": tm.r6(predictions.y_true[mask].mean())} if binary else {}
        segments[str(value)] = {"rows": int(mask.sum()), **described, **predictions.metrics(threshold, mask)}
    return {column: segments}


@dataclass(frozen=True)
class GateCheck:
    metric: str
    value: float
    limit: float
    kind: str  # "minimum" (higher is better) or "maximum" (lower is better)
    passed: bool


@dataclass(frozen=True)
class QualityGate:
    passed: bool
    checks: list[GateCheck]

    def to_dict(self) -> dict[str, Any]:
        """Nested mappings, not lists, so `dvc metrics show/diff` can flatten them."""
        return {"passed": self.passed, "checks": {c.metric: asdict(c) for c in self.checks}}

    def message(self) -> str:
        failed = [c for c in self.checks if not c.passed]
        if not failed:
            return "model-quality gate passed: " + ", ".join(
                f"{c.metric} {c.value:.4f} {'≥' if c.kind == 'minimum' else '≤'} {c.limit}" for c in self.checks
            )
        return "model-quality gate failed: " + "; ".join(
            f"{c.metric} is {c.value:.4f}, {'below the minimum' if c.kind == 'minimum' else 'above the maximum'} "
            f"{c.limit} (evaluate.{'min' if c.kind == 'minimum' else 'max'}_metrics in params.yaml)"
            for c in failed
        )


def quality_gate(
    metrics: dict[str, float], minimums: dict[str, float], maximums: dict[str, float] | None = None
) -> QualityGate:
    """Every metric in `evaluate.min_metrics` must reach its minimum (higher is better), every
    one in `evaluate.max_metrics` stay under its maximum (rmse, mae, log_loss: lower is better)."""
    checks = []
    for setting, limits, kind in (("min_metrics", minimums, "minimum"), ("max_metrics", maximums or {}, "maximum")):
        for metric, limit in limits.items():
            if metric not in metrics:
                raise ParamsError(
                    f"evaluate.{setting} in params.yaml names {metric!r}, which is not a metric of this task; "
                    f"known: {sorted(metrics)}"
                )
            value = metrics[metric]
            passed = value >= limit if kind == "minimum" else value <= limit  # NaN fails both
            checks.append(GateCheck(metric, value, limit, kind, bool(passed)))
    return QualityGate(all(c.passed for c in checks), checks)


def run(params: Params) -> QualityGate:
    """Stage `evaluate`: metrics, plots and the gate verdict are written even when it fails."""
    paths, settings = params.paths, params.evaluate
    model, card = load_model(paths.model_dir)
    test = pd.read_parquet(paths.test)
    predictions = predict(model, card, test)
    metrics = predictions.metrics(settings.decision_threshold)
    metrics |= {"test_rows": len(test), **predictions.described()}
    write_json(paths.metrics, metrics)
    write_json(
        paths.segment_metrics,
        segment_metrics(test, predictions, settings.segment_column, settings.decision_threshold),
    )
    plots = predictions.plots(settings)
    for name in PLOT_FILES:
        write_json(paths.plots_dir / f"{name}.json", plots.get(name, []))
    gate = quality_gate(metrics, settings.min_metrics, settings.max_metrics)
    write_json(paths.quality_gate, gate.to_dict())
    return gate
