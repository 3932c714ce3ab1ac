"""The model's side: score distributions (prediction drift) and, with labels, performance drift.

What a "score" is follows the task: the positive label's probability (binary), the predicted
class (multi-class: its shares are compared, as a category), the predicted value (regression).

The reference scores are the model's scores on the *test* split, not on the train split
the features are compared with: a model scores its own training rows more confidently
than new ones, so train-split scores would differ from any fresh batch and raise false
alarms. The current scores are the probabilities the service logged, when the batch is
the inference log, otherwise the model's scores on the cleaned batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from mlops_template import task_metrics
from mlops_template.drift.columns import PREDICTION, FeatureSpec
from mlops_template.drift.compare import PerformanceResult
from mlops_template.metric_names import LOWER_IS_BETTER
from mlops_template.model_files import ModelCard, load_model
from mlops_template.params import Params, ParamsError

Scorer = Callable[[pd.DataFrame], np.ndarray]
# The metric performance drift follows when `drift.performance.metric` is empty.
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}


@dataclass
class ModelScores:
    card: ModelCard | None = None
    scorer: Scorer | None = None
    reference: np.ndarray | None = None
    reference_labels: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def load_scores(params: Params, reference: pd.DataFrame) -> ModelScores:
    """The model and its scores on held-out reference rows; notes say what was not possible."""
    if not params.drift.prediction.enabled:
        return ModelScores(notes=["prediction drift is switched off (drift.prediction.enabled)"])
    try:
        model, card = load_model(params.paths.model_dir)
    except FileNotFoundError:
        return ModelScores(notes=[f"no model in {params.paths.model_dir}: prediction and performance drift skipped"])

    scorer = _scorer(model, card)
    if params.paths.test.exists():
        held_out = pd.read_parquet(params.paths.test)
        note = []
    else:
        held_out = reference
        note = [f"{params.paths.test} is missing: reference scores are on the train split (optimistic)"]
    labels = truth(card, held_out[card.target]) if card.target in held_out else None
    return ModelScores(card, scorer, scorer(held_out), labels, note)


def _scorer(model: Pipeline, card: ModelCard) -> Scorer:
    def scorer(frame: pd.DataFrame) -> np.ndarray:
        features = frame[card.features]
        if card.task == "regression":
            return np.asarray(model.predict(features), dtype=float)
        proba = model.predict_proba(features)
        if card.task == "multiclass":  # the predicted class, as its code in card.labels
            return np.asarray(proba.argmax(axis=1), dtype=np.int64)
        return np.asarray(proba[:, 1], dtype=float)

    return scorer


def score_spec(card: ModelCard, weight: float) -> FeatureSpec:
    """The prediction as a pseudo-feature: a number (a probability or a value) or a category."""
    if card.task == "multiclass":
        return FeatureSpec(PREDICTION, "category", tuple(card.labels), weight=weight)
    return FeatureSpec(PREDICTION, "score", weight=weight)


def truth(card: ModelCard, labels: pd.Series) -> np.ndarray:
    """The target as the task's metrics want it (raw spellings are cleaned by the caller)."""
    if card.task == "regression":
        return labels.astype(float).to_numpy()
    if card.task == "multiclass":
        return labels.astype(str).to_numpy()
    return labels.astype(bool).to_numpy().astype(int)


def performance_metric(params: Params, card: ModelCard) -> str:
    """`drift.performance.metric`, or the task's own when empty; it must be a metric of the task."""
    metric = params.drift.performance.metric or DEFAULT_METRIC[card.task]
    known = task_metrics.METRIC_NAMES[card.task]
    if metric not in known:
        raise ParamsError(
            f"drift.performance.metric in params.yaml: {metric!r} is not a metric of this {card.task} model; "
            f"known: {', '.join(known)} (or leave it empty for {DEFAULT_METRIC[card.task]})"
        )
    return metric


def _metric(card: ModelCard, metric: str, y: np.ndarray, scores: np.ndarray) -> float:
    if card.task == "regression":
        return task_metrics.regression_metrics(y, scores)[metric]
    if card.task == "multiclass":
        proba = np.eye(len(card.labels))[scores]  # only the predicted class is known here
        return task_metrics.multiclass_metrics(y, proba, card.labels)[metric]
    return task_metrics.binary_metrics(y, scores, 0.5)[metric]


def reference_metric(params: Params, scores: ModelScores, metric: str) -> float | None:
    """The metric the pipeline's evaluate stage measured on the test split (or recomputed)."""
    path = params.paths.metrics
    if path.exists():
        value = json.loads(path.read_text(encoding="utf-8")).get(metric)
        if isinstance(value, int | float):
            return float(value)
    if scores.card is not None and scores.reference is not None and scores.reference_labels is not None:
        return _metric(scores.card, metric, scores.reference_labels, scores.reference)
    return None


def performance(
    params: Params,
    scores: ModelScores,
    labels: pd.Series,
    current_scores: np.ndarray,
) -> tuple[PerformanceResult | None, str | None]:
    """Performance on the labelled rows of the batch against the test split's; None + why when not possible."""
    settings = params.drift.performance
    card = scores.card
    assert card is not None
    metric = performance_metric(params, card)
    known = labels.notna().to_numpy()
    if known.sum() < params.drift.min_values:
        return None, f"{int(known.sum())} labelled rows, fewer than drift.min_values: performance not checked"
    y = truth(card, labels[known])
    if card.task != "regression" and len(np.unique(y)) < 2:
        return None, "the labelled rows hold one class only: performance not checked"
    ref_value = reference_metric(params, scores, metric)
    if ref_value is None:
        return None, f"no reference {metric} ({params.paths.metrics} missing): performance not checked"
    binary = card.task == "binary"
    positive_ref = float(scores.reference_labels.mean()) if binary and scores.reference_labels is not None else None
    return (
        PerformanceResult(
            metric=metric,
            reference=ref_value,
            current=float(_metric(card, metric, y, current_scores[known])),
            labelled_rows=int(known.sum()),
            positive_rate_reference=positive_ref,
            positive_rate_current=float(y.mean()) if binary else None,
            max_drop=settings.max_drop,
            weight=settings.weight,
            lower_is_better=metric in LOWER_IS_BETTER,
            positive_label=f"{card.target} = {card.labels[-1]}" if binary and card.labels else "positive",
        ),
        None,
    )
