"""Evaluation on the test split: DVC metrics and plots, per-segment metrics, the quality gate.

Figures are rounded to six decimals so that `dvc metrics diff` shows real changes, not
floating-point noise, and curves are thinned to at most a few hundred points so that
`dvc plots diff` stays readable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from mlops_template.files import write_json
from mlops_template.model_files import load_model
from mlops_template.params import Params, ParamsError

MAX_CURVE_POINTS = 200


def _r(value: float) -> float:
    return round(float(value), 6)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """The metrics reported on every PR; AUCs are NaN-free only when both classes occur."""
    predicted = proba >= threshold
    both_classes = len(np.unique(y_true)) == 2
    metrics = {
        "roc_auc": roc_auc_score(y_true, proba) if both_classes else float("nan"),
        "pr_auc": average_precision_score(y_true, proba) if both_classes else float("nan"),
        "f1": f1_score(y_true, predicted, zero_division=0),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
        "accuracy": accuracy_score(y_true, predicted),
        "log_loss": log_loss(y_true, proba, labels=[0, 1]),
        "brier": brier_score_loss(y_true, proba),
    }
    return {name: _r(value) for name, value in metrics.items()}


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= MAX_CURVE_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, MAX_CURVE_POINTS).round().astype(int))
    return frame.iloc[keep]


def plot_data(y_true: np.ndarray, proba: np.ndarray, threshold: float, bins: int) -> dict[str, list[dict[str, Any]]]:
    """Rows for DVC's plot templates: ROC, precision-recall, confusion and calibration."""
    fpr, tpr, _ = roc_curve(y_true, proba)
    precision, recall, _ = precision_recall_curve(y_true, proba)
    fraction_positive, mean_predicted = calibration_curve(y_true, proba, n_bins=bins, strategy="quantile")
    roc = _thin(pd.DataFrame({"fpr": fpr, "tpr": tpr}))
    pr = _thin(pd.DataFrame({"recall": recall[::-1], "precision": precision[::-1]}))
    labels = np.where(y_true == 1, "churn", "stay")
    predicted = np.where(proba >= threshold, "churn", "stay")
    return {
        "roc": [{"fpr": _r(a), "tpr": _r(b)} for a, b in roc.itertuples(index=False)],
        "precision_recall": [{"recall": _r(a), "precision": _r(b)} for a, b in pr.itertuples(index=False)],
        "confusion": [{"actual": a, "predicted": p} for a, p in zip(labels.tolist(), predicted.tolist(), strict=True)],
        "calibration": [
            {"mean_predicted": _r(m), "fraction_positive": _r(f)}
            for m, f in zip(mean_predicted, fraction_positive, strict=True)
        ],
    }


def segment_metrics(
    frame: pd.DataFrame, y_true: np.ndarray, proba: np.ndarray, column: str | None, threshold: float
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
        segments[str(value)] = {
            "rows": int(mask.sum()),
            "positive_rate": _r(y_true[mask].mean()),
            **classification_metrics(y_true[mask], proba[mask], threshold),
        }
    return {column: segments}


@dataclass(frozen=True)
class GateCheck:
    metric: str
    value: float
    minimum: float
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
                f"{c.metric} {c.value:.4f} ≥ {c.minimum}" for c in self.checks
            )
        return "model-quality gate failed: " + "; ".join(
            f"{c.metric} is {c.value:.4f}, below the minimum {c.minimum} (evaluate.min_metrics in params.yaml)"
            for c in failed
        )


def quality_gate(metrics: dict[str, float], minimums: dict[str, float]) -> QualityGate:
    """Every metric named in `evaluate.min_metrics` must reach its minimum."""
    checks = []
    for metric, minimum in minimums.items():
        if metric not in metrics:
            raise ParamsError(
                f"evaluate.min_metrics in params.yaml names {metric!r}, which is not a metric; known: {sorted(metrics)}"
            )
        value = metrics[metric]
        checks.append(GateCheck(metric, value, minimum, bool(value >= minimum)))  # NaN fails
    return QualityGate(all(c.passed for c in checks), checks)


def run(params: Params) -> QualityGate:
    """Stage `evaluate`: metrics, plots and the gate verdict are written even when it fails."""
    paths, settings = params.paths, params.evaluate
    model, card = load_model(paths.model_dir)
    test = pd.read_parquet(paths.test)
    y_true = test[card.target].astype(int).to_numpy()
    proba = model.predict_proba(test[card.features])[:, 1]
    metrics = classification_metrics(y_true, proba, settings.decision_threshold)
    metrics |= {"test_rows": len(test), "test_positive_rate": _r(y_true.mean())}
    write_json(paths.metrics, metrics)
    write_json(
        paths.segment_metrics,
        segment_metrics(test, y_true, proba, settings.segment_column, settings.decision_threshold),
    )
    for name, rows in plot_data(y_true, proba, settings.decision_threshold, settings.calibration_bins).items():
        write_json(paths.plots_dir / f"{name}.json", rows)
    gate = quality_gate(metrics, settings.min_metrics)
    write_json(paths.quality_gate, gate.to_dict())
    return gate
