"""Metrics and plot data per task, and the model-quality gate."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_template.evaluate import quality_gate
from mlops_template.params import ParamsError
from mlops_template.task_metrics import (
    MAX_CURVE_POINTS,
    binary_metrics,
    binary_plots,
    multiclass_metrics,
    multiclass_plots,
    regression_metrics,
    regression_plots,
)

classification_metrics = binary_metrics


@pytest.fixture(scope="module")
def scores() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(5_000) < 0.2).astype(int)
    proba = np.clip(0.2 + 0.35 * y + rng.normal(0, 0.15, y.size), 0, 1)
    return y, proba


def test_metrics_are_the_documented_set_and_rounded(scores: tuple[np.ndarray, np.ndarray]) -> None:
    metrics = classification_metrics(*scores, threshold=0.35)
    assert set(metrics) == {"roc_auc", "pr_auc", "f1", "precision", "recall", "accuracy", "log_loss", "brier"}
    assert all(round(v, 6) == v for v in metrics.values())
    assert metrics["roc_auc"] > 0.9


def test_a_perfect_and_a_useless_model_bracket_the_metrics() -> None:
    y = np.array([0, 0, 1, 1] * 50)
    assert classification_metrics(y, y.astype(float) * 0.98 + 0.01, 0.5)["roc_auc"] == 1.0
    assert classification_metrics(y, np.full(y.size, 0.5), 0.5)["roc_auc"] == 0.5


def test_plot_data_is_thinned_and_shaped_for_dvc_templates(scores: tuple[np.ndarray, np.ndarray]) -> None:
    plots = binary_plots(*scores, threshold=0.35, bins=10, labels=("good", "bad"))
    assert set(plots) == {"roc", "precision_recall", "confusion", "calibration"}
    assert len(plots["roc"]) <= MAX_CURVE_POINTS
    assert set(plots["roc"][0]) == {"fpr", "tpr"}
    assert len(plots["confusion"]) == len(scores[0])
    assert {row["actual"] for row in plots["confusion"]} == {"good", "bad"}
    assert len(plots["calibration"]) == 10


def test_the_quality_gate_fails_below_a_minimum_and_says_where_to_change_it() -> None:
    gate = quality_gate({"roc_auc": 0.70, "recall": 0.6}, {"roc_auc": 0.75, "recall": 0.5})
    assert not gate.passed
    assert "roc_auc is 0.7000, below the minimum 0.75" in gate.message()
    assert "params.yaml" in gate.message()
    assert "recall" not in gate.message().split("failed:")[1]
    assert gate.to_dict()["checks"]["recall"]["passed"] is True


def test_the_quality_gate_passes_at_the_minimum_and_fails_on_nan() -> None:
    assert quality_gate({"roc_auc": 0.75}, {"roc_auc": 0.75}).passed
    assert not quality_gate({"roc_auc": float("nan")}, {"roc_auc": 0.75}).passed


def test_an_unknown_metric_in_the_gate_is_a_configuration_error() -> None:
    with pytest.raises(ParamsError, match="roc_acu"):
        quality_gate({"roc_auc": 0.8}, {"roc_acu": 0.75})


def test_the_quality_gate_holds_lower_is_better_metrics_under_their_maximum() -> None:
    gate = quality_gate({"rmse": 61.0, "r2": 0.4}, {"r2": 0.3}, {"rmse": 60.0})
    assert not gate.passed
    assert "rmse is 61.0000, above the maximum 60.0 (evaluate.max_metrics in params.yaml)" in gate.message()
    assert quality_gate({"rmse": 60.0}, {}, {"rmse": 60.0}).passed
    assert not quality_gate({"rmse": float("nan")}, {}, {"rmse": 60.0}).passed


def test_multiclass_metrics_and_confusion_use_the_class_names() -> None:
    classes = ["setosa", "versicolor", "virginica"]
    y = np.array(classes * 20, dtype=object)
    proba = np.tile(np.eye(3) * 0.8 + 0.1 / 1.5, (20, 1))
    metrics = multiclass_metrics(y, proba, classes)
    assert set(metrics) == {"accuracy", "balanced_accuracy", "macro_f1", "log_loss"}
    assert metrics["accuracy"] == 1.0
    shuffled = multiclass_metrics(np.roll(y, 1), proba, classes)
    assert shuffled["accuracy"] == 0.0
    assert shuffled["log_loss"] > metrics["log_loss"]
    confusion = multiclass_plots(y, proba, classes)["confusion"]
    assert {row["actual"] for row in confusion} == set(classes)


def test_regression_metrics_are_in_the_target_unit_and_the_plots_show_residuals() -> None:
    y = np.arange(300, dtype=float)
    predicted = y + 2.0
    metrics = regression_metrics(y, predicted)
    assert metrics["rmse"] == 2.0
    assert metrics["mae"] == 2.0
    assert 0.99 < metrics["r2"] < 1.0
    plots = regression_plots(y, predicted)
    assert set(plots) == {"predicted_vs_actual", "residuals"}
    assert len(plots["residuals"]) <= MAX_CURVE_POINTS
    assert {row["residual"] for row in plots["residuals"]} == {-2.0}
