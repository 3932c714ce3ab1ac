"""The BentoML designs the service did not choose, kept so `serving.py --designs` can re-measure them.

- `PlainSync`: what the BentoML docs show first: sync `@bentoml.api` methods, run in
  BentoML's thread pool, one model call per request.
- `AdaptiveBatching`: BentoML's own batching (`batchable=True`): the dispatcher merges
  concurrent requests' record lists along their first axis under a latency budget.
  Its endpoint takes a list, so a single row is sent as a one-record batch.

Both use the same request model, Predictor and settings (params.yaml `serve`) as the service.
"""

from __future__ import annotations

import os
from pathlib import Path

import bentoml
from threadpoolctl import threadpool_limits

from mlops_template.params import load_params
from mlops_template.serving.predictor import Predictor
from mlops_template.serving.registry import load_registered
from mlops_template.serving.request import BatchPrediction, Prediction, record_model, records_to_columns

SETTINGS = load_params(Path(os.environ.get("MLOPS_PARAMS", "params.yaml"))).serve
Record = record_model()
TRAFFIC = {"timeout": SETTINGS.timeout_seconds, "max_concurrency": SETTINGS.max_concurrency}


def _predictor(stored: object) -> Predictor:
    threadpool_limits(1)
    return load_registered(stored)


@bentoml.service(workers=SETTINGS.workers, traffic=TRAFFIC)
class PlainSync:
    model_ref = bentoml.models.BentoModel(f"{SETTINGS.model_name}:latest")

    def __init__(self) -> None:
        self.predictor = _predictor(self.model_ref)

    @bentoml.api
    def predict(self, record: Record, /) -> Prediction:  # type: ignore[valid-type]
        (probability,) = self.predictor.predict(records_to_columns([record]))
        return self.predictor.answer(probability)

    @bentoml.api
    def predict_batch(self, records: list[Record]) -> BatchPrediction:  # type: ignore[valid-type]
        return self.predictor.answer_batch(self.predictor.predict(records_to_columns(records)))


@bentoml.service(workers=SETTINGS.workers, traffic=TRAFFIC)
class AdaptiveBatching:
    model_ref = bentoml.models.BentoModel(f"{SETTINGS.model_name}:latest")

    def __init__(self) -> None:
        self.predictor = _predictor(self.model_ref)

    @bentoml.api(batchable=True, max_batch_size=SETTINGS.coalesce_rows or 1000, max_latency_ms=1000)
    def predict_batch(self, records: list[Record]) -> list[float]:  # type: ignore[valid-type]
        return [float(p) for p in self.predictor.predict(records_to_columns(records))]
