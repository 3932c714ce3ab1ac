"""What a model is measured by, per task: the metrics and the plot data of one test set.

Binary: the positive label's probability against a decision threshold (ROC, precision-
recall, calibration, confusion). Multi-class: class probabilities (accuracy, macro F1, log
loss, confusion between the classes). Regression: values (RMSE, MAE, R², residuals and
predicted against actual). `evaluate` writes these; the PR report and the quality gate read
them by name (`metric_names` says which way each is better).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

MAX_CURVE_POINTS = 200
METRIC_NAMES = {
    "binary": ("roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"),
    "multiclass": ("accuracy", "balanced_accuracy", "macro_f1", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
Rows = list[dict[str, Any]]


def r6(value: float) -> float:
    return round(float(value), 6)


def binary_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
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
    return {name: r6(value) for name, value in metrics.items()}


def multiclass_metrics(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Accuracy, balanced accuracy (each class counts the same), macro F1 and log loss."""
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    metrics = {
        "accuracy": accuracy_score(y_true, predicted),
        "balanced_accuracy": balanced_accuracy_score(y_true, predicted),
        "macro_f1": f1_score(y_true, predicted, average="macro", labels=classes, zero_division=0),
        "log_loss": log_loss(y_true, proba, labels=classes),
    }
    return {name: r6(value) for name, value in metrics.items()}


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """RMSE and MAE (in the target's unit, lower is better) and R² (1 is perfect)."""
    metrics = {
        "rmse": np.sqrt(mean_squared_error(y_true, predicted)),
        "mae": mean_absolute_error(y_true, predicted),
        "r2": r2_score(y_true, predicted) if len(y_true) > 1 else float("nan"),
    }
    return {name: r6(value) for name, value in metrics.items()}


def thin(frame: pd.DataFrame) -> pd.DataFrame:
    """At most MAX_CURVE_POINTS rows, evenly spread, so `dvc plots diff` stays readable."""
    if len(frame) <= MAX_CURVE_POINTS:
        return frame
    keep = np.unique(np.linspace(0, len(frame) - 1, MAX_CURVE_POINTS).round().astype(int))
    return frame.iloc[keep]


def binary_plots(
    y_true: np.ndarray, proba: np.ndarray, threshold: float, bins: int, labels: tuple[str, str]
) -> dict[str, Rows]:
    """Rows for DVC's plot templates: ROC, precision-recall, confusion and calibration."""
    fpr, tpr, _ = roc_curve(y_true, proba)
    precision, recall, _ = precision_recall_curve(y_true, proba)
    fraction_positive, mean_predicted = calibration_curve(y_true, proba, n_bins=bins, strategy="quantile")
    roc = thin(pd.DataFrame({"fpr": fpr, "tpr": tpr}))
    pr = thin(pd.DataFrame({"recall": recall[::-1], "precision": precision[::-1]}))
    negative, positive = labels
    actual = np.where(y_true == 1, positive, negative)
    predicted = np.where(proba >= threshold, positive, negative)
    return {
        "roc": [{"fpr": r6(a), "tpr": r6(b)} for a, b in roc.itertuples(index=False)],
        "precision_recall": [{"recall": r6(a), "precision": r6(b)} for a, b in pr.itertuples(index=False)],
        "confusion": confusion_rows(actual, predicted),
        "calibration": [
            {"mean_predicted": r6(m), "fraction_positive": r6(f)}
            for m, f in zip(mean_predicted, fraction_positive, strict=True)
        ],
    }


def multiclass_plots(y_true: np.ndarray, proba: np.ndarray, classes: list[str]) -> dict[str, Rows]:
    """The confusion between the classes (the predicted class is the most probable one)."""
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return {"confusion": confusion_rows(y_true, predicted)}


def regression_plots(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, Rows]:
    """Predicted against actual (on the diagonal when perfect) and residuals against predicted
    (a band around zero when the errors do not depend on the prediction)."""
    order = np.argsort(predicted, kind="stable")
    frame = thin(pd.DataFrame({"actual": y_true[order], "predicted": predicted[order]}))
    return {
        "predicted_vs_actual": [{"actual": r6(a), "predicted": r6(p)} for a, p in frame.itertuples(index=False)],
        "residuals": [{"predicted": r6(p), "residual": r6(a - p)} for a, p in frame.itertuples(index=False)],
    }


def confusion_rows(actual: np.ndarray, predicted: np.ndarray) -> Rows:
    """One row per test row, as DVC's confusion template wants."""
    return [{"actual": str(a), "predicted": str(p)} for a, p in zip(actual.tolist(), predicted.tolist(), strict=True)]
