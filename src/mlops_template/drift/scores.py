"""The model's side: score distributions (prediction drift) and, with labels, performance drift.

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
from sklearn.metrics import average_precision_score, roc_auc_score

from mlops_template.drift.compare import PerformanceResult
from mlops_template.model_files import ModelCard, load_model
from mlops_template.params import Params

Scorer = Callable[[pd.DataFrame], np.ndarray]
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "roc_auc": roc_auc_score,
    "pr_auc": average_precision_score,
}


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

    def scorer(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_proba(frame[card.features])[:, 1], dtype=float)

    if params.paths.test.exists():
        held_out = pd.read_parquet(params.paths.test)
        note = []
    else:
        held_out = reference
        note = [f"{params.paths.test} is missing: reference scores are on the train split (optimistic)"]
    labels = held_out[card.target].astype(int).to_numpy() if card.target in held_out else None
    return ModelScores(card, scorer, scorer(held_out), labels, note)


def reference_metric(params: Params, scores: ModelScores, metric: str) -> float | None:
    """The metric the pipeline's evaluate stage measured on the test split (or recomputed)."""
    path = params.paths.metrics
    if path.exists():
        value = json.loads(path.read_text(encoding="utf-8")).get(metric)
        if isinstance(value, int | float):
            return float(value)
    if scores.reference is not None and scores.reference_labels is not None:
        return float(METRICS[metric](scores.reference_labels, scores.reference))
    return None


def performance(
    params: Params,
    scores: ModelScores,
    labels: pd.Series,
    current_scores: np.ndarray,
) -> tuple[PerformanceResult | None, str | None]:
    """Performance on the labelled rows of the batch against the test split's; None + why when not possible."""
    settings = params.drift.performance
    known = labels.notna().to_numpy()
    if known.sum() < params.drift.min_values:
        return None, f"{int(known.sum())} labelled rows, fewer than drift.min_values: performance not checked"
    y = labels[known].astype(bool).to_numpy().astype(int)
    if len(np.unique(y)) < 2:
        return None, "the labelled rows hold one class only: performance not checked"
    ref_value = reference_metric(params, scores, settings.metric)
    if ref_value is None:
        return None, f"no reference {settings.metric} ({params.paths.metrics} missing): performance not checked"
    positive_ref = float(scores.reference_labels.mean()) if scores.reference_labels is not None else None
    return (
        PerformanceResult(
            metric=settings.metric,
            reference=ref_value,
            current=float(METRICS[settings.metric](y, current_scores[known])),
            labelled_rows=int(known.sum()),
            positive_rate_reference=positive_ref,
            positive_rate_current=float(y.mean()),
            max_drop=settings.max_drop,
            weight=settings.weight,
        ),
        None,
    )
