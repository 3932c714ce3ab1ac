"""Metrics, plot data and the model-quality gate."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_template.evaluate import MAX_CURVE_POINTS, classification_metrics, plot_data, quality_gate
from mlops_template.params import ParamsError


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
    plots = plot_data(*scores, threshold=0.35, bins=10)
    assert set(plots) == {"roc", "precision_recall", "confusion", "calibration"}
    assert len(plots["roc"]) <= MAX_CURVE_POINTS
    assert set(plots["roc"][0]) == {"fpr", "tpr"}
    assert len(plots["confusion"]) == len(scores[0])
    assert {row["actual"] for row in plots["confusion"]} == {"churn", "stay"}
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
