"""The service's own Prometheus metrics, next to BentoML's request metrics on /metrics.

Through `bentoml.metrics`, which BentoML sets up for its worker processes (importing
prometheus_client here would break its multi-process collection). The alert rules in
deploy/monitoring/ read them:

- `mlops_predictions_total{label, model_version}`: predictions by class ("positive" at or
  above the decision threshold): the live positive share;
- `mlops_model_train_positive_rate{model_version}`: the positive rate of the data the model
  was trained on (its model card), the share to compare with;
- `mlops_inference_log_written_rows_total` and `mlops_inference_log_dropped_rows_total`:
  what reached the log store, and what the bounded buffer had to drop (logstore/buffer.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import bentoml
import numpy as np

from mlops_template.model_files import CARD_FILE

PREDICTIONS = bentoml.metrics.Counter(
    name="mlops_predictions",
    documentation="Predictions by class at the decision threshold",
    labelnames=["label", "model_version"],
)
TRAIN_POSITIVE_RATE = bentoml.metrics.Gauge(
    name="mlops_model_train_positive_rate",
    documentation="Positive rate of the training data of the model being served (its model card)",
    labelnames=["model_version"],
    multiprocess_mode="max",
)
LOG_WRITTEN_ROWS = bentoml.metrics.Counter(
    name="mlops_inference_log_written_rows",
    documentation="Predictions written to the inference log store",
)
LOG_DROPPED_ROWS = bentoml.metrics.Counter(
    name="mlops_inference_log_dropped_rows",
    documentation="Predictions dropped from the inference log: the buffer was full (storage down or too slow)",
)


def count_predictions(labels: np.ndarray, model_version: str) -> None:
    """Binary: positive and negative answers; multi-class: answers per class; regression: answers."""
    if labels.dtype != np.bool_:
        names = labels.astype(str) if labels.dtype == object else np.full(len(labels), "value")
        for name, count in zip(*np.unique(names, return_counts=True), strict=True):
            PREDICTIONS.labels(label=str(name), model_version=model_version).inc(int(count))
        return
    positive = int(np.count_nonzero(labels))
    if positive:
        PREDICTIONS.labels(label="positive", model_version=model_version).inc(positive)
    if len(labels) - positive:
        PREDICTIONS.labels(label="negative", model_version=model_version).inc(len(labels) - positive)


def publish_model(model_dir: Path, model_version: str) -> None:
    """The served model's training positive rate, read off its card (absent: not published)."""
    path = model_dir / CARD_FILE
    if path.exists():
        rate = json.loads(path.read_text(encoding="utf-8")).get("train_positive_rate")
        if isinstance(rate, int | float):
            TRAIN_POSITIVE_RATE.labels(model_version=model_version).set(float(rate))
